package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/postgres"
)

// runbookDir holds the guide's SQL statements that touch "Job", copied
// verbatim from spec/admin-tools-guide.md: DESIGN §2 promises that an
// operator can paste them into psql against jobctl's schema. Edit a file
// there only when the guide's statement changes.
const runbookDir = "../../../testdata/runbook"

// runbookFiles are the files TestRunbook knows; a new one needs a test.
var runbookFiles = []string{
	"01_bulk_retry_failed.sql",
	"02_duration.sql",
	"03_dead_count.sql",
	"04_error_patterns.sql",
	"05_bulk_retry_dead.sql",
	"06_archive_delete.sql",
}

func TestRunbookFilesAreKnown(t *testing.T) {
	entries, err := os.ReadDir(runbookDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, runbookFiles) {
		t.Errorf("%s holds %q, want %q: give a new statement a test in runbook_test.go", runbookDir, names, runbookFiles)
	}
}

// runbook returns a runbook statement exactly as it is on disk.
func runbook(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runbookDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// seed is a job to import: only what the runbook looks at is set by the
// test, the rest takes values a worker could have written.
type seed struct {
	id, typ  string
	status   store.Status
	attempts int
	created  time.Duration // before now
	started  time.Duration // before now; 0 means never started
	ran      time.Duration // completedAt - startedAt when started
	message  string
}

// importSeeds imports the seeds with times relative to the database's
// clock, so NOW() in the runbook and "now" here agree even when the
// database runs on another host.
func importSeeds(t *testing.T, s *postgres.Store, seeds []seed) (now time.Time, jobs map[string]*store.Job) {
	t.Helper()
	ctx := context.Background()
	if err := s.Pool().QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
		t.Fatal(err)
	}
	now = now.UTC().Truncate(time.Millisecond)
	jobs = map[string]*store.Job{}
	var list []*store.Job
	for _, sd := range seeds {
		j := &store.Job{
			ID:           sd.id,
			Type:         sd.typ,
			Status:       sd.status,
			Priority:     store.PriorityNormal,
			Data:         json.RawMessage(`{"userId":"user_123"}`),
			Attempts:     sd.attempts,
			MaxAttempts:  store.DefaultMaxAttempts,
			CreatedAt:    now.Add(-sd.created),
			ScheduledFor: now.Add(-sd.created),
			UpdatedAt:    now.Add(-sd.created),
			ErrorMessage: sd.message,
		}
		if sd.started != 0 {
			st := now.Add(-sd.started)
			done := st.Add(sd.ran)
			j.StartedAt, j.CompletedAt, j.UpdatedAt = &st, &done, done
		}
		jobs[j.ID] = j
		list = append(list, j)
	}
	if err := s.Import(ctx, list); err != nil {
		t.Fatal(err)
	}
	return now, jobs
}

// row is what the runbook's UPDATEs and DELETE may change.
type row struct {
	Status       string
	Attempts     int
	ScheduledFor time.Time
}

