// Package storetest is the store conformance suite. Every backend runs
// Exercise, which is how the Postgres and SQLite stores stay alike.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Harness is a fresh, migrated, empty store plus a way to run raw SQL on it,
// for putting jobs into states the API under test does not reach. SQL uses
// $N placeholders, which both backends accept; Exec converts time.Time
// arguments to the backend's representation.
type Harness struct {
	Store store.Store
	Exec  func(t testing.TB, sql string, args ...any)
}

// NewFunc makes a fresh harness for one test.
type NewFunc func(t *testing.T) *Harness

// Exercise runs the whole suite. Subtests run in parallel, each on its own
// store.
func Exercise(t *testing.T, newHarness NewFunc) {
	t.Run("Migrate", func(t *testing.T) { t.Parallel(); testMigrate(t, newHarness(t)) })
	t.Run("Enqueue", func(t *testing.T) { t.Parallel(); testEnqueue(t, newHarness(t)) })
	t.Run("EnqueueUnique", func(t *testing.T) { t.Parallel(); testEnqueueUnique(t, newHarness(t)) })
	t.Run("EnqueueRelations", func(t *testing.T) { t.Parallel(); testEnqueueRelations(t, newHarness(t)) })
	t.Run("EnqueueMany", func(t *testing.T) { t.Parallel(); testEnqueueMany(t, newHarness(t)) })
	exerciseBulk(t, newHarness)
	t.Run("PlainSQLInsert", func(t *testing.T) { t.Parallel(); testPlainSQLInsert(t, newHarness(t)) })
	t.Run("ListFilters", func(t *testing.T) { t.Parallel(); testListFilters(t, newHarness(t)) })
	t.Run("ListPaging", func(t *testing.T) { t.Parallel(); testListPaging(t, newHarness(t)) })
	t.Run("Archived", func(t *testing.T) { t.Parallel(); testArchived(t, newHarness(t)) })
	t.Run("Import", func(t *testing.T) { t.Parallel(); testImport(t, newHarness(t)) })
	exerciseQueue(t, newHarness)
	exerciseActions(t, newHarness)
	t.Run("Monitoring", func(t *testing.T) { t.Parallel(); testMonitoring(t, newHarness(t)) })
	t.Run("MonitoringByUser", func(t *testing.T) { t.Parallel(); testMonitoringByUser(t, newHarness(t)) })
	t.Run("Counts", func(t *testing.T) { t.Parallel(); testCounts(t, newHarness(t)) })
	t.Run("ActionVia", func(t *testing.T) { t.Parallel(); testActionVia(t, newHarness(t)) })
	t.Run("Schedules", func(t *testing.T) { t.Parallel(); testSchedules(t, newHarness(t)) })
	t.Run("SchemaTooNew", func(t *testing.T) { t.Parallel(); testSchemaTooNew(t, newHarness(t)) })
	exerciseAccounts(t, newHarness)
}

var idPattern = regexp.MustCompile(`^job_[0-9a-hjkmnp-tv-z]{26}$`)

func ctx() context.Context { return context.Background() }

func enqueue(t *testing.T, s store.Store, p *store.EnqueueParams) *store.Job {
	t.Helper()
	res, err := s.Enqueue(ctx(), p)
	if err != nil {
		t.Fatalf("enqueue %+v: %v", p, err)
	}
	return res.Job
}

func setStatus(t *testing.T, h *Harness, id string, st store.Status) {
	t.Helper()
	h.Exec(t, `UPDATE "Job" SET status = $1 WHERE id = $2`, string(st), id)
}

