package store

import (
	"crypto/rand"
	"strings"
	"time"
)

// IDPrefix starts every job ID.
const IDPrefix = "job_"

// crockford is ULID's base32 alphabet in lower case; the schemas' id defaults
// use the same one, so IDs made in Go and in SQL sort together.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns "job_" and a lower-case ULID: 10 characters of millisecond
// time, then 16 of randomness, so IDs sort by creation time.
func NewID(now time.Time) string {
	var b [4 + 26]byte
	copy(b[:], IDPrefix)
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[4+i] = crockford[ms&31]
		ms >>= 5
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	for i, r := range rnd {
		b[14+i] = crockford[r&31]
	}
	return string(b[:])
}

// NormalizeID accepts an ID with or without its "job_" prefix.
func NormalizeID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || strings.HasPrefix(id, IDPrefix) {
		return id
	}
	return IDPrefix + id
}
