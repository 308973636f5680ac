package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

var bg = context.Background()

// seedUsers gives u1 two FAILED jobs and u2 three, in a real store.
func seedUsers(t *testing.T, b *teststore.Backend) (mine, theirs []*store.Job) {
	t.Helper()
	jobs := teststore.Seed(t, b.Store, "Report", store.StatusFailed, 5, time.Now().Add(-time.Minute))
	for i, j := range jobs {
		u := "u2"
		if i < 2 {
			u = "u1"
			mine = append(mine, j)
		} else {
			theirs = append(theirs, j)
		}
		b.Exec(t, `UPDATE "Job" SET "userId" = $1 WHERE id = $2`, u, j.ID)
	}
	return mine, theirs
}

func auditOf(t *testing.T, s store.Store, id string) []*store.AuditEntry {
	t.Helper()
	es, err := s.Audit(bg, &store.AuditFilter{ResourceID: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAuditActorAndVia: the account is the audit rows' "userId" and the
// channel their "via", on both backends.
func TestAuditActorAndVia(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		mine, _ := seedUsers(t, b)
		o := ops.New(b.Store, ops.Options{})
		who := ops.Principal{Name: "alice@example.com", Role: store.RoleManager, Via: ops.ViaWeb}
		res, err := o.Act(bg, who, &ops.ActionRequest{Action: store.ActRetry, IDs: []string{mine[0].ID}})
		if err != nil || res.Changed != 1 {
			t.Fatalf("retry: %+v, %v", res, err)
		}
		es := auditOf(t, b.Store, mine[0].ID)
		if len(es) != 1 {
			t.Fatalf("%d audit rows", len(es))
		}
		var meta struct {
			Via         string `json:"via"`
			OperationID string `json:"operationId"`
		}
		if err := json.Unmarshal(es[0].Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		if es[0].UserID != "alice@example.com" || meta.Via != "web" || meta.OperationID != res.OperationID {
			t.Errorf("audit row userId %q, metadata %s; want alice@example.com, via web, %s", es[0].UserID, es[0].Metadata, res.OperationID)
		}
	})
}

// TestUserScopeOnStore: a RoleUser account sees, counts and retries only
// its own jobs in a real store.
func TestUserScopeOnStore(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		mine, theirs := seedUsers(t, b)
		o := ops.New(b.Store, ops.Options{})
		alice := ops.Principal{Name: "alice", Role: store.RoleUser, UserID: "u1", Via: ops.ViaAPI}

		page, err := o.List(bg, alice, &ops.ListRequest{Count: true})
		if err != nil || len(page.Items) != 2 || *page.Total != 2 {
			t.Fatalf("list: %+v, %v", page, err)
		}
		for _, j := range page.Items {
			if j.UserID != "u1" {
				t.Errorf("listed %s of %q", j.ID, j.UserID)
			}
		}
		st, err := o.Stats(bg, alice, &store.StatsParams{})
		if err != nil || st.ByStatus[store.StatusFailed] != 2 {
			t.Errorf("stats failed = %d, %v; want 2", st.ByStatus[store.StatusFailed], err)
		}
		snap, err := o.Snapshot(bg, alice)
		if err != nil || snap.Counts[store.StatusFailed] != 2 {
			t.Errorf("snapshot failed = %d, %v; want 2", snap.Counts[store.StatusFailed], err)
		}
		if _, err := o.Job(bg, alice, theirs[0].ID); err != ops.ErrForbiddenJob {
			t.Errorf("foreign job: %v", err)
		}
		if _, err := o.Act(bg, alice, &ops.ActionRequest{Action: store.ActRetry, IDs: []string{theirs[0].ID}}); err != ops.ErrForbiddenJob {
			t.Errorf("retry of a foreign job: %v", err)
		}
		n, err := o.Count(bg, alice, &ops.ActionRequest{Action: store.ActRetry, All: true})
		if err != nil || n != 2 {
			t.Errorf("count --all = %d, %v; want 2", n, err)
		}
		res, err := o.Act(bg, alice, &ops.ActionRequest{Action: store.ActRetry, All: true})
		if err != nil || res.Changed != 2 {
			t.Fatalf("retry --all: %+v, %v", res, err)
		}
		for _, j := range mine {
			if got, _ := b.Get(bg, j.ID); got.Status != store.StatusPending {
				t.Errorf("own job %s is %s; want PENDING", j.ID, got.Status)
			}
		}
		for _, j := range theirs {
			if got, _ := b.Get(bg, j.ID); got.Status != store.StatusFailed {
				t.Errorf("foreign job %s is %s; want it untouched, FAILED", j.ID, got.Status)
			}
			if es := auditOf(t, b.Store, j.ID); len(es) != 0 {
				t.Errorf("foreign job %s has %d audit rows", j.ID, len(es))
			}
		}
	})
}

// TestActCancelledBetweenBatches: a bulk action whose context ends stops
// before its next batch: the batches done stay done, the rest untouched.
func TestActCancelledBetweenBatches(t *testing.T) {
	b := teststore.SQLite(t)
	jobs := teststore.Seed(t, b.Store, "Report", store.StatusFailed, 5, time.Now().Add(-time.Minute))
	o := ops.New(b.Store, ops.Options{})
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	res, err := o.Act(ctx, ops.Principal{Name: "root", Role: store.RoleAdmin, Via: ops.ViaCLI}, &ops.ActionRequest{
		Action: store.ActRetry, All: true, BatchSize: 2,
		Progress: func([]store.Changed) { cancel() },
	})
	if !errors.Is(err, context.Canceled) || res == nil || res.Changed != 2 {
		t.Fatalf("res %+v, err %v; want 2 changed, then canceled", res, err)
	}
	var pending int
	for _, j := range jobs {
		got, _ := b.Get(bg, j.ID)
		if got.Status == store.StatusPending {
			pending++
		}
	}
	if pending != 2 {
		t.Errorf("%d jobs retried; want the first batch's 2", pending)
	}
}

// TestHealth runs the guide's health check through ops.
func TestHealth(t *testing.T) {
	b := teststore.SQLite(t)
	teststore.Seed(t, b.Store, "Report", store.StatusDead, 1, time.Now())
	r, err := ops.New(b.Store, ops.Options{}).Health(bg, ops.Principal{Role: store.RoleUser, UserID: "u9"})
	if err != nil || r.Checks.DeadJobs == nil || *r.Checks.DeadJobs != 1 {
		t.Errorf("health: %+v, %v", r, err)
	}
}