func ids(jobs []*store.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func testMigrate(t *testing.T, h *Harness) {
	s := h.Store
	applied, err := s.Migrate(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Errorf("second Migrate applied %v; want nothing (idempotent)", applied)
	}
	ms, err := s.Migrations(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations listed")
	}
	for _, m := range ms {
		if m.AppliedAt == nil {
			t.Errorf("migration %d %s not applied", m.Version, m.Name)
		}
	}
	if err := s.CheckSchema(ctx()); err != nil {
		t.Errorf("CheckSchema: %v", err)
	}
}

func testSchemaTooNew(t *testing.T, h *Harness) {
	h.Exec(t, `INSERT INTO "SchemaMigration" (version, name, "appliedAt") VALUES (999, 'future', $1)`, time.Now())
	if err := h.Store.CheckSchema(ctx()); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("CheckSchema = %v; want ErrSchemaTooNew", err)
	}
	if _, err := h.Store.Migrate(ctx()); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Migrate = %v; want ErrSchemaTooNew", err)
	}
	ms, err := h.Store.Migrations(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; last.Version != 999 {
		t.Errorf("Migrations does not show the unknown version 999: %+v", ms)
	}
}

func testEnqueue(t *testing.T, h *Harness) {
	s := h.Store
	before := time.Now().Add(-time.Second)
	j := enqueue(t, s, &store.EnqueueParams{Type: "CalendarSync"})
	if !idPattern.MatchString(j.ID) {
		t.Errorf("id %q does not look like job_ + ULID", j.ID)
	}
	if j.Status != store.StatusPending || j.Priority != store.PriorityNormal || j.MaxAttempts != 5 || j.Attempts != 0 {
		t.Errorf("defaults: got status %s priority %s attempts %d/%d", j.Status, j.Priority, j.Attempts, j.MaxAttempts)
	}
	if string(j.Data) != "{}" {
		t.Errorf("default data = %s; want {}", j.Data)
	}
	if j.Output != nil || j.StartedAt != nil || j.CompletedAt != nil || len(j.History) != 0 {
		t.Errorf("new job has output/times/history: %+v", j)
	}
	if j.ScheduledFor.Before(before) || j.ScheduledFor.After(time.Now().Add(time.Second)) {
		t.Errorf("scheduledFor %v is not now", j.ScheduledFor)
	}
	if j.CreatedAt.IsZero() || j.UpdatedAt.IsZero() {
		t.Errorf("createdAt/updatedAt not set: %+v", j)
	}

	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := enqueue(t, s, &store.EnqueueParams{
		Type: "ReportGeneration", Data: json.RawMessage(`{"reportId":"r_1","pages":[1,2]}`),
		Priority: store.PriorityCritical, ScheduledFor: at, MaxAttempts: 3, UserID: "user_123",
	})
	got, err := s.Get(ctx(), full.ID)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(got.Data, &data); err != nil || data["reportId"] != "r_1" {
		t.Errorf("data round trip: %s (%v)", got.Data, err)
	}
	if got.Priority != store.PriorityCritical || got.MaxAttempts != 3 || got.UserID != "user_123" || !got.ScheduledFor.Equal(at) {
		t.Errorf("fields not stored: %+v", got)
	}
	if got.Type != "ReportGeneration" || got.Status != store.StatusPending {
		t.Errorf("got %s %s", got.Type, got.Status)
	}

	if _, err := s.Get(ctx(), "job_doesnotexist"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get unknown = %v; want ErrNotFound", err)
	}
	for _, bad := range []*store.EnqueueParams{
		{Type: ""},
		{Type: "X", Data: json.RawMessage(`{"a":`)},
		{Type: "X", Priority: "URGENT"},
		{Type: "X", MaxAttempts: -1},
	} {
		if _, err := s.Enqueue(ctx(), bad); err == nil {
			t.Errorf("Enqueue(%+v) succeeded; want an error", bad)
		}
	}
	if n, _ := s.Count(ctx(), &store.Filter{}, false); n != 2 {
		t.Errorf("count after rejected enqueues = %d; want 2", n)
	}
}

