package sysdescr

// osWords are words that name an operating system in a free-text system
// description.
var osWords = [...]string{"linux", "windows", "ios", "ios-xe", "ios-xr", "nx-os", "junos", "freebsd",
	"openbsd", "netbsd", "darwin", "vxworks", "routeros", "qnx", "android", "unix", "sunos", "solaris",
	"aix", "hp-ux", "fortios", "pan-os", "eos", "ubuntu", "debian", "centos", "openwrt", "freertos",
	"zephyr", "arubaos", "comware", "opnsense", "pfsense"}

// NamesOS reports whether a description names an operating system: one of
// its words (letters, digits and '-') is an operating system's name,
// compared without case. It does not allocate.
func NamesOS(b []byte) bool {
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

// equalFold reports whether b equals the lower-case s, ignoring the case
// of b's ASCII letters.
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
