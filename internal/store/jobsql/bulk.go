package jobsql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// A bulk enqueue reads its jobs one at a time and inserts them in file
// order. Runs of plain jobs (no unique key, no dependencies) go to the
// backend's fast path (COPY, or one prepared INSERT); a job that needs
// Enqueue's checks goes through Enqueue between runs. Nothing but the
// current run's line numbers and a bounded set of parent IDs is kept, so
// memory does not grow with the input.
const (
	// maxRunRows ends a run (a COPY) after this many rows, bounding the
	// line numbers kept to name the row a COPY failure is about.
	maxRunRows = 100_000
	// maxPendingParents ends a run when this many parent IDs are waiting
	// to be checked: a COPY holds the connection, so they are checked, in
	// one query, after it.
	maxPendingParents = 1000
	// maxKnownParents bounds the parents remembered as checked.
	maxKnownParents = 100_000
)

// PlainInserter inserts a run of plain rows in the transaction: it reads
// rows until Next is false and returns the first error. rows satisfies
// pgx.CopyFromSource.
type PlainInserter func(ctx context.Context, rows *PlainRows) error

// EnqueueFrom runs a bulk enqueue inside the caller's transaction; see
// store.Store.EnqueueFrom. Every row is validated (store.EnqueueParams.Validate)
// before it reaches the database, and errors about a row are
// *store.RowError.
func EnqueueFrom(ctx context.Context, db DB, d *Dialect, src store.BulkSource, each func(id string), insert PlainInserter) (int, error) {
	b := &bulk{db: db, d: d, src: src, each: each, now: time.Now(),
		known: map[string]bool{}, pending: map[string]int{}}
	for {
		if err := b.peek(); err != nil {
			return b.done, err
		}
		if b.eof {
			return b.done, nil
		}
		if Simple(b.next) {
			run := &PlainRows{b: b}
			b.lines = b.lines[:0]
			err := insert(ctx, run)
			if run.err != nil {
				return b.done, run.err
			}
			if err != nil {
				return b.done, err
			}
			if err := b.checkParents(ctx); err != nil {
				return b.done, err
			}
			continue
		}
		p, line := b.take()
		res, err := enqueueAs(ctx, db, d, p, b.ids.Next(time.Now()), b.now)
		if err != nil {
			if errors.Is(err, ErrUniqueRace) {
				return b.done, err
			}
			return b.done, &store.RowError{Line: line, Err: err}
		}
		if o, ok := b.src.(store.ExistingObserver); ok && res.Existing {
			o.Existing(line, res.Job)
		}
		b.emit(res.Job.ID)
	}
}

type bulk struct {
	db   DB
	d    *Dialect
	src  store.BulkSource
	each func(string)
	now  time.Time
	ids  store.IDSeq
	done int

	// The next job, read and validated but not inserted yet.
	next     *store.EnqueueParams
	nextLine int
	eof      bool

	lines   []int           // the current run's rows' lines
	known   map[string]bool // parents found to exist
	pending map[string]int  // parents of this run not checked yet: first line
}

// peek reads and validates the next job unless one is waiting.
func (b *bulk) peek() error {
	if b.next != nil || b.eof {
		return nil
	}
	p, line, err := b.src.Next()
	if errors.Is(err, io.EOF) {
		b.eof = true
		return nil
	}
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return &store.RowError{Line: line, Err: err}
	}
	Defaults(p)
	b.next, b.nextLine = p, line
	return nil
}

func (b *bulk) take() (*store.EnqueueParams, int) {
	p, line := b.next, b.nextLine
	b.next = nil
	return p, line
}

func (b *bulk) emit(id string) {
	b.done++
	if b.each != nil {
		b.each(id)
	}
}

// checkParents checks, in one query, the parents named in the run just
// inserted; a missing one fails the batch naming the first line that
// names it.
func (b *bulk) checkParents(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	ids := make([]string, 0, len(b.pending))
	for id := range b.pending {
		ids = append(ids, id)
	}
	found, err := existing(ctx, b.db, b.d, ids, false)
	if err != nil {
		return err
	}
	var missing string
	for _, id := range ids {
		if _, ok := found[id]; !ok && (missing == "" || b.pending[id] < b.pending[missing]) {
			missing = id
		}
	}
	if missing != "" {
		return &store.RowError{Line: b.pending[missing], Err: fmt.Errorf("parent %s: %w", missing, store.ErrNotFound)}
	}
	if len(b.known)+len(ids) > maxKnownParents {
		clear(b.known)
	}
	for _, id := range ids {
		b.known[id] = true
	}
	clear(b.pending)
	return nil
}

// PlainRows is one run of plain rows, read from the source as the backend
// asks for them.
type PlainRows struct {
	b    *bulk
	vals []any
	err  error
}

// Next reads the next row of the run, if the run goes on.
func (r *PlainRows) Next() bool {
	b := r.b
	if r.err != nil || len(b.lines) >= maxRunRows || len(b.pending) >= maxPendingParents {
		return false
	}
	if r.err = b.peek(); r.err != nil || b.eof || !Simple(b.next) {
		return false
	}
	p, line := b.take()
	if p.ParentID != "" && !b.known[p.ParentID] {
		if _, ok := b.pending[p.ParentID]; !ok {
			b.pending[p.ParentID] = line
		}
	}
	id := b.ids.Next(time.Now())
	r.vals = InsertValues(p, id, 0, b.now)
	b.lines = append(b.lines, line)
	b.emit(id)
	return true
}

// Values are the current row's, in InsertColumnNames order.
func (r *PlainRows) Values() ([]any, error) { return r.vals, nil }

// Err is the source's error, or a row's validation error, that ended the
// run.
func (r *PlainRows) Err() error { return r.err }

// Line is the input line of the run's nth row, counted from 1 (a COPY
// error's "line n"), or 0 if there is no such row.
func (r *PlainRows) Line(n int) int {
	if n < 1 || n > len(r.b.lines) {
		return 0
	}
	return r.b.lines[n-1]
}

// Current is the line of the row read last.
func (r *PlainRows) Current() int { return r.Line(len(r.b.lines)) }

// Span is the first and last line of the rows read so far.
func (r *PlainRows) Span() (first, last int) { return r.Line(1), r.Current() }

// EnqueueMany is store.Store.EnqueueMany through a backend's EnqueueFrom.
func EnqueueMany(ctx context.Context, from func(context.Context, store.BulkSource, func(string)) (int, error), ps []*store.EnqueueParams, progress func(done int)) (int, error) {
	n := 0
	done, err := from(ctx, store.SliceSource(ps), func(string) {
		if n++; progress != nil && n%10000 == 0 {
			progress(n)
		}
	})
	if err != nil {
		return 0, err
	}
	if progress != nil {
		progress(done)
	}
	return done, nil
}
