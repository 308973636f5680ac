package cron

import (
	"fmt"
	"time"
)

// NextTick parses expr and the IANA time zone tz and returns the first tick
// strictly after t, in UTC. A schedule that never fires is an error.
func NextTick(expr, tz string, t time.Time) (time.Time, error) {
	s, err := Parse(expr)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.Time{}, fmt.Errorf("time zone %q: %w", tz, err)
	}
	next := s.Next(t.In(loc))
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("cron %q never fires", expr)
	}
	return next.UTC(), nil
}
