package ftp

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

const (
	maxLine    = 2048 // longest command or reply line decoded
	maxArg     = 256  // argument bytes kept (file names, user names)
	maxPending = 8    // commands waiting for their final reply
)

// Errors for malformed lines.
var (
	errLongLine = errors.New("ftp: line too long")
	errCommand  = errors.New("ftp: bad command")
	errReply    = errors.New("ftp: bad reply")
)

// Kinds of command argument.
const (
	argNone = iota
	argFile
	argDirectory
	argUser
	argPassword
	argPort // PORT / EPRT address
)

// command describes one FTP command.
type command struct {
	verb  string
	name  string
	class dissect.Class
	arg   int
}

// commands lists the commands of RFC 959 section 4.1 and the extensions.
var commands = [...]command{
	{"USER", "user", dissect.ClassAuthentication, argUser},
	{"PASS", "pass", dissect.ClassAuthentication, argPassword},
	{"ACCT", "acct", dissect.ClassAuthentication, argNone},
	{"AUTH", "auth", dissect.ClassAuthentication, argNone},
	{"RETR", "retr", dissect.ClassFile, argFile},
	{"STOR", "stor", dissect.ClassFile, argFile},
	{"STOU", "stou", dissect.ClassFile, argFile},
	{"APPE", "appe", dissect.ClassFile, argFile},
	{"DELE", "dele", dissect.ClassFile, argFile},
	{"RNFR", "rnfr", dissect.ClassFile, argFile},
	{"RNTO", "rnto", dissect.ClassFile, argFile},
	{"SIZE", "size", dissect.ClassFile, argFile},
	{"MDTM", "mdtm", dissect.ClassFile, argFile},
	{"CWD", "cwd", dissect.ClassFile, argDirectory},
	{"XCWD", "cwd", dissect.ClassFile, argDirectory},
	{"CDUP", "cdup", dissect.ClassFile, argNone},
	{"XCUP", "cdup", dissect.ClassFile, argNone},
	{"MKD", "mkd", dissect.ClassFile, argDirectory},
	{"XMKD", "mkd", dissect.ClassFile, argDirectory},
	{"RMD", "rmd", dissect.ClassFile, argDirectory},
	{"XRMD", "rmd", dissect.ClassFile, argDirectory},
	{"PWD", "pwd", dissect.ClassFile, argNone},
	{"XPWD", "pwd", dissect.ClassFile, argNone},
	{"LIST", "list", dissect.ClassFile, argDirectory},
	{"NLST", "nlst", dissect.ClassFile, argDirectory},
	{"MLSD", "mlsd", dissect.ClassFile, argDirectory},
	{"MLST", "mlst", dissect.ClassFile, argFile},
	{"PORT", "port", dissect.ClassOther, argPort},
	{"EPRT", "eprt", dissect.ClassOther, argPort},
	{"PASV", "pasv", dissect.ClassOther, argNone},
	{"EPSV", "epsv", dissect.ClassOther, argNone},
	{"TYPE", "type", dissect.ClassOther, argNone},
	{"MODE", "mode", dissect.ClassOther, argNone},
	{"STRU", "stru", dissect.ClassOther, argNone},
	{"REST", "rest", dissect.ClassOther, argNone},
	{"ALLO", "allo", dissect.ClassOther, argNone},
	{"ABOR", "abor", dissect.ClassOther, argNone},
	{"SYST", "syst", dissect.ClassDiscovery, argNone},
	{"FEAT", "feat", dissect.ClassDiscovery, argNone},
	{"HELP", "help", dissect.ClassDiscovery, argNone},
	{"STAT", "stat", dissect.ClassDiscovery, argNone},
	{"OPTS", "opts", dissect.ClassOther, argNone},
	{"NOOP", "noop", dissect.ClassOther, argNone},
	{"SITE", "site", dissect.ClassControl, argNone},
	{"REIN", "rein", dissect.ClassOther, argNone},
	{"QUIT", "quit", dissect.ClassOther, argNone},
	{"PBSZ", "pbsz", dissect.ClassOther, argNone},
	{"PROT", "prot", dissect.ClassOther, argNone},
	{"CCC", "ccc", dissect.ClassOther, argNone},
}

var otherCommand = command{"", "other", dissect.ClassOther, argNone}

// lookup returns the command for verb (any case), otherCommand for an
// unknown verb of 3 or 4 letters, and false for anything else.
func lookup(verb []byte) (*command, bool) {
	if len(verb) < 3 || len(verb) > 4 {
		return nil, false
	}
	for i := range commands {
		if bytes.EqualFold(verb, []byte(commands[i].verb)) {
			return &commands[i], true
		}
	}
	for _, c := range verb {
		if c|0x20 < 'a' || c|0x20 > 'z' {
			return nil, false
		}
	}
	return &otherCommand, true
}

