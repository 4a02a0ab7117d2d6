package s7comm

// hexCache holds "0x0000".."0x0fff", which covers SZL ids (the low 12
// bits carry the list number and module class) and the usual indexes.
var hexCache [0x1000]string

func init() {
	const digits = "0123456789abcdef"
	for i := range hexCache {
		hexCache[i] = string([]byte{'0', 'x', digits[i>>12&0xf], digits[i>>8&0xf], digits[i>>4&0xf], digits[i&0xf]})
	}
}

func hex16Table(v uint16) string {
	if int(v) < len(hexCache) {
		return hexCache[v]
	}
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>12&0xf], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}
