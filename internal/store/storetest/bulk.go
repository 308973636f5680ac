package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func exerciseBulk(t *testing.T, newHarness NewFunc) {
	t.Run("BulkRefusals", func(t *testing.T) { t.Parallel(); testBulkRefusals(t, newHarness(t)) })
	t.Run("BulkAccepts", func(t *testing.T) { t.Parallel(); testBulkAccepts(t, newHarness(t)) })
	t.Run("BulkLines", func(t *testing.T) { t.Parallel(); testBulkLines(t, newHarness(t)) })
	t.Run("BulkDatabaseRefusal", func(t *testing.T) { t.Parallel(); testBulkDatabaseRefusal(t, newHarness(t)) })
	t.Run("BulkStreams", func(t *testing.T) { t.Parallel(); testBulkStreams(t, newHarness(t)) })
	t.Run("BulkBatchOrder", func(t *testing.T) { t.Parallel(); testBulkBatchOrder(t, newHarness(t)) })
}

// lines yields jobs at the given input lines, as a JSONL file with blank
// lines would.
type lines struct {
	ps    []*store.EnqueueParams
	lines []int
	i     int
}

func (l *lines) Next() (*store.EnqueueParams, int, error) {
	if l.i == len(l.ps) {
		return nil, 0, io.EOF
	}
	l.i++
	return l.ps[l.i-1], l.lines[l.i-1], nil
}

func countAll(t *testing.T, s store.Store) int64 {
	t.Helper()
	n, err := s.Count(ctx(), &store.Filter{}, false)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Every input the store refuses, refused alike by Enqueue, by a bulk
// enqueue (naming the line, inserting nothing) and, for type and data, by
// AddSchedule, with the same text on both backends.
func testBulkRefusals(t *testing.T, h *Harness) {
	s := h.Store
	enqueue(t, s, &store.EnqueueParams{Type: "Before"})
	tests := []struct {
		name string
		p    store.EnqueueParams
		want string
	}{
		{"type too long", store.EnqueueParams{Type: strings.Repeat("T", 5000)},
			"invalid job type: 5000 characters (a type is 1-128 letters, digits and _ - . :)"},
		{"type with escapes", store.EnqueueParams{Type: "A\x1b[2J\tB"},
			`invalid job type "A\x1b[2J\tB": '\x1b' is not allowed (a type is 1-128 letters, digits and _ - . :)`},
		{"user ID too long", store.EnqueueParams{Type: "A", UserID: strings.Repeat("u", 256)}, "invalid user ID: 256 characters (at most 255)"},
		{"unique key too long", store.EnqueueParams{Type: "A", UniqueKey: strings.Repeat("k", 256)}, "invalid unique key: 256 characters (at most 255)"},
		{"parent ID too long", store.EnqueueParams{Type: "A", ParentID: "job_" + strings.Repeat("p", 252)}, "invalid parent ID: 256 characters (at most 255)"},
		{"user ID with NUL", store.EnqueueParams{Type: "A", UserID: "u\x00"}, `invalid user ID "u\x00": control character '\x00'`},
		{"data with NUL", store.EnqueueParams{Type: "A", Data: json.RawMessage(`{"s":"a\u0000b"}`)}, `data holds \u0000 (NUL), which Postgres cannot store`},
		{"data with a lone surrogate", store.EnqueueParams{Type: "A", Data: json.RawMessage(`{"s":"\udead"}`)}, `data holds an unpaired surrogate escape \udead, which Postgres cannot store`},
		{"data number out of range", store.EnqueueParams{Type: "A", Data: json.RawMessage(`[1e131072]`)},
			"data holds the number 1e131072, beyond what Postgres can store (131072 digits before the decimal point, 16383 after)"},
		{"data not JSON", store.EnqueueParams{Type: "A", Data: json.RawMessage(`{`)}, "data: invalid JSON at byte 1: unexpected end of JSON input"},
		{"data too big", store.EnqueueParams{Type: "A", Data: json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)},
			"data is 1048578 bytes, over the limit of 1048576 (limits.maxDataBytes in the config file)"},
		{"max attempts over 1000", store.EnqueueParams{Type: "A", MaxAttempts: 1001}, "maxAttempts must be between 1 and 1000 (got 1001)"},
	}
	for _, tc := range tests {
		p := tc.p
		if _, err := s.Enqueue(ctx(), &p); err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: Enqueue = %v; want %q", tc.name, err, tc.want)
		}
		bad := tc.p
		// As the fourth job of a batch, after a plain job and one with a
		// unique key, which go in by different paths.
		_, err := s.EnqueueFrom(ctx(), &lines{
			ps:    []*store.EnqueueParams{{Type: "A"}, {Type: "A", UniqueKey: "u-" + tc.name}, {Type: "A"}, &bad, {Type: "A"}},
			lines: []int{1, 3, 4, 6, 7},
		}, nil)
		var re *store.RowError
		if !errors.As(err, &re) || re.Line != 6 || re.Err.Error() != tc.want {
			t.Errorf("%s: EnqueueFrom = %v; want line 6: %s", tc.name, err, tc.want)
		}
		if n := countAll(t, s); n != 1 {
			t.Fatalf("%s: a refused batch left %d jobs; want the 1 from before", tc.name, n-1)
		}
	}
	for _, tc := range tests[:2] {
		err := s.AddSchedule(ctx(), &store.Schedule{Name: "s", Type: tc.p.Type, Cron: "* * * * *", Timezone: "UTC"}, "test")
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: AddSchedule = %v; want %q", tc.name, err, tc.want)
		}
	}
	err := s.AddSchedule(ctx(), &store.Schedule{Name: "s", Type: "A", Cron: "* * * * *", Timezone: "UTC", Data: json.RawMessage(`"\u0000"`)}, "test")
	if err == nil || !strings.HasSuffix(err.Error(), `data holds \u0000 (NUL), which Postgres cannot store`) {
		t.Errorf("AddSchedule with NUL data = %v", err)
	}
	if ss, _ := s.ListSchedules(ctx()); len(ss) != 0 {
		t.Errorf("refused schedules were added: %d", len(ss))
	}
}

