package demo

import (
	"math/rand/v2"
	"time"
)

// crockford is store.NewID's alphabet: lower-case Crockford base32.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// idGen makes IDs shaped as store.NewID's ("job_", 10 characters of
// millisecond time, 16 of randomness) but drawn from r, so they repeat
// with the seed. Within one millisecond the random part counts up (as a
// monotonic ULID's does), so IDs made in time order sort in that order.
type idGen struct {
	r      *rand.Rand
	lastMs int64
	last   [16]byte // digits 0-31
}

func (g *idGen) next(t time.Time) string {
	ms := t.UnixMilli()
	if ms == g.lastMs {
		for i := len(g.last) - 1; i >= 0; i-- {
			if g.last[i]++; g.last[i] < 32 {
				break
			}
			g.last[i] = 0
		}
	} else {
		for i := range g.last {
			g.last[i] = byte(g.r.IntN(32))
		}
		// Leave room to count up within the millisecond.
		g.last[0] &= 15
		g.lastMs = ms
	}
	var b [4 + 26]byte
	copy(b[:], "job_")
	for i, u := 9, uint64(ms); i >= 0; i-- {
		b[4+i] = crockford[u&31]
		u >>= 5
	}
	for i, d := range g.last {
		b[14+i] = crockford[d]
	}
	return string(b[:])
}