func readRows(t *testing.T, s *postgres.Store) map[string]row {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT id, status, attempts, "scheduledFor" FROM "Job"`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]row{}
	var (
		id string
		r  row
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &r.Status, &r.Attempts, &r.ScheduledFor}, func() error {
		r.ScheduledFor = r.ScheduledFor.UTC()
		out[id] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func asRows(jobs map[string]*store.Job) map[string]row {
	out := map[string]row{}
	for id, j := range jobs {
		out[id] = row{string(j.Status), j.Attempts, j.ScheduledFor}
	}
	return out
}

// execRunbook runs a statement that changes rows and returns how many it
// changed and the database's clock just before and after it.
func execRunbook(t *testing.T, s *postgres.Store, sql string) (n int64, before, after time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := s.Pool().QueryRow(ctx, "SELECT clock_timestamp()").Scan(&before); err != nil {
		t.Fatal(err)
	}
	tag, err := s.Pool().Exec(ctx, sql)
	if err != nil {
		t.Fatalf("runbook statement failed: %v\n%s", err, sql)
	}
	if err := s.Pool().QueryRow(ctx, "SELECT clock_timestamp()").Scan(&after); err != nil {
		t.Fatal(err)
	}
	return tag.RowsAffected(), before, after
}

func diffRows(t *testing.T, got, want map[string]row) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: gone, want %+v", id, w)
		case g.Status != w.Status || g.Attempts != w.Attempts || !g.ScheduledFor.Equal(w.ScheduledFor):
			t.Errorf("%s: got %+v, want %+v", id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: present (%+v), want deleted", id, g)
		}
	}
}

const day = 24 * time.Hour

func TestRunbook(t *testing.T) {
	t.Parallel()

	// Retrying -> Bulk Retry -> SQL Retry (Advanced).
	t.Run("01_bulk_retry_failed", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, jobs := importSeeds(t, s, []seed{
			{id: "job_cal_failed_0", typ: "CalendarSync", status: store.StatusFailed, attempts: 0, created: time.Hour},
			{id: "job_cal_failed_4", typ: "CalendarSync", status: store.StatusFailed, attempts: 4, created: 2 * time.Hour},
			{id: "job_cal_failed_5", typ: "CalendarSync", status: store.StatusFailed, attempts: 5, created: time.Hour},
			{id: "job_cal_dead", typ: "CalendarSync", status: store.StatusDead, attempts: 2, created: time.Hour},
			{id: "job_cal_pending", typ: "CalendarSync", status: store.StatusPending, attempts: 1, created: time.Hour},
			{id: "job_metric_failed", typ: "MetricCalculation", status: store.StatusFailed, attempts: 1, created: time.Hour},
			{id: "job_calsyncall_failed", typ: "CalendarSyncAll", status: store.StatusFailed, attempts: 1, created: time.Hour},
		})
		n, before, after := execRunbook(t, s, runbook(t, "01_bulk_retry_failed.sql"))
		if n != 2 {
			t.Errorf("UPDATE changed %d rows, want 2", n)
		}
		got := readRows(t, s)
		want := asRows(jobs)
		for _, id := range []string{"job_cal_failed_0", "job_cal_failed_4"} {
			sf := got[id].ScheduledFor
			if sf.Before(before.Truncate(time.Microsecond)) || sf.After(after) {
				t.Errorf("%s: scheduledFor %s, want NOW() (between %s and %s)", id, sf, before, after)
			}
			want[id] = row{"PENDING", 0, sf}
		}
		diffRows(t, got, want)
	})

	// Troubleshooting 2 -> Diagnosis: the duration of failed metric jobs,
	// newest first, ten at most.
	t.Run("02_duration", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		seeds := []seed{
			// Never started (failed before a worker ran it): NULL duration.
			{id: "job_metric_00", typ: "MetricCalculation", status: store.StatusFailed, created: 1 * time.Minute},
		}
		// Eleven more failed ones, older and older; the oldest falls off
		// the LIMIT.
		for i := 1; i <= 11; i++ {
			seeds = append(seeds, seed{
				id: "job_metric_" + string(rune('a'+i-1)), typ: "MetricCalculation", status: store.StatusFailed,
				created: time.Duration(i) * time.Hour, started: time.Duration(i)*time.Hour - time.Second,
				ran: 30*time.Second + time.Duration(i)*250*time.Millisecond,
			})
		}
		seeds = append(seeds,
			seed{id: "job_metric_ok", typ: "MetricCalculation", status: store.StatusCompleted, created: time.Second, started: time.Second, ran: time.Millisecond},
			seed{id: "job_metric_dead", typ: "MetricCalculation", status: store.StatusDead, created: time.Second, started: time.Second, ran: time.Second},
			seed{id: "job_cal_failed", typ: "CalendarSync", status: store.StatusFailed, created: time.Second, started: time.Second, ran: time.Second},
		)
		_, jobs := importSeeds(t, s, seeds)

		rows, err := s.Pool().Query(context.Background(), runbook(t, "02_duration.sql"))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, fd := range rows.FieldDescriptions() {
			names = append(names, fd.Name)
		}
		if want := []string{"id", "type", "startedAt", "completedAt", "duration_seconds"}; !slices.Equal(names, want) {
			t.Errorf("columns %q, want %q", names, want)
		}
		type result struct {
			ID, Type           string
			Started, Completed *time.Time
			DurationSeconds    *float64
		}
		var got []result
		var r result
		if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Type, &r.Started, &r.Completed, &r.DurationSeconds}, func() error {
			got = append(got, r)
			r = result{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		wantIDs := []string{"job_metric_00"}
		for i := 1; i <= 9; i++ {
			wantIDs = append(wantIDs, "job_metric_"+string(rune('a'+i-1)))
		}
		var gotIDs []string
		for _, g := range got {
			gotIDs = append(gotIDs, g.ID)
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("rows %q, want %q (newest first, 10 at most)", gotIDs, wantIDs)
		}
		for _, g := range got {
			j := jobs[g.ID]
			if g.Type != "MetricCalculation" {
				t.Errorf("%s: type %q", g.ID, g.Type)
			}
			if !timesEqual(g.Started, j.StartedAt) || !timesEqual(g.Completed, j.CompletedAt) {
				t.Errorf("%s: started %v completed %v, want %v %v", g.ID, g.Started, g.Completed, j.StartedAt, j.CompletedAt)
			}
			if j.StartedAt == nil {
				if g.DurationSeconds != nil {
					t.Errorf("%s: duration_seconds %v, want NULL", g.ID, *g.DurationSeconds)
				}
				continue
			}
			want := j.Duration().Seconds()
			if g.DurationSeconds == nil || *g.DurationSeconds != want {
				t.Errorf("%s: duration_seconds %v, want %v", g.ID, ptrString(g.DurationSeconds), want)
			}
		}
	})

	// Troubleshooting 3 -> Diagnosis: dead jobs by type, most first.
	t.Run("03_dead_count", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var seeds []seed
		add := func(typ string, status store.Status, n int) {
			for i := range n {
				seeds = append(seeds, seed{id: store.NewID(time.Now()), typ: typ, status: status, attempts: 5, created: time.Duration(i+1) * time.Minute})
			}
		}
		add("EmailSending", store.StatusDead, 2)
		add("CalendarSync", store.StatusDead, 4)
		add("ReportGeneration", store.StatusDead, 1)
		// Not DEAD: would top the list if the WHERE were ignored.
		add("ReportGeneration", store.StatusFailed, 6)
		add("DataImport", store.StatusCompleted, 8)
		importSeeds(t, s, seeds)

		type count struct {
			Type string
			N    int64
		}
		got := queryCounts[count](t, s, runbook(t, "03_dead_count.sql"), []string{"type", "dead_count"})
		want := []count{{"CalendarSync", 4}, {"EmailSending", 2}, {"ReportGeneration", 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	// Troubleshooting 3 -> Diagnosis: the five commonest errors of dead jobs.
	t.Run("04_error_patterns", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var seeds []seed
		add := func(msg string, status store.Status, n int) {
			for i := range n {
				seeds = append(seeds, seed{id: store.NewID(time.Now()), typ: "CalendarSync", status: status, attempts: 5, created: time.Duration(i+1) * time.Minute, message: msg})
			}
		}
		add("Token refresh failed: Invalid refresh token", store.StatusDead, 7)
		add("Network timeout", store.StatusDead, 6)
		add("Execution time limit exceeded", store.StatusDead, 5)
		add("Rate limit exceeded", store.StatusDead, 4)
		add("Worker lost", store.StatusDead, 3)
		add("Not found", store.StatusDead, 2) // sixth: cut by LIMIT 5
		add("", store.StatusDead, 1)          // NULL message
		add("Only failed, never dead", store.StatusFailed, 9)
		importSeeds(t, s, seeds)

		type count struct {
			Message *string
			N       int64
		}
		got := queryCounts[count](t, s, runbook(t, "04_error_patterns.sql"), []string{"errorMessage", "occurrence_count"})
		want := []struct {
			msg string
			n   int64
		}{
			{"Token refresh failed: Invalid refresh token", 7},
			{"Network timeout", 6},
			{"Execution time limit exceeded", 5},
			{"Rate limit exceeded", 4},
			{"Worker lost", 3},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d rows, want %d", len(got), len(want))
		}
		for i, w := range want {
			if got[i].Message == nil || *got[i].Message != w.msg || got[i].N != w.n {
				t.Errorf("row %d: got (%v, %d), want (%q, %d)", i, ptrString(got[i].Message), got[i].N, w.msg, w.n)
			}
		}
	})

	// Troubleshooting 3 -> Solutions 2: bulk retry of recent dead
	// CalendarSync jobs.
	t.Run("05_bulk_retry_dead", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, jobs := importSeeds(t, s, []seed{
			{id: "job_dead_1d", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: day},
			{id: "job_dead_6d23h", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: 7*day - time.Hour},
			{id: "job_dead_7d1h", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: 7*day + time.Hour},
			{id: "job_dead_30d", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: 30 * day},
			{id: "job_failed_1d", typ: "CalendarSync", status: store.StatusFailed, attempts: 2, created: day},
			{id: "job_cancelled_1d", typ: "CalendarSync", status: store.StatusCancelled, attempts: 0, created: day},
			{id: "job_email_dead_1d", typ: "EmailSending", status: store.StatusDead, attempts: 5, created: day},
		})
		n, _, _ := execRunbook(t, s, runbook(t, "05_bulk_retry_dead.sql"))
		if n != 2 {
			t.Errorf("UPDATE changed %d rows, want 2", n)
		}
		want := asRows(jobs)
		for _, id := range []string{"job_dead_1d", "job_dead_6d23h"} {
			// scheduledFor is left as it was: in the past, so due at once.
			want[id] = row{"PENDING", 0, jobs[id].ScheduledFor}
		}
		diffRows(t, readRows(t, s), want)
	})

	// Troubleshooting 3 -> Solutions 3: delete dead jobs older than 30 days.
	t.Run("06_archive_delete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, jobs := importSeeds(t, s, []seed{
			{id: "job_dead_31d", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: 31 * day},
			{id: "job_dead_90d", typ: "EmailSending", status: store.StatusDead, attempts: 5, created: 90 * day},
			{id: "job_dead_29d", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: 29 * day},
			{id: "job_dead_1h", typ: "CalendarSync", status: store.StatusDead, attempts: 5, created: time.Hour},
			{id: "job_completed_60d", typ: "CalendarSync", status: store.StatusCompleted, attempts: 1, created: 60 * day, started: 60 * day, ran: time.Second},
			{id: "job_failed_45d", typ: "CalendarSync", status: store.StatusFailed, attempts: 2, created: 45 * day},
			{id: "job_cancelled_45d", typ: "CalendarSync", status: store.StatusCancelled, created: 45 * day},
		})
		n, _, _ := execRunbook(t, s, runbook(t, "06_archive_delete.sql"))
		if n != 2 {
			t.Errorf("DELETE removed %d rows, want 2", n)
		}
		want := asRows(jobs)
		delete(want, "job_dead_31d")
		delete(want, "job_dead_90d")
		diffRows(t, readRows(t, s), want)
	})
}

// queryCounts runs a GROUP BY statement and scans each row's two columns
// into T's two fields, after checking the column names.
func queryCounts[T any](t *testing.T, s *postgres.Store, sql string, columns []string) []T {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("runbook statement failed: %v\n%s", err, sql)
	}
	var names []string
	for _, fd := range rows.FieldDescriptions() {
		names = append(names, fd.Name)
	}
	if !slices.Equal(names, columns) {
		t.Errorf("columns %q, want %q", names, columns)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func ptrString[T any](p *T) any {
	if p == nil {
		return "NULL"
	}
	return *p
}
