package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/store/sqlite"
)

// The history reaches back 60 days, and most of it is in the last week.
func TestHistorySpans60Days(t *testing.T) {
	jobs := Jobs(now)
	oldest, week := base, 0
	for _, j := range jobs {
		if j.CreatedAt.Before(oldest) {
			oldest = j.CreatedAt
		}
		if j.CreatedAt.After(base.Add(-7 * 24 * time.Hour)) {
			week++
		}
	}
	if age := base.Sub(oldest); age < (HistoryDays-1)*24*time.Hour || age > HistoryDays*24*time.Hour {
		t.Errorf("oldest job created %s ago; want %d days", age, HistoryDays)
	}
	if week*2 < len(jobs) {
		t.Errorf("%d of %d jobs in the last week; want most", week, len(jobs))
	}
}

// Every filter the README's examples use matches at least one job on a
// freshly seeded demo store (what `make demo` makes).
func TestReadmeExamplesHaveJobs(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Seeded as `make demo` is, at noon so "today" holds the last hours.
	noon := time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)
	if _, err := Seed(ctx, s, noon); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	ago := func(d time.Duration) time.Time { return noon.Add(-d) }
	st := func(ss ...store.Status) []store.Status { return ss }
	finished := st(store.StatusCompleted, store.StatusCancelled, store.StatusDead)
	for _, c := range []struct {
		example  string
		filter   store.Filter
		archived bool
	}{
		{"retry --type CalendarSync --status failed", store.Filter{Types: []string{CalendarSync}, Statuses: st(store.StatusFailed)}, false},
		{"list --status dead --since 1h", store.Filter{Statuses: st(store.StatusDead), Since: ago(time.Hour)}, false},
		{"list --status failed,dead --since today", store.Filter{Statuses: st(store.StatusFailed, store.StatusDead), Since: noon.Truncate(day)}, false},
		{"list --status dead --since 7d", store.Filter{Statuses: st(store.StatusDead), Since: ago(7 * day)}, false},
		{"list --user user_123", store.Filter{UserID: "user_123"}, false},
		{"list --archived --since 60d", store.Filter{Since: ago(60 * day)}, true},
		{"show job_12345abc", store.Filter{IDs: []string{GuideJobID}}, false},
		{"retry --status dead --type CalendarSync --since 7d", store.Filter{Types: []string{CalendarSync}, Statuses: st(store.StatusDead), Since: ago(7 * day)}, false},
		{"purge --status dead --older 30d", store.Filter{Statuses: st(store.StatusDead), FinishedBefore: ago(30 * day)}, false},
		{"archive --older 30d", store.Filter{Statuses: finished, FinishedBefore: ago(30 * day)}, false},
		{"archive --older 7d --status dead,cancelled", store.Filter{Statuses: st(store.StatusDead, store.StatusCancelled), FinishedBefore: ago(7 * day)}, false},
		{"stats --since 7d --type CalendarSync", store.Filter{Types: []string{CalendarSync}, Since: ago(7 * day)}, false},
		{"start job_… (a PENDING job)", store.Filter{Statuses: st(store.StatusPending)}, false},
		{"cancel job_… --wait (a RUNNING job)", store.Filter{Statuses: st(store.StatusRunning)}, false},
	} {
		n, err := s.Count(ctx, &c.filter, c.archived)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("jobctl %s: no job on the demo store", c.example)
		}
	}
	for _, c := range []struct {
		example string
		filter  store.AuditFilter
	}{
		{"audit --since 1h", store.AuditFilter{Since: ago(time.Hour)}},
		{"audit --action retry --actor alice", store.AuditFilter{Actions: []string{store.ActionRetry}, Actor: "alice"}},
		{"audit --actor cron", store.AuditFilter{Actor: "cron"}},
	} {
		// The audit rows carry the database's clock, not noon's.
		if c.filter.Since.Equal(ago(time.Hour)) {
			c.filter.Since = time.Now().Add(-time.Hour)
		}
		n, err := s.CountAudit(ctx, &c.filter)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("jobctl %s: no audit row on the demo store", c.example)
		}
	}
}
