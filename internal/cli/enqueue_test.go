package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/jobsql"
)

// jsonlGenerator produces n JSONL lines of about size bytes each as they
// are read, so that the input itself takes no memory.
type jsonlGenerator struct {
	n, i int
	pad  string
	buf  []byte
}

func (g *jsonlGenerator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.i++
		g.buf = fmt.Appendf(g.buf[:0], `{"type":"Bulk","data":{"n":%d,"pad":"%s"}}`+"\n", g.i, g.pad)
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// The whole bulk path but the database (the CLI's line reader and the
// store's shared streaming loop, rows drained as a COPY would) holds a
// bounded amount of memory however long the input: 50,000 lines with 300
// bytes of data would hold some 40 MiB (data, parameters, row values), and
// the heap must stay within 12 MiB of where it started.
func TestBulkEnqueueMemoryIsFlat(t *testing.T) {
	const lines = 50_000
	gen := &jsonlGenerator{n: lines, pad: strings.Repeat("x", 300)}
	src := prefetch(newLineSource(gen, store.EnqueueParams{MaxDataBytes: store.DefaultMaxDataBytes}, nil))
	defer src.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	rows := 0
	n, err := jobsql.EnqueueFrom(context.Background(), nil, nil, src, nil, func(_ context.Context, r *jobsql.PlainRows) error {
		for r.Next() {
			if _, err := r.Values(); err != nil {
				return err
			}
			if rows++; rows%2500 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		return r.Err()
	})
	if err != nil || n != lines || rows != lines {
		t.Fatalf("EnqueueFrom = %d, %v; %d rows inserted", n, err, rows)
	}
	t.Logf("heap in use grew by %.1f MiB", float64(int64(peak)-int64(base))/(1<<20))
	if grew := int64(peak) - int64(base); grew > 12<<20 {
		t.Errorf("the heap grew by %d MiB over %d lines; want < 12 MiB (the input is being held)", grew>>20, lines)
	}
}

func TestLineSource(t *testing.T) {
	next := func(src *lineSource) (string, int, error) {
		p, line, err := src.Next()
		if err != nil {
			return "", line, err
		}
		return p.Type, line, nil
	}
	t.Run("lines", func(t *testing.T) {
		in := "{\"type\":\"A\"}\n\n   \n{\"type\":\"B\"}\r\n{}\n{\"type\":\"C\",\"maxAttempts\":3}"
		src := newLineSource(strings.NewReader(in), store.EnqueueParams{Type: "Default"}, func(string) int { return 7 })
		want := []struct {
			typ  string
			line int
		}{{"A", 1}, {"B", 4}, {"Default", 5}, {"C", 6}}
		for _, w := range want {
			typ, line, err := next(src)
			if err != nil || typ != w.typ || line != w.line {
				t.Errorf("Next() = %q, %d, %v; want %q at line %d", typ, line, err, w.typ, w.line)
			}
		}
		if _, _, err := src.Next(); err != io.EOF {
			t.Errorf("Next() at the end = %v; want io.EOF", err)
		}
	})
	t.Run("budget and defaults", func(t *testing.T) {
		src := newLineSource(strings.NewReader(`{"type":"A"}`+"\n"+`{"type":"A","maxAttempts":2}`), store.EnqueueParams{UserID: "u", DependsOn: []string{"job_1"}},
			func(string) int { return 7 })
		p1, _, _ := src.Next()
		p2, _, _ := src.Next()
		if p1.MaxAttempts != 7 || p2.MaxAttempts != 2 || p1.UserID != "u" || len(p2.DependsOn) != 1 {
			t.Errorf("defaults: %+v, %+v", p1, p2)
		}
		p1.DependsOn[0] = "changed"
		if p2.DependsOn[0] != "job_1" {
			t.Error("lines share the default dependsOn slice")
		}
	})
	for _, tc := range []struct {
		name, in string
		line     int
		want     string
	}{
		{"malformed", "{\"type\":\"A\"}\n{\"type\":", 2, "unexpected EOF"},
		{"unknown field", "{\"type\":\"A\"}\n\n{\"typ\":\"A\"}\n", 3, `json: unknown field "typ"`},
		{"two values", `{"type":"A"} {"type":"B"}`, 1, "more than one JSON value on the line"},
		{"trailing garbage", `{"type":"A"} x`, 1, "more than one JSON value on the line"},
		{"max attempts zero", `{"type":"A","maxAttempts":0}`, 1, "maxAttempts must be between 1 and 1000 (got 0)"},
		{"max attempts too many", `{"type":"A","maxAttempts":1001}`, 1, "maxAttempts must be between 1 and 1000 (got 1001)"},
		{"bad priority", `{"type":"A","priority":"urgent"}`, 1, `unknown priority "urgent"`},
		{"line too long", "{}\n{\"data\":\"" + strings.Repeat("x", 3<<20) + "\"}\n", 2, "the line is longer than 2097152 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newLineSource(strings.NewReader(tc.in), store.EnqueueParams{Type: "T", MaxDataBytes: 1 << 20}, nil)
			var err error
			for err == nil {
				_, _, err = src.Next()
			}
			var re *store.RowError
			if !errors.As(err, &re) || re.Line != tc.line || !strings.Contains(re.Err.Error(), tc.want) {
				t.Errorf("error = %v; want line %d: …%s…", err, tc.line, tc.want)
			}
		})
	}
}

// lineCounter serves n lines of JSONL with about size bytes of data
// each and counts the lines it has served.
type lineCounter struct {
	n      int
	data   string
	served atomic.Int64
	buf    []byte
}

func (c *lineCounter) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		i := int(c.served.Load())
		if i == c.n {
			return 0, io.EOF
		}
		c.buf = fmt.Appendf(c.buf[:0], `{"type":"T%d","data":{"pad":"%s"}}`+"\n\n", i+1, c.data)
		c.served.Add(1)
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// The prefetching source yields exactly what the line reader does, in
// order, ends as it does (a bad line or io.EOF, again on every later
// call), and reads only a bounded amount ahead of the store.
func TestPrefetchSource(t *testing.T) {
	t.Run("same sequence", func(t *testing.T) {
		var in strings.Builder
		for i := 1; i <= 1000; i++ {
			fmt.Fprintf(&in, "{\"type\":\"T%d\"}\n", i)
			if i%7 == 0 {
				in.WriteString("\n")
			}
		}
		for _, tail := range []string{"", "{\"type\":\n"} {
			plain := newLineSource(strings.NewReader(in.String()+tail), store.EnqueueParams{}, nil)
			ahead := prefetch(newLineSource(strings.NewReader(in.String()+tail), store.EnqueueParams{}, nil))
			for i := 0; ; i++ {
				p1, l1, e1 := plain.Next()
				p2, l2, e2 := ahead.Next()
				if l1 != l2 || fmt.Sprint(e1) != fmt.Sprint(e2) || (p1 == nil) != (p2 == nil) || p1 != nil && p1.Type != p2.Type {
					t.Fatalf("item %d: prefetched %v, %d, %v; want %v, %d, %v", i, p2, l2, e2, p1, l1, e1)
				}
				if e1 != nil {
					if _, l3, e3 := ahead.Next(); l3 != l1 || fmt.Sprint(e3) != fmt.Sprint(e1) {
						t.Errorf("after the end: %d, %v; want %d, %v again", l3, e3, l1, e1)
					}
					break
				}
			}
			ahead.Close()
		}
	})
	t.Run("bounded", func(t *testing.T) {
		for _, size := range []int{10, 10000} {
			in := &lineCounter{n: 20000, data: strings.Repeat("x", size)}
			ahead := prefetch(newLineSource(in, store.EnqueueParams{}, nil))
			if p, _, err := ahead.Next(); err != nil || p.Type != "T1" {
				t.Fatalf("first: %v, %v", p, err)
			}
			time.Sleep(200 * time.Millisecond) // time to read ahead as far as it may
			// Batches waiting, one being filled, the store's current one,
			// and what the line reader's buffer holds.
			lineBytes := size + 40
			bound := (prefetchBatches+2)*min(prefetchLines, prefetchBytes/(size+256)+1) + (64<<10)/lineBytes + 2
			if got := int(in.served.Load()); got > bound {
				t.Errorf("%d-byte lines: read %d lines ahead of the store's first; want at most %d", size, got, bound)
			}
			ahead.Close()
		}
	})
}

func TestBulkErrorNamesTheInput(t *testing.T) {
	err := &store.RowError{Line: 123456, Err: fmt.Errorf("parent job_x: %w", store.ErrNotFound)}
	if got, want := bulkError("jobs.jsonl", err).Error(), "--from jobs.jsonl line 123456: parent job_x: no such job (nothing was enqueued)"; got != want {
		t.Errorf("bulkError = %q; want %q", got, want)
	}
	if got, want := bulkError("-", &store.RowError{Line: 3, Err: errors.New("data is not valid JSON")}).Error(), "line 3: data is not valid JSON (nothing was enqueued)"; got != want {
		t.Errorf("bulkError = %q; want %q", got, want)
	}
}

// TestBulkEnqueueStreams: --from prints only what was asked for on stdout:
// nothing but a count on stderr by default, the IDs with -q, and the new
// jobs with -o json or jsonl, in input order, as `list` prints them.
func TestBulkEnqueueStreams(t *testing.T) {
	e := newCLIEnv(t, false)
	input := `{"type":"A"}` + "\n" + `{"type":"B","uniqueKey":"k"}` + "\n" + `{"type":"B","uniqueKey":"k"}` + "\n"
	// The third line's key is the second's: it says so, and adds nothing.
	if code := e.run(input, "enqueue", "--from", "-"); code != 0 || e.out.Len() != 0 ||
		!strings.HasPrefix(e.errOut.String(), "existing job ") || !strings.HasSuffix(e.errOut.String(), "(line 3)\nEnqueued 2 jobs\n") {
		t.Fatalf("table: exit %d, stdout %q, stderr %q", code, e.out, e.errOut)
	}
	// onlyNotes: with -q or -o the only lines on stderr are the notes for
	// lines a live job's unique key absorbed.
	onlyNotes := func(what string) {
		t.Helper()
		for _, l := range strings.Split(strings.TrimSpace(e.errOut.String()), "\n") {
			if l != "" && !strings.HasPrefix(l, "existing job ") {
				t.Fatalf("%s: stderr holds %q", what, e.errOut)
			}
		}
	}
	if code := e.run(input, "enqueue", "--from", "-", "-q"); code != 0 {
		t.Fatalf("-q: exit %d, stderr %q", code, e.errOut)
	}
	onlyNotes("-q")
	ids := strings.Fields(e.out.String())
	if len(ids) != 3 || ids[1] != ids[2] {
		t.Fatalf("-q printed %q: want three IDs, the deduplicated line's twice", e.out)
	}
	e.run(input, "enqueue", "--from", "-", "-o", "jsonl")
	onlyNotes("jsonl")
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("jsonl line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 || lines[0]["type"] != "A" || lines[0]["status"] != "PENDING" || lines[1]["type"] != "B" ||
		lines[1]["id"] != lines[2]["id"] || lines[1]["id"] != ids[1] {
		t.Errorf("jsonl: %q", e.out)
	}
	// -o json is one array of the same objects as list -o json prints.
	if code := e.run(`{"type":"C"}`+"\n", "enqueue", "--from", "-", "-o", "json"); code != 0 {
		t.Fatalf("json: exit %d: %s", code, e.errOut)
	}
	var arr []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &arr); err != nil || len(arr) != 1 || arr[0]["type"] != "C" {
		t.Fatalf("json: %v: %q", err, e.out)
	}
	got := e.out.String()
	e.run("", "list", "--type", "C", "-o", "json")
	if got != e.out.String() {
		t.Errorf("enqueue --from -o json printed\n%s\nlist -o json prints\n%s", got, e.out)
	}
	// An empty input is [] in JSON, nothing in jsonl.
	if e.run("", "enqueue", "--from", "-", "-o", "json"); e.out.String() != "[]\n" {
		t.Errorf("empty json: %q", e.out)
	}
	if e.run("", "enqueue", "--from", "-", "-o", "jsonl"); e.out.Len() != 0 {
		t.Errorf("empty jsonl: %q", e.out)
	}
	// A format it cannot stream is a usage error, before anything is read.
	for _, f := range []string{"yaml", "csv"} {
		if code := e.run(`{"type":"D"}`+"\n", "enqueue", "--from", "-", "-o", f); code != 2 || !strings.Contains(e.errOut.String(), "not "+f) {
			t.Errorf("-o %s: exit %d, stderr %q", f, code, e.errOut)
		}
	}
	if e.run("", "list", "--type", "D", "-q"); e.out.Len() != 0 {
		t.Errorf("a refused format enqueued %q", e.out)
	}
}
