package retry

import (
	"math"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

var now = time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC)

func TestDefault(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.MaxAttempts != 5 || p.Backoff != BackoffExponential || p.Base != time.Second ||
		p.Cap != time.Hour || p.Jitter || p.Timeout != 30*time.Second {
		t.Errorf("Default() = %+v", p)
	}
	for _, code := range []string{CodeNetworkError, CodeTimeout, CodeRateLimit, CodeWorkerLost} {
		if !p.Retryable(code) {
			t.Errorf("default policy does not retry %s", code)
		}
	}
	// Default hands out a fresh slice: one type's edits must not leak into
	// another's defaults.
	p.RetryableErrors[0] = "CHANGED"
	if Default().RetryableErrors[0] != CodeNetworkError {
		t.Error("Default shares its RetryableErrors slice")
	}
}

// The guide's default sequence: a network error five times.
func TestDecideGuideSequence(t *testing.T) {
	p := Default()
	want := []Outcome{
		{store.StatusRetrying, now.Add(1 * time.Second)},
		{store.StatusRetrying, now.Add(2 * time.Second)},
		{store.StatusRetrying, now.Add(4 * time.Second)},
		{store.StatusRetrying, now.Add(8 * time.Second)},
		{store.StatusDead, time.Time{}},
	}
	for i, w := range want {
		attempt := i + 1
		if got := p.Decide(attempt, CodeNetworkError, now, nil); got != w {
			t.Errorf("attempt %d: got %+v, want %+v", attempt, got, w)
		}
	}
}

func TestDecide(t *testing.T) {
	metric := Policy{MaxAttempts: 3, Backoff: BackoffLinear, Base: time.Second, Cap: time.Hour,
		RetryableErrors: []string{CodeTimeout}, Timeout: 120 * time.Second}
	tests := []struct {
		name    string
		p       Policy
		attempt int
		code    string
		want    Outcome
	}{
		{"auth error fails at once", Default(), 1, CodeAuthError, Outcome{Status: store.StatusFailed}},
		{"invalid params fails", Default(), 1, CodeInvalidParams, Outcome{Status: store.StatusFailed}},
		{"not found fails", Default(), 2, CodeNotFound, Outcome{Status: store.StatusFailed}},
		{"validation error fails", Default(), 1, CodeValidationError, Outcome{Status: store.StatusFailed}},
		{"unlisted code fails", Default(), 1, "HANDLER_ERROR", Outcome{Status: store.StatusFailed}},
		{"empty code fails", Default(), 1, "", Outcome{Status: store.StatusFailed}},
		{"non-retryable on last attempt still fails", Default(), 5, CodeAuthError, Outcome{Status: store.StatusFailed}},
		{"timeout retried", Default(), 2, CodeTimeout, Outcome{store.StatusRetrying, now.Add(2 * time.Second)}},
		{"rate limit retried", Default(), 3, CodeRateLimit, Outcome{store.StatusRetrying, now.Add(4 * time.Second)}},
		{"past max attempts is dead", Default(), 7, CodeTimeout, Outcome{Status: store.StatusDead}},
		{"metric timeout retried", metric, 1, CodeTimeout, Outcome{store.StatusRetrying, now.Add(time.Second)}},
		{"metric timeout retried linearly", metric, 2, CodeTimeout, Outcome{store.StatusRetrying, now.Add(2 * time.Second)}},
		{"metric timeout dead at 3", metric, 3, CodeTimeout, Outcome{Status: store.StatusDead}},
		{"metric network error not listed", metric, 1, CodeNetworkError, Outcome{Status: store.StatusFailed}},
		{"worker lost retried though unlisted", metric, 1, CodeWorkerLost, Outcome{store.StatusRetrying, now.Add(time.Second)}},
		{"worker lost dead at max", metric, 3, CodeWorkerLost, Outcome{Status: store.StatusDead}},
		{"per-job max attempts 1", withMax(Default(), 1), 1, CodeNetworkError, Outcome{Status: store.StatusDead}},
		{"per-job max attempts 10", withMax(Default(), 10), 9, CodeNetworkError, Outcome{store.StatusRetrying, now.Add(256 * time.Second)}},
		{"listed never-retried code still fails", Policy{MaxAttempts: 5, Backoff: BackoffFixed, Base: time.Second, Cap: time.Second,
			RetryableErrors: []string{CodeAuthError}, Timeout: time.Second}, 1, CodeAuthError, Outcome{Status: store.StatusFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Decide(tt.attempt, tt.code, now, nil); got != tt.want {
				t.Errorf("Decide(%d, %q) = %+v, want %+v", tt.attempt, tt.code, got, tt.want)
			}
		})
	}
}

func withMax(p Policy, n int) Policy {
	p.MaxAttempts = n
	return p
}

