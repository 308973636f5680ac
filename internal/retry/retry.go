// Package retry is jobctl's retry policy: which failures are retried, how
// long to wait before the next attempt, and when a job goes to the dead
// letter queue. Everything here is a pure function of its inputs, so the
// worker and the tests agree on every number.
package retry

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Backoff names how the wait between attempts grows.
type Backoff string

// The three backoffs of the guide's jobConfig.
const (
	BackoffExponential Backoff = "exponential" // base, 2×base, 4×base, …
	BackoffLinear      Backoff = "linear"      // base, 2×base, 3×base, …
	BackoffFixed       Backoff = "fixed"       // base every time
)

// ParseBackoff accepts one of the three backoff names.
func ParseBackoff(s string) (Backoff, error) {
	switch b := Backoff(s); b {
	case BackoffExponential, BackoffLinear, BackoffFixed:
		return b, nil
	}
	return "", fmt.Errorf("unknown backoff %q (want exponential, linear or fixed)", s)
}

// Error codes with a meaning to the policy. Handlers may report any other
// upper-case code; those are retried only when a type lists them.
const (
	CodeNetworkError    = "NETWORK_ERROR"
	CodeTimeout         = "TIMEOUT"
	CodeRateLimit       = "RATE_LIMIT"
	CodeWorkerLost      = "WORKER_LOST"
	CodeInvalidParams   = "INVALID_PARAMS"
	CodeAuthError       = "AUTH_ERROR"
	CodeNotFound        = "NOT_FOUND"
	CodeValidationError = "VALIDATION_ERROR"
)

// NeverRetried are the guide's non-retryable errors: retrying cannot fix bad
// input, a revoked token or a missing resource, so no configuration can make
// them retryable.
var NeverRetried = []string{CodeInvalidParams, CodeAuthError, CodeNotFound, CodeValidationError}

// TimeoutMessage is the error message of a job stopped at its type's timeout.
const TimeoutMessage = "Execution time limit exceeded"

// Policy is one job type's retry policy.
type Policy struct {
	MaxAttempts     int
	Backoff         Backoff
	Base, Cap       time.Duration
	Jitter          bool
	RetryableErrors []string
	Timeout         time.Duration // for one attempt
}

// Default is the guide's default strategy: 5 attempts, exponential backoff
// from 1s, transient errors retried, 30s per attempt.
func Default() Policy {
	return Policy{
		MaxAttempts:     store.DefaultMaxAttempts,
		Backoff:         BackoffExponential,
		Base:            time.Second,
		Cap:             time.Hour,
		RetryableErrors: []string{CodeNetworkError, CodeTimeout, CodeRateLimit, CodeWorkerLost},
		Timeout:         30 * time.Second,
	}
}

// FieldError is a policy value out of range. Field uses the config file's
// key names so the config loader can point at the line.
type FieldError struct {
	Field  string // maxAttempts, backoff, backoffBase, backoffCap or timeout
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate reports the first value that would make the policy misbehave.
func (p Policy) Validate() error {
	if p.MaxAttempts < 1 || p.MaxAttempts > store.MaxMaxAttempts {
		return &FieldError{"maxAttempts", fmt.Sprintf("must be between 1 and %d (got %d)", store.MaxMaxAttempts, p.MaxAttempts)}
	}
	if _, err := ParseBackoff(string(p.Backoff)); err != nil {
		return &FieldError{"backoff", err.Error()}
	}
	if p.Base <= 0 {
		return &FieldError{"backoffBase", fmt.Sprintf("must be greater than 0 (got %v)", p.Base)}
	}
	if p.Cap < p.Base {
		return &FieldError{"backoffCap", fmt.Sprintf("%v is less than backoffBase %v", p.Cap, p.Base)}
	}
	if p.Timeout <= 0 {
		return &FieldError{"timeout", fmt.Sprintf("must be greater than 0 (got %v)", p.Timeout)}
	}
	return nil
}

// Delay is the wait after failed attempt number attempt (1-based) before the
// next one, never more than Cap. With Jitter on and rnd (returning [0,1))
// given, it is drawn from [d/2, d] so a burst of failures does not come back
// as a burst, while the wait still grows with each attempt.
func (p Policy) Delay(attempt int, rnd func() float64) time.Duration {
	limit := p.Cap
	if limit <= 0 {
		limit = math.MaxInt64
	}
	if p.Base <= 0 {
		return 0
	}
	attempt = max(attempt, 1)
	var d time.Duration
	switch p.Backoff {
	case BackoffLinear:
		if time.Duration(attempt) > limit/p.Base {
			d = limit
		} else {
			d = p.Base * time.Duration(attempt)
		}
	case BackoffFixed:
		d = p.Base
	default:
		if n := attempt - 1; n >= 63 || p.Base > limit>>n {
			d = limit
		} else {
			d = p.Base << n
		}
	}
	d = min(d, limit)
	if p.Jitter && rnd != nil {
		r := min(max(rnd(), 0), 1)
		half := d / 2
		d = min(half+time.Duration(r*float64(d-half)), d)
	}
	return d
}

// Retryable reports whether a failure with this error code earns another
// attempt (if any are left).
func (p Policy) Retryable(code string) bool {
	if slices.Contains(NeverRetried, code) {
		return false
	}
	// A worker that died mid-job says nothing about the job itself, so this
	// holds whatever the type's list says.
	if code == CodeWorkerLost {
		return true
	}
	return slices.Contains(p.RetryableErrors, code)
}

// Outcome is where a failed attempt leaves the job.
type Outcome struct {
	Status       store.Status // FAILED, RETRYING or DEAD
	ScheduledFor time.Time    // when RETRYING: when the next attempt is due
}

// Decide places a job whose attempt number attempt (its attempts counter,
// already counting this one) just failed with code: FAILED when the error is
// not retryable, RETRYING after Delay when attempts are left, else DEAD.
// A job's own maxAttempts overrides the type's: set p.MaxAttempts to it
// before calling.
func (p Policy) Decide(attempt int, code string, now time.Time, rnd func() float64) Outcome {
	return p.DecideRetryable(attempt, p.Retryable(code), now, rnd)
}

// DecideRetryable is Decide for a failure whose handler said itself whether
// it is worth retrying (an exec handler's exit 75, an HTTP 503).
func (p Policy) DecideRetryable(attempt int, retryable bool, now time.Time, rnd func() float64) Outcome {
	switch {
	case !retryable:
		return Outcome{Status: store.StatusFailed}
	case attempt >= p.MaxAttempts:
		return Outcome{Status: store.StatusDead}
	}
	return Outcome{Status: store.StatusRetrying, ScheduledFor: now.Add(p.Delay(attempt, rnd))}
}
