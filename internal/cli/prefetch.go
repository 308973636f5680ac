package cli

import (
	"github.com/jobctl/jobctl/internal/store"
)

// A bulk enqueue reads and parses its JSONL on a goroutine of its own, a
// bounded batch or two ahead of the store, so that decoding one line's
// JSON overlaps inserting (SQLite) or encoding (Postgres COPY) the lines
// before it instead of adding to them: profiled on 200k lines, reading and
// parsing was half of the Postgres client's CPU and a quarter of the
// SQLite process's.
const (
	// prefetchLines ends a batch of parsed lines handed to the store.
	prefetchLines = 128
	// prefetchBytes ends a batch early when its lines are long, so what
	// is held ahead stays small whatever the lines' sizes.
	prefetchBytes = 256 << 10
	// prefetchBatches is how many full batches may wait for the store.
	prefetchBatches = 2
)

type parsedLine struct {
	p    *store.EnqueueParams
	line int
	err  error // the source's error (io.EOF at the end); last of its batch
}

// prefetchSource is a store.BulkSource that yields what src yields, read
// ahead on a goroutine. Close stops that goroutine.
type prefetchSource struct {
	src     *lineSource
	batches chan []parsedLine
	stop    chan struct{}
	cur     []parsedLine
}

func prefetch(src *lineSource) *prefetchSource {
	f := &prefetchSource{src: src, batches: make(chan []parsedLine, prefetchBatches),
		stop: make(chan struct{})}
	go f.read()
	return f
}

// read parses lines into batches until the source ends or fails, or Close.
func (f *prefetchSource) read() {
	for {
		batch := make([]parsedLine, 0, prefetchLines)
		size := 0
		var err error
		for err == nil && len(batch) < prefetchLines && size < prefetchBytes {
			var pl parsedLine
			pl.p, pl.line, pl.err = f.src.Next()
			err = pl.err
			if pl.p != nil {
				size += len(pl.p.Data) + 256
			}
			batch = append(batch, pl)
		}
		select {
		case f.batches <- batch:
		case <-f.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Next implements store.BulkSource.
func (f *prefetchSource) Next() (*store.EnqueueParams, int, error) {
	if len(f.cur) == 0 {
		f.cur = <-f.batches
	}
	pl := f.cur[0]
	if pl.err != nil {
		// The end, or a bad line: every later call says it again.
		return nil, pl.line, pl.err
	}
	f.cur = f.cur[1:]
	return pl.p, pl.line, nil
}

// Existing implements store.ExistingObserver.
func (f *prefetchSource) Existing(line int, j *store.Job) { f.src.Existing(line, j) }

// Close tells the reading goroutine to stop. It does not wait: the
// goroutine may be blocked reading a pipe or a terminal that has nothing
// to say, and a refused batch must not wait for its input's end. It only
// ever touches the line reader, never what the store reported to the
// source (Existing).
func (f *prefetchSource) Close() { close(f.stop) }
