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

// IDSeq makes IDs that sort in the order they are made, even many within
// one millisecond (ULID's monotonic mode: the random part of the previous
// ID plus one). A bulk insert's jobs so list in input order, and its rows
// go to the end of the primary key's index instead of landing at random
// places in it, which made a large load slower per row as it grew.
type IDSeq struct {
	ms   uint64
	last [26]byte
}

// Next returns an ID after every ID s made before.
func (s *IDSeq) Next(now time.Time) string {
	ms := uint64(now.UnixMilli())
	if s.ms == 0 || ms > s.ms {
		id := NewID(now)
		s.ms = ms
		copy(s.last[:], id[len(IDPrefix):])
		return id
	}
	for i := len(s.last) - 1; i >= 10; i-- {
		d := strings.IndexByte(crockford, s.last[i])
		if d < len(crockford)-1 {
			s.last[i] = crockford[d+1]
			break
		}
		s.last[i] = crockford[0]
	}
	return IDPrefix + string(s.last[:])
}

// NormalizeID accepts an ID with or without its "job_" prefix, in any
// case: IDs are lower-case ULIDs, and Crockford base32 is case-insensitive,
// so "12345ABC" and "JOB_12345abc" both name job_12345abc.
func NormalizeID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" || strings.HasPrefix(id, IDPrefix) {
		return id
	}
	return IDPrefix + id
}
