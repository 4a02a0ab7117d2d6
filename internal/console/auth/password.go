package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters passwords are hashed with.
type Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB of memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key (the stored hash)
}

// DefaultParams are the second recommended option of RFC 9106 section 4
// (for when 2 GiB per hash is too much): argon2id with t=3 passes over
// m=64 MiB in p=4 lanes, a 128-bit salt and a 256-bit tag. One hash takes
// about 250 ms on a 2-vCPU virtual machine (BenchmarkHashDefault), which
// bounds an offline guessing attack on a stolen database; the console
// limits how many hashes run at once (Options.MaxHashing) so logins
// cannot exhaust its memory.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 4, SaltLen: 16, KeyLen: 32}

// Limits on the parameters a stored hash may carry; a hash outside them
// is rejected rather than computed, so a tampered users table cannot make
// a login allocate gigabytes.
const (
	maxTime    = 16
	maxMemory  = 1 << 20 // 1 GiB
	maxThreads = 64
)

// Password rules: NIST SP 800-63B section 5.1.1 asks for a minimum length
// and no composition rules.
const (
	MinPasswordLen = 12   // characters
	MaxPasswordLen = 1024 // bytes
)

// Errors of password handling.
var (
	// ErrWeakPassword: the password breaks the rules of CheckPassword.
	ErrWeakPassword = errors.New("auth: password rejected")
	// ErrBadHash: a stored hash is not an argon2id hash this package can
	// check.
	ErrBadHash = errors.New("auth: malformed password hash")
)

// CheckPassword reports whether password may be set for user: at least
// MinPasswordLen characters, at most MaxPasswordLen bytes, valid UTF-8
// and not the user name.
func CheckPassword(user, password string) error {
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: not UTF-8", ErrWeakPassword)
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Errorf("%w: shorter than %d characters", ErrWeakPassword, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrWeakPassword, MaxPasswordLen)
	case strings.EqualFold(password, user):
		return fmt.Errorf("%w: same as the user name", ErrWeakPassword)
	}
	return nil
}

// GeneratePassword returns a random password of 26 characters with 128
// bits of entropy (crypto/rand.Text).
func GeneratePassword() string { return rand.Text() }

// Hash hashes password with p and returns it in the PHC string format
// "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>" (unpadded standard
// base64), the form the argon2 reference implementation prints.
func (p Params) Hash(password string) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

func (p Params) check() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: argon2id time %d outside 1..%d", ErrBadHash, p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: argon2id parallelism %d outside 1..%d", ErrBadHash, p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("%w: argon2id memory %d KiB outside %d..%d", ErrBadHash, p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < 8 || p.SaltLen > 64:
		return fmt.Errorf("%w: salt of %d bytes (want 8 to 64)", ErrBadHash, p.SaltLen)
	case p.KeyLen < 16 || p.KeyLen > 64:
		return fmt.Errorf("%w: hash of %d bytes (want 16 to 64)", ErrBadHash, p.KeyLen)
	}
	return nil
}

// ParseHash decodes a PHC-format argon2id hash into its parameters, salt
// and key.
func ParseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrBadHash)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: argon2 version %q (want v=%d)", ErrBadHash, parts[2], argon2.Version)
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) != parts[3] || threads > maxThreads {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	p.Threads = uint8(threads)
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt: %v", ErrBadHash, err)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash: %v", ErrBadHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return p, nil, nil, err
	}
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the PHC-format argon2id
// hash encoded, comparing the derived keys in constant time. It returns
// the hash's parameters so a caller can rehash with current ones.
func VerifyPassword(encoded, password string) (bool, Params, error) {
	p, salt, key, err := ParseHash(encoded)
	if err != nil {
		return false, p, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}
