package dissecttest

// BER encodes one element by ITU-T X.690's basic encoding rules,
// independently of any decoder: the identifier octet id, the definite
// length (short form below 128, 8.1.3.4; long form 0x81/0x82 above,
// 8.1.3.5) and the contents, the parts concatenated.
func BER(id byte, parts ...[]byte) []byte {
	var v []byte
	for _, p := range parts {
		v = append(v, p...)
	}
	out := []byte{id}
	switch n := len(v); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, v...)
}