// replyCode parses the three-digit code at the start of a reply line and
// its separator (' ' for a last line, '-' for the first of several; RFC
// 959 section 4.2).
func replyCode(line []byte) (code int, sep byte, ok bool) {
	if len(line) < 3 {
		return 0, 0, false
	}
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	if line[0] < '1' || line[0] > '5' {
		return 0, 0, false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	sep = ' '
	if len(line) > 3 {
		sep = line[3]
	}
	return code, sep, sep == ' ' || sep == '-'
}

// replyName names common reply codes (RFC 959 section 4.2.2).
func replyName(code int) string {
	switch code {
	case 200:
		return "command_ok"
	case 220:
		return "service_ready"
	case 221:
		return "closing_control_connection"
	case 226:
		return "closing_data_connection"
	case 227:
		return "entering_passive_mode"
	case 229:
		return "entering_extended_passive_mode"
	case 230:
		return "user_logged_in"
	case 234:
		return "security_data_exchange_complete"
	case 250:
		return "file_action_ok"
	case 257:
		return "pathname_created"
	case 331:
		return "need_password"
	case 332:
		return "need_account"
	case 350:
		return "pending_further_information"
	case 421:
		return "service_not_available"
	case 425:
		return "cannot_open_data_connection"
	case 426:
		return "transfer_aborted"
	case 450:
		return "file_unavailable"
	case 451:
		return "local_error"
	case 452:
		return "insufficient_storage"
	case 500:
		return "syntax_error"
	case 501:
		return "syntax_error_in_arguments"
	case 502:
		return "command_not_implemented"
	case 503:
		return "bad_sequence_of_commands"
	case 504:
		return "parameter_not_implemented"
	case 530:
		return "not_logged_in"
	case 532:
		return "need_account_for_storing"
	case 550:
		return "file_unavailable"
	case 551:
		return "page_type_unknown"
	case 552:
		return "exceeded_storage_allocation"
	case 553:
		return "file_name_not_allowed"
	}
	return ""
}

// hostPort formats the six numbers "h1,h2,h3,h4,p1,p2" of PORT and of the
// 227 reply (RFC 959 section 4.1.2) as "h1.h2.h3.h4:port".
func hostPort(b []byte) (string, bool) {
	var v [6]int
	i := 0
	for _, part := range bytes.Split(b, []byte(",")) {
		if i == 6 {
			return "", false
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(part)))
		if err != nil || n < 0 || n > 255 {
			return "", false
		}
		v[i] = n
		i++
	}
	if i != 6 {
		return "", false
	}
	return strconv.Itoa(v[0]) + "." + strconv.Itoa(v[1]) + "." + strconv.Itoa(v[2]) + "." + strconv.Itoa(v[3]) + ":" + strconv.Itoa(v[4]<<8|v[5]), true
}

// extendedPort parses "<d>proto<d>addr<d>port<d>" of EPRT and the 229 reply
// (RFC 2428) and returns "addr:port" (or ":port" without an address).
func extendedPort(b []byte) (string, bool) {
	if len(b) < 5 {
		return "", false
	}
	parts := bytes.Split(b[1:len(b)-1], b[:1])
	if len(parts) != 3 || b[len(b)-1] != b[0] {
		return "", false
	}
	port, err := strconv.Atoi(string(parts[2]))
	if err != nil || port <= 0 || port > 65535 {
		return "", false
	}
	addr := string(parts[1])
	if bytes.IndexByte(parts[1], ':') >= 0 {
		addr = "[" + addr + "]"
	}
	return addr + ":" + strconv.Itoa(port), true
}

// passivePort returns the data address of a 227 or 229 reply text.
func passivePort(code int, text []byte) (string, bool) {
	open := bytes.IndexByte(text, '(')
	end := bytes.LastIndexByte(text, ')')
	if code == 227 && (open < 0 || end < open) {
		// RFC 1123 section 4.1.2.6: the numbers may appear without
		// parentheses; take the first digit run.
		start := bytes.IndexAny(text, "0123456789")
		if start < 0 {
			return "", false
		}
		stop := start
		for stop < len(text) && (text[stop] == ',' || text[stop] >= '0' && text[stop] <= '9') {
			stop++
		}
		return hostPort(text[start:stop])
	}
	if open < 0 || end < open {
		return "", false
	}
	if code == 227 {
		return hostPort(text[open+1 : end])
	}
	return extendedPort(text[open+1 : end])
}

// bannerProduct finds a product name and version in a 220 greeting:
// the first word that looks like a version (a digit, a dot) and the word
// before it ("ProFTPD 1.3.5", "(vsFTPd 3.0.3)", "VxWorks (5.4.2)"), or a
// "name/version" or "name_version" word.
func bannerProduct(text string) (product, version string) {
	words := bytes.Fields([]byte(text))
	clean := func(w []byte) string { return string(bytes.Trim(w, "()[],;:")) }
	isVersion := func(w string) bool {
		return len(w) > 1 && w[0] >= '0' && w[0] <= '9' && bytes.IndexByte([]byte(w), '.') > 0
	}
	for i, w := range words {
		c := clean(w)
		for _, sep := range []byte{'/', '_'} {
			if j := bytes.IndexByte([]byte(c), sep); j > 0 && isVersion(c[j+1:]) {
				return c[:j], c[j+1:]
			}
		}
		if isVersion(c) && i > 0 {
			if p := clean(words[i-1]); p != "" && (p[0] < '0' || p[0] > '9') {
				return p, c
			}
		}
	}
	return "", ""
}
