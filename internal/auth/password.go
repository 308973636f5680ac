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

// argonParams are argon2id's costs. OWASP's minimum (19 MiB, two passes,
// one lane) keeps a login near 50 ms on one core of a small server, so a
// burst of logins cannot starve serve's two cores, while a stolen hash
// still costs an attacker 19 MiB and two passes per guess.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// params is what HashPassword uses; tests of this package lower it.
var params = argonParams{memory: 19 * 1024, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Limits on the parameters CheckPassword accepts from a stored hash: a
// hash written into the store by hand cannot make a login allocate
// gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	maxThreads = 16
)

// MinPasswordLen is the shortest password jobctl accepts for an account.
const MinPasswordLen = 8

// maxPasswordLen bounds what is hashed: argon2 takes any length, but a
// megabyte of "password" in a login form is not one.
const maxPasswordLen = 1024

// CheckNewPassword refuses a password too short (or absurdly long) to
// set on an account.
func CheckNewPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case pw == "":
		return errors.New("empty password")
	case n < MinPasswordLen:
		return fmt.Errorf("password too short: at least %d characters", MinPasswordLen)
	case len(pw) > maxPasswordLen:
		return fmt.Errorf("password too long: at most %d bytes", maxPasswordLen)
	}
	return nil
}

// HashPassword hashes pw with argon2id and a random 16-byte salt, in the
// PHC string format "$argon2id$v=19$m=...,t=...,p=...$salt$hash", which
// carries its parameters: raising them later leaves old hashes checkable.
func HashPassword(pw string) (string, error) {
	if len(pw) > maxPasswordLen {
		return "", fmt.Errorf("password too long: at most %d bytes", maxPasswordLen)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return encodeHash(params, salt, argon2.IDKey([]byte(pw), salt, params.time, params.memory, params.threads, keyLen)), nil
}

func encodeHash(p argonParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword reports whether pw matches hash, comparing the derived
// keys in constant time. A hash it cannot read is no match.
func CheckPassword(hash, pw string) bool {
	p, salt, key, err := decodeHash(hash)
	if err != nil || len(pw) > maxPasswordLen {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

func decodeHash(hash string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("argon2 version %q", parts[2])
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 parameters %q", parts[3])
	}
	if p.memory == 0 || p.memory > maxMemory || p.time == 0 || p.time > maxTime || threads == 0 || threads > maxThreads {
		return p, nil, nil, fmt.Errorf("argon2 parameters out of range: %q", parts[3])
	}
	p.threads = uint8(threads)
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("bad salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("bad key")
	}
	return p, salt, key, nil
}
