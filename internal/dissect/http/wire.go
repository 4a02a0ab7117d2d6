package http

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
)

// Limits on what one message may hold before the dissector stops trusting
// its framing.
const (
	maxLine    = 8192 // longest start or header line decoded
	maxTarget  = 256  // request-target bytes kept (longer ones are cut)
	maxValue   = 256  // header value bytes kept (Host, User-Agent, Server)
	maxPending = 8    // pipelined requests waiting for a response
)

// Errors for malformed messages (Result.Text of malformed operations).
var (
	errStartLine   = errors.New("http: bad start line")
	errLongLine    = errors.New("http: line too long")
	errLength      = errors.New("http: bad Content-Length")
	errChunkSize   = errors.New("http: bad chunk size")
	errChunkEnd    = errors.New("http: chunk not followed by CRLF")
	errHeaderField = errors.New("http: header line without a colon")
)

// Request methods (RFC 9110 section 9, RFC 5789 PATCH).
const (
	methodOther = iota
	methodGet
	methodHead
	methodPost
	methodPut
	methodDelete
	methodConnect
	methodOptions
	methodTrace
	methodPatch
	methodPri // HTTP/2 connection preface (RFC 9113 section 3.4)
)

var methodTable = [...]struct {
	wire string
	name string
}{
	methodOther:   {"", "other"},
	methodGet:     {"GET", "get"},
	methodHead:    {"HEAD", "head"},
	methodPost:    {"POST", "post"},
	methodPut:     {"PUT", "put"},
	methodDelete:  {"DELETE", "delete"},
	methodConnect: {"CONNECT", "connect"},
	methodOptions: {"OPTIONS", "options"},
	methodTrace:   {"TRACE", "trace"},
	methodPatch:   {"PATCH", "patch"},
	methodPri:     {"PRI", "pri"},
}

// lookupMethod returns the method constant for the method token b, and
// whether b is a syntactically valid token (RFC 9110 section 5.6.2).
func lookupMethod(b []byte) (int, bool) {
	for i := 1; i < len(methodTable); i++ {
		if string(b) == methodTable[i].wire {
			return i, true
		}
	}
	if len(b) == 0 || len(b) > 32 {
		return methodOther, false
	}
	for _, c := range b {
		if !isTchar(c) {
			return methodOther, false
		}
	}
	return methodOther, true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isTchar reports whether c may appear in a token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// nextLine returns the line at the start of data without its CRLF (or bare
// LF), and how many bytes it spans with the terminator. ok is false when
// data holds no complete line yet; long is true when no line ends within
// maxLine bytes.
func nextLine(data []byte) (line []byte, adv int, ok, long bool) {
	i := bytes.IndexByte(data[:min(len(data), maxLine)], '\n')
	if i < 0 {
		return nil, 0, false, len(data) >= maxLine
	}
	line = data[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + 1, true, false
}

// requestLine splits "method SP request-target SP HTTP-version" (RFC 9112
// section 3).
func requestLine(line []byte) (method int, target []byte, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return 0, nil, false
	}
	m, valid := lookupMethod(line[:sp])
	if !valid {
		return 0, nil, false
	}
	rest := line[sp+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if sp2 <= 0 || !bytes.HasPrefix(rest[sp2+1:], []byte("HTTP/")) {
		return 0, nil, false
	}
	return m, rest[:sp2], true
}

// statusLine parses "HTTP-version SP status-code SP [reason-phrase]"
// (RFC 9112 section 4).
func statusLine(line []byte) (code int, ok bool) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/")) || line[8] != ' ' {
		return 0, false
	}
	c := line[9:12]
	if !isDigit(c[0]) || !isDigit(c[1]) || !isDigit(c[2]) || (len(line) > 12 && line[12] != ' ') {
		return 0, false
	}
	return int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0'), true
}

// headerField splits "name: value" and trims the value's whitespace.
func headerField(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	return line[:i], bytes.Trim(line[i+1:], " \t"), true
}

// parseLength parses a Content-Length value: decimal digits only, the same
// value repeated in a list being allowed (RFC 9110 section 8.6).
func parseLength(v []byte) (int64, bool) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		first, ok := parseLength(bytes.TrimSpace(v[:i]))
		if !ok {
			return 0, false
		}
		rest, ok := parseLength(bytes.TrimSpace(v[i+1:]))
		return first, ok && rest == first
	}
	if len(v) == 0 || len(v) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseChunkSize parses a chunk-size line, ignoring chunk extensions (RFC
// 9112 section 7.1).
func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 12 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds token t,
// ignoring case.
func hasToken(v []byte, t string) bool {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		item := v
		if i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if bytes.EqualFold(bytes.TrimSpace(item), []byte(t)) {
			return true
		}
	}
	return false
}

// Authentication schemes (RFC 9110 section 11, IANA registry).
var authSchemes = [...]string{"basic", "digest", "ntlm", "negotiate", "bearer"}

// authScheme returns the scheme of a credentials value as a constant
// string ("other" for an unregistered one) and the rest of the value.
func authScheme(v []byte) (string, []byte) {
	sp := bytes.IndexByte(v, ' ')
	name, rest := v, []byte(nil)
	if sp >= 0 {
		name, rest = v[:sp], bytes.TrimSpace(v[sp+1:])
	}
	for _, s := range authSchemes {
		if bytes.EqualFold(name, []byte(s)) {
			return s, rest
		}
	}
	return "other", rest
}

// basicUser decodes Basic credentials (RFC 7617 section 2) into buf and
// returns the user-id: the part before the first colon. The password is
// never returned.
func basicUser(token []byte, buf []byte) ([]byte, bool) {
	if base64.StdEncoding.DecodedLen(len(token)) > len(buf) {
		return nil, false
	}
	n, err := base64.StdEncoding.Decode(buf, token)
	if err != nil {
		return nil, false
	}
	i := bytes.IndexByte(buf[:n], ':')
	if i < 0 {
		return nil, false
	}
	return buf[:i], true
}

// serverProduct splits the first product token of a Server header
// ("Apache/2.4.41 (Ubuntu)", RFC 9110 section 10.2.4) into the product
// name and its version.
func serverProduct(v string) (product, version string) {
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	product, version, _ = strings.Cut(v, "/")
	return product, version
}

// reasonName returns the snake_case name of common status codes (RFC 9110
// section 15), or "".
func reasonName(code int) string {
	switch code {
	case 200:
		return "ok"
	case 201:
		return "created"
	case 204:
		return "no_content"
	case 206:
		return "partial_content"
	case 301:
		return "moved_permanently"
	case 302:
		return "found"
	case 303:
		return "see_other"
	case 304:
		return "not_modified"
	case 307:
		return "temporary_redirect"
	case 308:
		return "permanent_redirect"
	case 400:
		return "bad_request"
	case 401:
		return "unauthorized"
	case 403:
		return "forbidden"
	case 404:
		return "not_found"
	case 405:
		return "method_not_allowed"
	case 407:
		return "proxy_authentication_required"
	case 408:
		return "request_timeout"
	case 413:
		return "content_too_large"
	case 500:
		return "internal_server_error"
	case 501:
		return "not_implemented"
	case 502:
		return "bad_gateway"
	case 503:
		return "service_unavailable"
	case 504:
		return "gateway_timeout"
	}
	return ""
}

// interner turns short byte strings into strings, reusing the last few so
// that a connection repeating the same values allocates nothing.
type interner struct {
	s    [4]string
	next int
}

func (in *interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for _, s := range in.s {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	in.s[in.next] = s
	in.next = (in.next + 1) % len(in.s)
	return s
}
