package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

func testSchedules(t *testing.T, h *Harness) {
	s := h.Store
	due := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	sch := &store.Schedule{Name: "daily-revenue", Type: "MetricCalculation", Cron: "0 0 * * *", Timezone: "UTC",
		Data: json.RawMessage(`{"metricType":"daily_revenue"}`), NextRunAt: due}
	if err := s.AddSchedule(ctx(), sch, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSchedule(ctx(), sch, "alice"); !errors.Is(err, store.ErrExists) {
		t.Errorf("adding a schedule twice: %v; want ErrExists", err)
	}
	list, err := s.ListSchedules(ctx())
	if err != nil || len(list) != 1 || list[0].Cron != "0 0 * * *" || !list[0].NextRunAt.Equal(due) || list[0].Priority != store.PriorityNormal {
		t.Fatalf("schedules: %+v (%v)", list, err)
	}

	// Many workers firing at once enqueue the tick exactly once.
	next := due.Add(24 * time.Hour)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fired []*store.Job
	)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jobs, err := s.EnqueueDue(ctx(), time.Now(), func(*store.Schedule) (time.Time, error) { return next, nil })
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			fired = append(fired, jobs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(fired) != 1 {
		t.Fatalf("6 concurrent firings enqueued %d jobs; want 1", len(fired))
	}
	j := fired[0]
	if j.Type != "MetricCalculation" || string(j.Data) == "{}" || j.UniqueKey != "schedule:daily-revenue:"+due.Format(time.RFC3339) {
		t.Errorf("scheduled job: %+v", j)
	}
	list, _ = s.ListSchedules(ctx())
	if !list[0].NextRunAt.Equal(next) || list[0].LastRunAt == nil || !list[0].LastRunAt.Equal(due) || list[0].LastJobID != j.ID {
		t.Errorf("after firing: %+v", list[0])
	}
	if jobs, _ := s.EnqueueDue(ctx(), time.Now(), func(*store.Schedule) (time.Time, error) { return next, nil }); len(jobs) != 0 {
		t.Errorf("a schedule not yet due fired again: %v", ids(jobs))
	}

	if err := s.RemoveSchedule(ctx(), "daily-revenue", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSchedule(ctx(), "daily-revenue", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing twice: %v; want ErrNotFound", err)
	}
	audit, err := s.Audit(ctx(), &store.AuditFilter{ResourceID: "daily-revenue"})
	if err != nil || len(audit) != 2 {
		t.Fatalf("audit: %+v (%v)", audit, err)
	}
	if audit[0].Action != store.ActionScheduleRemove || audit[0].UserID != "bob" || audit[1].Action != store.ActionScheduleAdd || audit[1].UserID != "alice" {
		t.Errorf("audit rows: %s by %s, %s by %s", audit[0].Action, audit[0].UserID, audit[1].Action, audit[1].UserID)
	}
	var meta map[string]any
	if err := json.Unmarshal(audit[1].Metadata, &meta); err != nil || meta["jobType"] != "MetricCalculation" {
		t.Errorf("audit metadata: %s (%v)", audit[1].Metadata, err)
	}
	// The database role is the database's word, in its own column: never
	// in the metadata the client writes. SQLite has the column, NULL.
	if _, ok := meta["dbRole"]; ok {
		t.Errorf("audit metadata carries a client-written dbRole: %s", audit[1].Metadata)
	}
	if role := audit[1].DBRole; (s.Backend() == "postgres") != (role != "") {
		t.Errorf("%s audit row's dbRole = %q; want the login on Postgres, none on SQLite", s.Backend(), role)
	}
	if only, _ := s.Audit(ctx(), &store.AuditFilter{Actor: "alice", Actions: []string{store.ActionScheduleAdd}}); len(only) != 1 {
		t.Errorf("audit filtered by actor and action: %d rows; want 1", len(only))
	}
}
