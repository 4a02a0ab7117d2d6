package snmp

// osWords are words that name an operating system in a free-text system
// description ("Cisco IOS Software", "Linux 5.10", "Windows").
var osWords = [...]string{"linux", "windows", "ios", "ios-xe", "ios-xr", "nx-os", "junos", "freebsd",
	"openbsd", "netbsd", "darwin", "vxworks", "routeros", "qnx", "android", "unix", "sunos", "solaris",
	"aix", "hp-ux", "fortios", "pan-os", "eos", "ubuntu", "debian", "centos", "openwrt", "freertos",
	"zephyr", "arubaos", "comware", "opnsense", "pfsense"}

// looksLikeOS reports whether a description names an operating system:
// one of its words (letters, digits and '-') is in osWords, compared
// without case.
func looksLikeOS(b []byte) bool {
	for i := 0; i < len(b); {
		for i < len(b) && !wordByte(b[i]) {
			i++
		}
		j := i
		for j < len(b) && wordByte(b[j]) {
			j++
		}
		if w := b[i:j]; len(w) > 1 {
			for _, o := range osWords {
				if equalFold(w, o) {
					return true
				}
			}
		}
		i = j
	}
	return false
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(s) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