func testEnqueueUnique(t *testing.T, h *Harness) {
	s := h.Store
	first := enqueue(t, s, &store.EnqueueParams{Type: "EmailSending", UniqueKey: "welcome:user_1"})
	res, err := s.Enqueue(ctx(), &store.EnqueueParams{Type: "EmailSending", UniqueKey: "welcome:user_1"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Existing || res.Job.ID != first.ID {
		t.Errorf("second enqueue with the key = %s (existing %v); want %s", res.Job.ID, res.Existing, first.ID)
	}
	// RUNNING and RETRYING still hold the key; a finished job frees it.
	for _, st := range []store.Status{store.StatusRunning, store.StatusRetrying} {
		setStatus(t, h, first.ID, st)
		res, err := s.Enqueue(ctx(), &store.EnqueueParams{Type: "EmailSending", UniqueKey: "welcome:user_1"})
		if err != nil || !res.Existing {
			t.Errorf("%s holder: existing=%v err=%v; want the holder back", st, res != nil && res.Existing, err)
		}
	}
	setStatus(t, h, first.ID, store.StatusCompleted)
	res, err = s.Enqueue(ctx(), &store.EnqueueParams{Type: "EmailSending", UniqueKey: "welcome:user_1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Existing || res.Job.ID == first.ID {
		t.Errorf("after the holder completed, enqueue returned the old job")
	}
	if n, _ := s.Count(ctx(), &store.Filter{Types: []string{"EmailSending"}}, false); n != 2 {
		t.Errorf("count = %d; want 2", n)
	}
}

func testEnqueueRelations(t *testing.T, h *Harness) {
	s := h.Store
	export := enqueue(t, s, &store.EnqueueParams{Type: "ExportReport"})
	done := enqueue(t, s, &store.EnqueueParams{Type: "DataImport"})
	setStatus(t, h, done.ID, store.StatusCompleted)

	email := enqueue(t, s, &store.EnqueueParams{Type: "EmailReport", DependsOn: []string{export.ID, done.ID}})
	if email.WaitingOn != 1 {
		t.Errorf("waitingOn = %d; want 1 (one dependency not completed)", email.WaitingOn)
	}
	// IDs without the job_ prefix are accepted.
	child := enqueue(t, s, &store.EnqueueParams{Type: "EmailSending", ParentID: export.ID[len("job_"):]})
	if child.ParentID != export.ID {
		t.Errorf("parentId = %q; want %q", child.ParentID, export.ID)
	}

	got, err := s.Get(ctx(), email.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{export.ID, done.ID}
	slices.Sort(want)
	if !slices.Equal(got.DependsOn, want) {
		t.Errorf("dependsOn = %v; want %v", got.DependsOn, want)
	}

	rel, err := s.Related(ctx(), export)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(rel.Children), []string{child.ID}) || !slices.Equal(ids(rel.Dependents), []string{email.ID}) || rel.Parent != nil {
		t.Errorf("related(export) = children %v dependents %v parent %v", ids(rel.Children), ids(rel.Dependents), rel.Parent)
	}
	rel, err = s.Related(ctx(), email)
	if err != nil {
		t.Fatal(err)
	}
	got2 := ids(rel.Dependencies)
	slices.Sort(got2)
	if !slices.Equal(got2, want) {
		t.Errorf("related(email).dependencies = %v; want %v", got2, want)
	}
	rel, err = s.Related(ctx(), child)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Parent == nil || rel.Parent.ID != export.ID {
		t.Errorf("related(child).parent = %v; want %s", rel.Parent, export.ID)
	}

	if _, err := s.Enqueue(ctx(), &store.EnqueueParams{Type: "X", DependsOn: []string{"job_missing"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown dependency: %v; want ErrNotFound", err)
	}
	if _, err := s.Enqueue(ctx(), &store.EnqueueParams{Type: "X", ParentID: "job_missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown parent: %v; want ErrNotFound", err)
	}
}

func testEnqueueMany(t *testing.T, h *Harness) {
	s := h.Store
	parent := enqueue(t, s, &store.EnqueueParams{Type: "DataImport"})
	var ps []*store.EnqueueParams
	for i := 0; i < 1234; i++ {
		ps = append(ps, &store.EnqueueParams{Type: "EmailSending", Data: json.RawMessage(`{"n":1}`), ParentID: parent.ID})
	}
	ps = append(ps,
		&store.EnqueueParams{Type: "EmailSending", UniqueKey: "k1", Priority: store.PriorityHigh},
		&store.EnqueueParams{Type: "EmailSending", DependsOn: []string{parent.ID}},
	)
	var last int
	n, err := s.EnqueueMany(ctx(), ps, func(done int) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	if n != 1236 || last != 1236 {
		t.Errorf("EnqueueMany = %d, last progress %d; want 1236", n, last)
	}
	if c, _ := s.Count(ctx(), &store.Filter{Types: []string{"EmailSending"}}, false); c != 1236 {
		t.Errorf("count = %d; want 1236", c)
	}
	rel, err := s.Related(ctx(), parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Dependents) != 1 || len(rel.Children) == 0 {
		t.Errorf("bulk relations: %d dependents, %d children", len(rel.Dependents), len(rel.Children))
	}

	// One bad job rejects the whole batch.
	bad := []*store.EnqueueParams{{Type: "A"}, {Type: "B", Priority: "NOPE"}, {Type: "C"}}
	if _, err := s.EnqueueMany(ctx(), bad, nil); err == nil {
		t.Error("EnqueueMany with an invalid job succeeded")
	}
	missingParent := []*store.EnqueueParams{{Type: "A"}, {Type: "A", ParentID: "job_nope"}}
	if _, err := s.EnqueueMany(ctx(), missingParent, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EnqueueMany with an unknown parent: %v; want ErrNotFound", err)
	}
	if c, _ := s.Count(ctx(), &store.Filter{Types: []string{"A", "B", "C"}}, false); c != 0 {
		t.Errorf("a rejected batch inserted %d jobs", c)
	}
}

func testPlainSQLInsert(t *testing.T, h *Harness) {
	first := enqueue(t, h.Store, &store.EnqueueParams{Type: "First"})
	time.Sleep(2 * time.Millisecond)
	h.Exec(t, `INSERT INTO "Job" (type, data) VALUES ('CalendarSync', '{"userId":"user_123"}')`)
	jobs, err := h.Store.List(ctx(), &store.ListParams{Filter: store.Filter{Types: []string{"CalendarSync"}}})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("list after plain INSERT: %v, %d jobs", err, len(jobs))
	}
	j := jobs[0]
	if !regexp.MustCompile(`^job_[0-9a-z]{26}$`).MatchString(j.ID) {
		t.Errorf("default id %q is not job_ + 26 characters", j.ID)
	}
	if j.ID <= first.ID {
		t.Errorf("default id %s does not sort after the earlier %s", j.ID, first.ID)
	}
	if j.Status != store.StatusPending || j.Priority != store.PriorityNormal || j.MaxAttempts != 5 {
		t.Errorf("plain insert defaults: %+v", j)
	}
	if time.Since(j.ScheduledFor) > time.Minute || time.Since(j.CreatedAt) > time.Minute {
		t.Errorf("plain insert times: scheduledFor %v createdAt %v", j.ScheduledFor, j.CreatedAt)
	}
}

// seed makes a small fixed population for the filter tests.
func seed(t *testing.T, h *Harness) map[string]*store.Job {
	t.Helper()
	base := time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC)
	specs := []struct {
		name, typ string
		status    store.Status
		ageHours  int
		user      string
	}{
		{"calFailed", "CalendarSync", store.StatusFailed, 1, "user_123"},
		{"calDead", "CalendarSync", store.StatusDead, 2, "user_123"},
		{"calDone", "CalendarSync", store.StatusCompleted, 30, "user_456"},
		{"metricDead", "MetricCalculation", store.StatusDead, 3, ""},
		{"reportPending", "ReportGeneration", store.StatusPending, 0, "user_123"},
		{"emailRetrying", "EmailSending", store.StatusRetrying, 5, ""},
	}
	out := map[string]*store.Job{}
	for _, sp := range specs {
		j := enqueue(t, h.Store, &store.EnqueueParams{Type: sp.typ, UserID: sp.user})
		created := base.Add(-time.Duration(sp.ageHours) * time.Hour)
		h.Exec(t, `UPDATE "Job" SET status = $1, "createdAt" = $2 WHERE id = $3`, string(sp.status), created, j.ID)
		j.Status, j.CreatedAt = sp.status, created
		out[sp.name] = j
	}
	return out
}

func testListFilters(t *testing.T, h *Harness) {
	jobs := seed(t, h)
	base := time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		f    store.Filter
		want []string // newest first
	}{
		{"all", store.Filter{}, []string{"reportPending", "calFailed", "calDead", "metricDead", "emailRetrying", "calDone"}},
		{"status dead", store.Filter{Statuses: []store.Status{store.StatusDead}}, []string{"calDead", "metricDead"}},
		{"statuses", store.Filter{Statuses: []store.Status{store.StatusDead, store.StatusFailed}}, []string{"calFailed", "calDead", "metricDead"}},
		{"type+status", store.Filter{Types: []string{"CalendarSync"}, Statuses: []store.Status{store.StatusFailed}}, []string{"calFailed"}},
		{"types", store.Filter{Types: []string{"EmailSending", "MetricCalculation"}}, []string{"metricDead", "emailRetrying"}},
		{"since", store.Filter{Since: base.Add(-150 * time.Minute)}, []string{"reportPending", "calFailed", "calDead"}},
		{"until", store.Filter{Until: base.Add(-150 * time.Minute)}, []string{"metricDead", "emailRetrying", "calDone"}},
		{"since+until", store.Filter{Since: base.Add(-4 * time.Hour), Until: base.Add(-90 * time.Minute)}, []string{"calDead", "metricDead"}},
		{"user", store.Filter{UserID: "user_123"}, []string{"reportPending", "calFailed", "calDead"}},
		{"ids", store.Filter{IDs: []string{jobs["calDone"].ID, jobs["calDead"].ID}}, []string{"calDead", "calDone"}},
		{"nothing", store.Filter{Types: []string{"Nope"}}, nil},
	}
	for _, c := range cases {
		got, err := h.Store.List(ctx(), &store.ListParams{Filter: c.f, Limit: 50})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want []string
		for _, n := range c.want {
			want = append(want, jobs[n].ID)
		}
		if !slices.Equal(ids(got), want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: got %v; want %v", c.name, ids(got), want)
		}
		n, err := h.Store.Count(ctx(), &c.f, false)
		if err != nil || n != int64(len(want)) {
			t.Errorf("%s: count = %d (%v); want %d", c.name, n, err, len(want))
		}
	}
	// Filter.Matches, the conditions in Go, selects what the SQL does.
	all, err := h.Store.List(ctx(), &store.ListParams{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	extra := []store.Filter{{FinishedBefore: base}, {FinishedBefore: base.Add(-3 * time.Hour)}, {Since: base.Add(-3 * time.Hour), UserID: "user_123", Statuses: []store.Status{store.StatusDead}}}
	for i, f := range slices.Concat(func() (fs []store.Filter) {
		for _, c := range cases {
			fs = append(fs, c.f)
		}
		return fs
	}(), extra) {
		sql, err := h.Store.List(ctx(), &store.ListParams{Filter: f, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var inGo []*store.Job
		for _, j := range all {
			if f.Matches(j) {
				inGo = append(inGo, j)
			}
		}
		if !slices.Equal(ids(sql), ids(inGo)) {
			t.Errorf("filter %d %+v: Matches selects %v; the SQL %v", i, f, ids(inGo), ids(sql))
		}
	}
}

func testListPaging(t *testing.T, h *Harness) {
	s := h.Store
	prios := []store.Priority{store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityCritical}
	for i := 0; i < 23; i++ {
		enqueue(t, s, &store.EnqueueParams{Type: "Page", Priority: prios[i%4]})
	}
	// Many jobs share one createdAt, so the page boundary must use the id;
	// and they are of three statuses, so a page in "createdAt" order merges
	// three ranges of the status index, whose ties the id breaks too.
	h.Exec(t, `UPDATE "Job" SET "createdAt" = $1 WHERE type = 'Page'`, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h.Exec(t, `UPDATE "Job" SET status = 'FAILED', "completedAt" = "createdAt" WHERE type = 'Page' AND priority = 'HIGH'`)
	h.Exec(t, `UPDATE "Job" SET status = 'COMPLETED', "completedAt" = "createdAt" WHERE type = 'Page' AND priority = 'LOW'`)
	twoStatuses := store.Filter{Statuses: []store.Status{store.StatusFailed, store.StatusPending, store.StatusFailed}}
	for _, f := range []store.Filter{{}, twoStatuses} {
		for _, sort := range []store.Sort{store.SortCreatedDesc, store.SortCreatedAsc, store.SortPriority} {
			all, err := s.List(ctx(), &store.ListParams{Filter: f, Limit: 100, Sort: sort})
			if err != nil {
				t.Fatal(err)
			}
			want := 23
			if len(f.Statuses) > 0 {
				want = 17 // less the 6 LOW ones, COMPLETED
			}
			if len(all) != want {
				t.Fatalf("%s %v: %d jobs; want %d", sort, f.Statuses, len(all), want)
			}
			if sort != store.SortPriority {
				byID := slices.Clone(ids(all))
				slices.Sort(byID)
				if sort == store.SortCreatedDesc {
					slices.Reverse(byID)
				}
				if !slices.Equal(ids(all), byID) {
					t.Errorf("%s %v: order %v; want %v", sort, f.Statuses, ids(all), byID)
				}
			}
			var paged []*store.Job
			after := ""
			for {
				page, err := s.List(ctx(), &store.ListParams{Filter: f, Limit: 5, Sort: sort, After: after})
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
				if len(page) < 5 {
					break
				}
				after = page[len(page)-1].ID
			}
			if !slices.Equal(ids(paged), ids(all)) {
				t.Errorf("%s %v: paging gave %v; want %v", sort, f.Statuses, ids(paged), ids(all))
			}
		}
	}
	for _, sort := range []store.Sort{store.SortPriority} {
		all, err := s.List(ctx(), &store.ListParams{Limit: 100, Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		if sort == store.SortPriority {
			for i := 1; i < len(all); i++ {
				if all[i-1].Priority.Rank() < all[i].Priority.Rank() {
					t.Errorf("priority sort: %s before %s", all[i-1].Priority, all[i].Priority)
				}
			}
		}
	}
}

func testArchived(t *testing.T, h *Harness) {
	s := h.Store
	j := enqueue(t, s, &store.EnqueueParams{Type: "InventoryReconciliation", Data: json.RawMessage(`{"sku":"A1"}`)})
	h.Exec(t, `INSERT INTO "JobArchive" (id, type, status, priority, data, attempts, "maxAttempts", "scheduledFor", "createdAt", "updatedAt", "completedAt")
		SELECT id, type, 'COMPLETED', priority, data, attempts, "maxAttempts", "scheduledFor", "createdAt", "updatedAt", "createdAt" FROM "Job" WHERE id = $1`, j.ID)
	h.Exec(t, `DELETE FROM "Job" WHERE id = $1`, j.ID)

	got, err := s.Get(ctx(), j.ID)
	if err != nil {
		t.Fatalf("Get archived: %v", err)
	}
	if got.ArchivedAt == nil || got.Status != store.StatusCompleted || string(got.Data) == "" {
		t.Errorf("archived job: %+v", got)
	}
	live, err := s.List(ctx(), &store.ListParams{})
	if err != nil || len(live) != 0 {
		t.Errorf("live list: %d jobs (%v); want 0", len(live), err)
	}
	arch, err := s.List(ctx(), &store.ListParams{Archived: true, Filter: store.Filter{Types: []string{"InventoryReconciliation"}}})
	if err != nil || len(arch) != 1 || arch[0].ArchivedAt == nil {
		t.Errorf("archived list: %v (%v)", ids(arch), err)
	}
	if n, _ := s.Count(ctx(), &store.Filter{}, true); n != 1 {
		t.Errorf("archived count = %d; want 1", n)
	}
	// No CHECK holds an archived row to the statuses (a runbook's INSERT
	// may write any): a "createdAt" range over the archive names none, so
	// such a row is listed and counted like the others.
	h.Exec(t, `UPDATE "JobArchive" SET status = 'ARCHIVED' WHERE id = $1`, j.ID)
	since := store.Filter{Since: time.Now().Add(-time.Hour)}
	if arch, err := s.List(ctx(), &store.ListParams{Archived: true, Filter: since}); err != nil || len(arch) != 1 {
		t.Errorf("archived list --since 1h: %v (%v); want the one job", ids(arch), err)
	}
	if n, err := s.CountUpTo(ctx(), &since, true, 10); err != nil || n.N != 1 {
		t.Errorf("archived count --since 1h = %d (%v); want 1", n.N, err)
	}
	h.Exec(t, `UPDATE "JobArchive" SET status = 'COMPLETED' WHERE id = $1`, j.ID)
	for _, sort := range []store.Sort{store.SortCreatedDesc, store.SortPriority} {
		if _, err := s.List(ctx(), &store.ListParams{Archived: true, Sort: sort, After: j.ID}); err != nil {
			t.Errorf("archived list sorted %s after %s: %v", sort, j.ID, err)
		}
	}
}

func testImport(t *testing.T, h *Harness) {
	s := h.Store
	at := func(m int) *time.Time { t := time.Date(2025, 10, 25, 10, m, 0, 0, time.UTC); return &t }
	dep := &store.Job{ID: store.NewID(time.Now()), Type: "ExportReport", Status: store.StatusCompleted, Priority: store.PriorityNormal,
		Data: json.RawMessage(`{}`), Output: json.RawMessage(`{"url":"s3://r.pdf"}`), Attempts: 1, MaxAttempts: 5,
		ScheduledFor: *at(0), CreatedAt: *at(0), StartedAt: at(1), CompletedAt: at(2), UpdatedAt: *at(2)}
	failed := &store.Job{ID: "job_12345abc", Type: "CalendarSync", Status: store.StatusFailed, Priority: store.PriorityHigh,
		Data: json.RawMessage(`{"userId":"user_123","provider":"google"}`), ErrorMessage: "Token refresh failed: Invalid refresh token",
		ErrorCode: "AUTH_ERROR", ErrorStack: "Error: Token refresh failed\n  at x", Attempts: 3, MaxAttempts: 5,
		ScheduledFor: *at(3), CreatedAt: *at(0), StartedAt: at(3), CompletedAt: at(4), UpdatedAt: *at(4), UserID: "user_123",
		ParentID: dep.ID, DependsOn: []string{dep.ID},
		History: []store.Attempt{
			{Attempt: 1, At: *at(1), Code: "NETWORK_ERROR", Message: "Network timeout", WorkerID: "w1"},
			{Attempt: 2, At: *at(2), Code: "NETWORK_ERROR", Message: "Network timeout"},
			{Attempt: 3, At: *at(4), Code: "AUTH_ERROR", Message: "Invalid token"},
		}}
	if err := s.Import(ctx(), []*store.Job{dep, failed}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(), failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusFailed || got.ErrorCode != "AUTH_ERROR" || got.ErrorStack != failed.ErrorStack ||
		got.Attempts != 3 || got.Priority != store.PriorityHigh || got.ParentID != dep.ID || !got.CompletedAt.Equal(*failed.CompletedAt) {
		t.Errorf("imported job differs: %+v", got)
	}
	if len(got.History) != 3 || got.History[2].Code != "AUTH_ERROR" || !got.History[0].At.Equal(*at(1)) || got.History[0].WorkerID != "w1" {
		t.Errorf("history = %+v", got.History)
	}
	if !slices.Equal(got.DependsOn, []string{dep.ID}) {
		t.Errorf("dependsOn = %v", got.DependsOn)
	}
	d, err := s.Get(ctx(), dep.ID)
	if err != nil || string(d.Output) == "" || d.Duration() != time.Minute {
		t.Errorf("dependency: %+v (%v)", d, err)
	}
	// All or none: a duplicate ID fails the whole import.
	if err := s.Import(ctx(), []*store.Job{{ID: store.NewID(time.Now()), Type: "X", Status: store.StatusPending, Priority: store.PriorityNormal,
		MaxAttempts: 5, ScheduledFor: *at(0), CreatedAt: *at(0), UpdatedAt: *at(0)}, failed}); err == nil {
		t.Error("importing a duplicate ID succeeded")
	}
	if n, _ := s.Count(ctx(), &store.Filter{}, false); n != 2 {
		t.Errorf("count after failed import = %d; want 2", n)
	}
}
