package jobsql

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// errConflict stands for a driver's deadlock error.
var errConflict = errors.New("deadlock detected (SQLSTATE 40P01)")

// fakeBase is a Base whose transactions run fn against no database and
// fail with errConflict the first failures times.
func fakeBase(failures int, retryable func(error) bool) (*Base, *int) {
	tries := 0
	b := &Base{D: &Dialect{Retryable: retryable}}
	b.InTx = func(ctx context.Context, fn func(DB) error) error {
		tries++
		if err := fn(nil); err != nil {
			return err
		}
		if tries <= failures {
			// Wrapped, as pgx and database/sql may wrap it.
			return fmt.Errorf("commit: %w", errConflict)
		}
		return nil
	}
	return b, &tries
}

func isConflict(err error) bool { return errors.Is(err, errConflict) }

func TestWriteRetriesConflicts(t *testing.T) {
	b, tries := fakeBase(2, isConflict)
	runs := 0
	err := b.write(context.Background(), func(DB) error { runs++; return nil })
	if err != nil {
		t.Fatalf("write: %v, want success on the third try", err)
	}
	if *tries != 3 || runs != 3 {
		t.Errorf("transaction ran %d times (fn %d), want 3: the whole transaction again after each conflict", *tries, runs)
	}
}

func TestWriteGivesUpAfterMaxTries(t *testing.T) {
	b, tries := fakeBase(100, isConflict)
	t0 := time.Now()
	err := b.write(context.Background(), func(DB) error { return nil })
	if !errors.Is(err, errConflict) {
		t.Fatalf("write: %v, want the conflict after %d tries", err, MaxTries)
	}
	if *tries != MaxTries {
		t.Errorf("ran %d times, want MaxTries = %d", *tries, MaxTries)
	}
	// Backoff 5-10, 10-20, 20-40, 40-80 ms between the five tries.
	if d := time.Since(t0); d < 75*time.Millisecond || d > 2*time.Second {
		t.Errorf("five tries took %v, want the jittered backoff (75-150 ms, give or take the machine)", d)
	}
}

func TestWriteDoesNotRetryOtherErrors(t *testing.T) {
	other := errors.New("permission denied")
	for name, c := range map[string]struct {
		retryable func(error) bool
		fnErr     error
	}{
		"not a conflict":          {isConflict, other},
		"backend never conflicts": {nil, errConflict},
		"marked final":            {isConflict, final(errConflict)},
	} {
		t.Run(name, func(t *testing.T) {
			b, tries := fakeBase(0, c.retryable)
			err := b.write(context.Background(), func(DB) error { return c.fnErr })
			if *tries != 1 {
				t.Errorf("ran %d times, want once", *tries)
			}
			if !errors.Is(err, errors.Unwrap(c.fnErr)) && !errors.Is(err, c.fnErr) {
				t.Errorf("write: %v, want %v", err, c.fnErr)
			}
			var f *finalError
			if errors.As(err, &f) {
				t.Errorf("write returned the final marker itself: %#v", err)
			}
		})
	}
}

func TestRetryStopsWhenCancelled(t *testing.T) {
	b, _ := fakeBase(0, isConflict)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := b.retry(ctx, func() error {
		calls++
		cancel()
		return errConflict
	})
	if calls != 1 || !errors.Is(err, errConflict) {
		t.Errorf("after cancel: %d calls, err %v; want 1 call and the conflict", calls, err)
	}
}

func TestRetryRunsSingleStatementsAgain(t *testing.T) {
	b, _ := fakeBase(0, isConflict)
	calls := 0
	err := b.retry(context.Background(), func() error {
		calls++
		if calls < 3 {
			return errConflict
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("retry: %d calls, err %v; want 3 calls and success", calls, err)
	}
}