func TestDelay(t *testing.T) {
	s := time.Second
	exp := Policy{Backoff: BackoffExponential, Base: s, Cap: time.Hour}
	tests := []struct {
		name string
		p    Policy
		want []time.Duration // for attempts 1, 2, 3, …
	}{
		{"exponential", exp, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s}},
		{"exponential capped", Policy{Backoff: BackoffExponential, Base: s, Cap: 5 * s}, []time.Duration{s, 2 * s, 4 * s, 5 * s, 5 * s}},
		{"linear", Policy{Backoff: BackoffLinear, Base: 10 * s, Cap: time.Hour}, []time.Duration{10 * s, 20 * s, 30 * s, 40 * s}},
		{"linear capped", Policy{Backoff: BackoffLinear, Base: 10 * s, Cap: 25 * s}, []time.Duration{10 * s, 20 * s, 25 * s, 25 * s}},
		{"fixed", Policy{Backoff: BackoffFixed, Base: 30 * s, Cap: time.Hour}, []time.Duration{30 * s, 30 * s, 30 * s}},
		{"no cap means uncapped", Policy{Backoff: BackoffExponential, Base: s}, []time.Duration{s, 2 * s, 4 * s}},
		{"no base means no wait", Policy{Backoff: BackoffExponential, Cap: time.Hour}, []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				if got := tt.p.Delay(i+1, nil); got != want {
					t.Errorf("Delay(%d) = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

// Attempt numbers far beyond any sane maxAttempts must not overflow into a
// negative or tiny wait.
func TestDelayOverflow(t *testing.T) {
	tests := []struct {
		p       Policy
		attempt int
		want    time.Duration
	}{
		{Policy{Backoff: BackoffExponential, Base: time.Second, Cap: time.Hour}, 64, time.Hour},
		{Policy{Backoff: BackoffExponential, Base: time.Second, Cap: time.Hour}, 1000, time.Hour},
		{Policy{Backoff: BackoffExponential, Base: time.Second, Cap: time.Hour}, math.MaxInt, time.Hour},
		{Policy{Backoff: BackoffExponential, Base: time.Hour}, 40, math.MaxInt64},
		{Policy{Backoff: BackoffLinear, Base: time.Hour, Cap: 24 * time.Hour}, math.MaxInt, 24 * time.Hour},
		{Policy{Backoff: BackoffLinear, Base: time.Hour}, math.MaxInt, math.MaxInt64},
		{Policy{Backoff: BackoffExponential, Base: time.Second, Cap: time.Hour}, 0, time.Second},
		{Policy{Backoff: BackoffExponential, Base: time.Second, Cap: time.Hour}, -3, time.Second},
	}
	for _, tt := range tests {
		if got := tt.p.Delay(tt.attempt, nil); got != tt.want {
			t.Errorf("%+v Delay(%d) = %v, want %v", tt.p, tt.attempt, got, tt.want)
		}
	}
}

func TestDelayJitter(t *testing.T) {
	p := Policy{Backoff: BackoffExponential, Base: time.Second, Cap: 10 * time.Second, Jitter: true}
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{1, 0.999999, 999999500 * time.Nanosecond},
		{1, 1, time.Second},
		{3, 0, 2 * time.Second},
		{3, 0.5, 3 * time.Second},
		{10, 0, 5 * time.Second}, // jitter applies to the capped wait
		{10, 1, 10 * time.Second},
		{1, -1, 500 * time.Millisecond}, // a broken rnd stays in bounds
		{1, 7, time.Second},
	}
	for _, tt := range tests {
		if got := p.Delay(tt.attempt, func() float64 { return tt.r }); got != tt.want {
			t.Errorf("Delay(%d) with rnd %v = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
	// Without rnd, or with jitter off, the wait is exact.
	if got := p.Delay(3, nil); got != 4*time.Second {
		t.Errorf("Delay(3, nil) = %v, want 4s", got)
	}
	p.Jitter = false
	if got := p.Delay(3, func() float64 { return 0 }); got != 4*time.Second {
		t.Errorf("Delay(3) without jitter = %v, want 4s", got)
	}
}

func TestDelayJitterBounds(t *testing.T) {
	p := Policy{Backoff: BackoffExponential, Base: 3 * time.Millisecond, Cap: time.Hour, Jitter: true}
	for attempt := 1; attempt <= 70; attempt++ {
		full := Policy{Backoff: p.Backoff, Base: p.Base, Cap: p.Cap}.Delay(attempt, nil)
		for _, r := range []float64{0, 0.1, 0.5, 0.9, math.Nextafter(1, 0), 1} {
			got := p.Delay(attempt, func() float64 { return r })
			if got < full/2 || got > full {
				t.Errorf("attempt %d, r %v: %v outside [%v, %v]", attempt, r, got, full/2, full)
			}
		}
	}
}

func TestDecideJitter(t *testing.T) {
	p := Default()
	p.Jitter = true
	got := p.Decide(3, CodeNetworkError, now, func() float64 { return 0 })
	if want := (Outcome{store.StatusRetrying, now.Add(2 * time.Second)}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestValidate(t *testing.T) {
	ok := Default()
	tests := []struct {
		name string
		edit func(*Policy)
		want string
	}{
		{"max attempts", func(p *Policy) { p.MaxAttempts = 0 }, "maxAttempts: must be between 1 and 1000 (got 0)"},
		{"max attempts over 1000", func(p *Policy) { p.MaxAttempts = 1001 }, "maxAttempts: must be between 1 and 1000 (got 1001)"},
		{"backoff", func(p *Policy) { p.Backoff = "expo" }, `backoff: unknown backoff "expo" (want exponential, linear or fixed)`},
		{"empty backoff", func(p *Policy) { p.Backoff = "" }, `backoff: unknown backoff "" (want exponential, linear or fixed)`},
		{"base", func(p *Policy) { p.Base = 0 }, "backoffBase: must be greater than 0 (got 0s)"},
		{"cap below base", func(p *Policy) { p.Base = 2 * time.Hour }, "backoffCap: 1h0m0s is less than backoffBase 2h0m0s"},
		{"timeout", func(p *Policy) { p.Timeout = -time.Second }, "timeout: must be greater than 0 (got -1s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			err := p.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
	for _, b := range []Backoff{BackoffExponential, BackoffLinear, BackoffFixed} {
		p := ok
		p.Backoff = b
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}