// What is at the edge of the limits goes in, and comes back as it went.
func testBulkAccepts(t *testing.T, h *Harness) {
	s := h.Store
	data := json.RawMessage(`{"e":"\ud83d\ude00","big":1e1000,"small":1e-16383,"s":"\\u0000 żółw"}`)
	p := &store.EnqueueParams{Type: "az.AZ_09-x:" + strings.Repeat("T", 117), UserID: strings.Repeat("ü", 255),
		UniqueKey: strings.Repeat("k", 255), Data: data, MaxAttempts: 1000}
	j := enqueue(t, s, p)
	got, err := s.Get(ctx(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != p.Type || got.UserID != p.UserID || got.UniqueKey != p.UniqueKey || got.MaxAttempts != 1000 {
		t.Errorf("round trip: %+v", got)
	}
	var back map[string]any
	dec := json.NewDecoder(bytes.NewReader(got.Data))
	dec.UseNumber()
	if err := dec.Decode(&back); err != nil || back["e"] != "😀" || back["s"] != `\u0000 żółw` {
		t.Errorf("data came back as %s (%v)", got.Data, err)
	}
	big := json.RawMessage(`"` + strings.Repeat("x", 1<<20-2) + `"`)
	n, err := s.EnqueueFrom(ctx(), store.SliceSource([]*store.EnqueueParams{{Type: "Big", Data: big}, {Type: "Big", Data: big, MaxDataBytes: 2 << 20}}), nil)
	if err != nil || n != 2 {
		t.Errorf("data at the limit: %d, %v", n, err)
	}
}

// Bulk jobs go in in input order, whichever path each takes; a duplicate
// unique key gives the job already holding it, as Enqueue does; a missing
// parent or dependency is named by its line, and the batch rolls back.
func testBulkLines(t *testing.T, h *Harness) {
	s := h.Store
	parent := enqueue(t, s, &store.EnqueueParams{Type: "Parent"})
	// Jobs of the same millisecond sort by id, and the parent's id (one
	// Enqueue's, random after its time) need not sort before the bulk's
	// ids of that millisecond: 5 runs in 40 listed the parent after A, B
	// and C. The order checked below is the bulk's own.
	time.Sleep(2 * time.Millisecond)
	var got []string
	ps := []*store.EnqueueParams{
		{Type: "A", ParentID: parent.ID},
		{Type: "B", UniqueKey: "same"},
		{Type: "C", ParentID: parent.ID},
		{Type: "D", UniqueKey: "same"},
		{Type: "E", DependsOn: []string{parent.ID}},
		{Type: "F"},
	}
	n, err := s.EnqueueFrom(ctx(), store.SliceSource(ps), func(id string) { got = append(got, id) })
	if err != nil || n != 6 || len(got) != 6 {
		t.Fatalf("EnqueueFrom = %d, %v, %d IDs", n, err, len(got))
	}
	if got[1] != got[3] {
		t.Errorf("a second job with unique key \"same\" got %s, not the holder %s", got[3], got[1])
	}
	jobs, err := s.List(ctx(), &store.ListParams{Sort: store.SortCreatedAsc, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, j := range jobs {
		order = append(order, j.Type)
	}
	if want := []string{"Parent", "A", "B", "C", "E", "F"}; !slices.Equal(order, want) {
		t.Errorf("jobs went in as %v; want input order %v", order, want)
	}
	firsts := slices.Delete(slices.Clone(got), 3, 4) // line 4 gave line 2's job
	for i, id := range firsts {
		if id != jobs[i+1].ID {
			t.Errorf("ID %d given as %s; the job is %s", i, id, jobs[i+1].ID)
		}
	}

	// 1,100 parents: more than are checked in one query.
	var parents []*store.EnqueueParams
	for range 1100 {
		parents = append(parents, &store.EnqueueParams{Type: "Parent"})
	}
	var parentIDs []string
	if _, err := s.EnqueueFrom(ctx(), store.SliceSource(parents), func(id string) { parentIDs = append(parentIDs, id) }); err != nil {
		t.Fatal(err)
	}
	children := &lines{}
	for i := 1; i <= 1200; i++ {
		p := &store.EnqueueParams{Type: "Child", ParentID: parentIDs[i%len(parentIDs)]}
		if i == 1150 {
			p.ParentID = "job_missing"
		}
		children.ps = append(children.ps, p)
		children.lines = append(children.lines, 2*i)
	}
	before := countAll(t, s)
	_, err = s.EnqueueFrom(ctx(), children, nil)
	var re *store.RowError
	if !errors.As(err, &re) || re.Line != 2300 || !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "parent job_missing") {
		t.Errorf("missing parent: %v; want line 2300, parent job_missing not found", err)
	}
	children.i = 0
	children.ps[1149].ParentID = parentIDs[0]
	if n, err := s.EnqueueFrom(ctx(), children, nil); err != nil || n != 1200 {
		t.Errorf("1,200 children of 1,100 parents: %d, %v", n, err)
	}
	before += 1200
	_, err = s.EnqueueFrom(ctx(), &lines{
		ps:    []*store.EnqueueParams{{Type: "A"}, {Type: "A", DependsOn: []string{"job_nope"}}},
		lines: []int{1, 9},
	}, nil)
	if !errors.As(err, &re) || re.Line != 9 || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing dependency: %v; want line 9, not found", err)
	}
	if n := countAll(t, s); n != before {
		t.Errorf("refused batches changed the job count from %d to %d", before, n)
	}
}

// A row the database itself refuses (a trigger validation cannot know
// about) is named by its line, in the database's words on one line.
func testBulkDatabaseRefusal(t *testing.T, h *Harness) {
	s := h.Store
	switch s.Backend() {
	case "postgres":
		h.Exec(t, `ALTER TABLE "Job" ADD CONSTRAINT no_forbidden CHECK (type <> 'Forbidden')`)
	default:
		h.Exec(t, `CREATE TRIGGER no_forbidden BEFORE INSERT ON "Job" WHEN NEW.type = 'Forbidden' BEGIN SELECT RAISE(ABORT, 'no Forbidden jobs'); END`)
	}
	ps := []*store.EnqueueParams{{Type: "A"}, {Type: "A", UniqueKey: "k"}, {Type: "A"}, {Type: "A"}, {Type: "Forbidden"}, {Type: "A"}}
	// And deep in a long run of plain rows, which a backend may insert
	// many to a statement: the line is still the row's.
	long := []*store.EnqueueParams{{Type: "A", UniqueKey: "k"}}
	for i := 2; i <= 1000; i++ {
		typ := "A"
		if i == 777 {
			typ = "Forbidden"
		}
		long = append(long, &store.EnqueueParams{Type: typ})
	}
	for _, tc := range []struct {
		ps   []*store.EnqueueParams
		line int
	}{{ps, 5}, {long, 777}} {
		_, err := s.EnqueueFrom(ctx(), store.SliceSource(tc.ps), nil)
		var re *store.RowError
		if !errors.As(err, &re) || re.Line != tc.line {
			t.Fatalf("EnqueueFrom = %v; want a RowError at line %d", err, tc.line)
		}
		msg := re.Err.Error()
		if !strings.HasPrefix(msg, "the database refused it: ") || strings.Contains(msg, "SQLSTATE") || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("refusal = %q; want one line starting \"the database refused it: \", no SQLSTATE", msg)
		}
		if n := countAll(t, s); n != 0 {
			t.Errorf("a refused batch left %d jobs", n)
		}
	}
}

// A long bulk, with jobs that take the one-by-one path between runs of
// plain ones, lists in input order with every row as it was given, and
// the IDs handed back are the jobs', whatever batches a backend cut the
// runs into.
func testBulkBatchOrder(t *testing.T, h *Harness) {
	s := h.Store
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	var ps []*store.EnqueueParams
	for i := range 1234 {
		p := &store.EnqueueParams{Type: "Plain", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), UserID: fmt.Sprintf("u%d", i%7)}
		switch {
		case i%401 == 400:
			p.Type, p.UniqueKey = "Keyed", fmt.Sprintf("k%d", i)
		case i%3 == 1:
			p.Priority, p.MaxAttempts = store.PriorityHigh, 3
		case i%5 == 2:
			p.ScheduledFor = at.Add(time.Duration(i%4) * time.Minute)
		}
		ps = append(ps, p)
	}
	var ids []string
	n, err := s.EnqueueFrom(ctx(), store.SliceSource(ps), func(id string) { ids = append(ids, id) })
	if err != nil || n != len(ps) || len(ids) != len(ps) {
		t.Fatalf("EnqueueFrom = %d, %v, %d IDs", n, err, len(ids))
	}
	jobs, err := s.List(ctx(), &store.ListParams{Sort: store.SortCreatedAsc, Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(ps) {
		t.Fatalf("listed %d jobs; want %d", len(jobs), len(ps))
	}
	for i, j := range jobs {
		p := ps[i]
		want := fmt.Sprintf(`{"i":%d}`, i)
		var got, wantV any
		_ = json.Unmarshal(j.Data, &got)
		_ = json.Unmarshal([]byte(want), &wantV)
		if j.ID != ids[i] || j.Type != p.Type || j.UniqueKey != p.UniqueKey || j.UserID != p.UserID ||
			fmt.Sprint(got) != fmt.Sprint(wantV) || j.Status != store.StatusPending {
			t.Fatalf("job %d is %s %s %s %s; want %s %s %s %s", i, j.ID, j.Type, j.Data, j.UserID, ids[i], p.Type, want, p.UserID)
		}
		wantPri, wantMax := store.PriorityNormal, store.DefaultMaxAttempts
		if i%3 == 1 && i%401 != 400 {
			wantPri, wantMax = store.PriorityHigh, 3
		}
		if j.Priority != wantPri || j.MaxAttempts != wantMax {
			t.Errorf("job %d: priority %s, maxAttempts %d; want %s, %d", i, j.Priority, j.MaxAttempts, wantPri, wantMax)
		}
		if p.ScheduledFor.IsZero() {
			if j.ScheduledFor.After(at.Add(-50 * time.Minute)) {
				t.Errorf("job %d: due %s; want about now", i, j.ScheduledFor)
			}
		} else if !j.ScheduledFor.Equal(p.ScheduledFor) {
			t.Errorf("job %d: due %s; want %s", i, j.ScheduledFor, p.ScheduledFor)
		}
	}
}

// countingSource yields n plain jobs and records, at each read, how many
// IDs the store has already handed back: a store that read the whole
// input before inserting would have handed back none.
type countingSource struct {
	n, i, lagMax int
	given        *int
}

func (c *countingSource) Next() (*store.EnqueueParams, int, error) {
	if c.i == c.n {
		return nil, 0, io.EOF
	}
	if lag := c.i - *c.given; lag > c.lagMax {
		c.lagMax = lag
	}
	c.i++
	return &store.EnqueueParams{Type: "Stream", Data: json.RawMessage(`{"pad":"` + strings.Repeat("x", 200) + `"}`)}, c.i, nil
}

func testBulkStreams(t *testing.T, h *Harness) {
	given := 0
	src := &countingSource{n: 5000, given: &given}
	n, err := h.Store.EnqueueFrom(ctx(), src, func(string) { given++ })
	if err != nil || n != 5000 || given != 5000 {
		t.Fatalf("EnqueueFrom = %d, %v; %d IDs", n, err, given)
	}
	if src.lagMax > 1 {
		t.Errorf("the store read up to %d jobs ahead of the ones it took; want at most 1 (it buffers the input)", src.lagMax)
	}
}
