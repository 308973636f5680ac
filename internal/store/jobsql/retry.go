package jobsql

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// MaxTries bounds how many times a write runs when the database keeps
// rolling it back to break a deadlock or a serialization conflict.
const MaxTries = 5

// write runs fn in a write transaction, from the start again when the
// database rolled it back as a deadlock victim or a serialization failure.
// The rollback undid all of fn's work, so running it again is clean; fn
// must therefore keep any in-memory effects (progress, reports) until the
// transaction has committed, or mark its error final.
func (b *Base) write(ctx context.Context, fn func(DB) error) error {
	return b.writeAgainOn(ctx, nil, fn)
}

// writeAgainOn is write that also runs fn again after an error again
// reports (nil: none); such an error must likewise have rolled back all of
// fn's work.
func (b *Base) writeAgainOn(ctx context.Context, again func(error) bool, fn func(DB) error) error {
	return b.retryAgainOn(ctx, again, func() error { return b.InTx(ctx, fn) })
}

// retry runs fn, a transaction or a single statement (which is its own
// transaction), up to MaxTries times while it fails with an error the
// dialect says the database rolled back to break a conflict, waiting a
// short jittered while between tries so the conflicting transactions do
// not meet again in step.
func (b *Base) retry(ctx context.Context, fn func() error) error {
	return b.retryAgainOn(ctx, nil, fn)
}

// retryAgainOn is retry that also runs fn again while it fails with an
// error again reports (nil: none).
func (b *Base) retryAgainOn(ctx context.Context, again func(error) bool, fn func() error) error {
	for try := 1; ; try++ {
		err := fn()
		if err == nil || try == MaxTries || !(b.retryable(err) || again != nil && again(err)) || ctx.Err() != nil {
			return unwrapFinal(err)
		}
		t := time.NewTimer(backoff(try))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (b *Base) retryable(err error) bool {
	var f *finalError
	if errors.As(err, &f) {
		return false
	}
	return b.D.Retryable != nil && b.D.Retryable(err)
}

// backoff is the wait before try+1: 5-10 ms after the first, doubling.
func backoff(try int) time.Duration {
	d := time.Duration(5<<(try-1)) * time.Millisecond
	return d + rand.N(d)
}

// finalError marks a failed transaction that must not run again, because
// it did something outside the database that a rollback cannot undo.
type finalError struct{ err error }

func (f *finalError) Error() string { return f.err.Error() }
func (f *finalError) Unwrap() error { return f.err }

// final marks err, if any, as not to be retried.
func final(err error) error {
	if err == nil {
		return nil
	}
	return &finalError{err}
}

func unwrapFinal(err error) error {
	if f, ok := err.(*finalError); ok {
		return f.err
	}
	return err
}

// Retry is retry for a backend's own statements (a Postgres pipeline).
func (b *Base) Retry(ctx context.Context, fn func() error) error { return b.retry(ctx, fn) }
