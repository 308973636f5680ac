package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/testutil/teststore"
)

// TestAPIRolesRealOps runs the role matrix over the real operations layer
// on both backends: the roles and a user's scope hold end to end, not
// only in the fake.
func TestAPIRolesRealOps(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		var jobs []*store.Job
		for _, j := range newFakeOps().jobs {
			c := *j
			c.MaxAttempts, c.UpdatedAt, c.Priority = store.DefaultMaxAttempts, c.CreatedAt, store.PriorityNormal
			if c.Status == store.StatusCompleted || c.Status == store.StatusFailed {
				done := c.CreatedAt.Add(time.Minute)
				c.CompletedAt = &done
			}
			jobs = append(jobs, &c)
		}
		if err := b.Import(context.Background(), jobs); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(c *Config) { c.Ops = ops.New(b.Store, ops.Options{}) })
		checkRoles(t, e, false)
	})
}

// cutStore runs each action in batches of two and ends its context after
// the first commits, as a server stopping mid-action does.
type cutStore struct{ store.Store }

func (s cutStore) Act(ctx context.Context, p *store.ActionParams) (*store.ActionResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	progress := p.Progress
	p.BatchSize = 2
	p.Progress = func(b []store.Changed) {
		progress(b)
		cancel()
	}
	return s.Store.Act(ctx, p)
}

// TestBulkCutShortRealOps: over the real operations layer and store, a
// bulk retry cut short after its first batch answers 503 with the two jobs
// it retried and the operation ID their audit rows carry; those two are
// PENDING and the other three untouched.
func TestBulkCutShortRealOps(t *testing.T) {
	teststore.Each(t, func(t *testing.T, b *teststore.Backend) {
		jobs := teststore.Seed(t, b.Store, "Report", store.StatusFailed, 5, time.Now().Add(-time.Minute))
		e := newEnv(t, func(c *Config) { c.Ops = ops.New(cutStore{b.Store}, ops.Options{}) })
		w := e.do(t, req{method: "POST", path: "/api/admin/jobs/retry", as: "admin1", body: `{"filter":{"type":"Report"}}`})
		var body struct {
			Error       struct{ Code, Message string }
			OperationID string `json:"operationId"`
			Changed     int64
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %s", err, w.Body)
		}
		if w.Code != http.StatusServiceUnavailable || body.Error.Code != "unavailable" || body.Changed != 2 ||
			!strings.HasPrefix(body.Error.Message, "interrupted: 2 jobs retried, the rest untouched (") || body.OperationID == "" {
			t.Fatalf("%d %s; want 503 with 2 retried and the operation ID", w.Code, w.Body)
		}
		var pending int
		for _, j := range jobs {
			got, err := b.Get(context.Background(), j.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch got.Status {
			case store.StatusPending:
				pending++
			case store.StatusFailed:
			default:
				t.Errorf("%s is %s; want PENDING or FAILED, untouched", j.ID, got.Status)
			}
		}
		if pending != 2 {
			t.Errorf("%d jobs retried; the body says 2", pending)
		}
		es, err := b.Audit(context.Background(), &store.AuditFilter{Actions: []string{store.ActionRetry}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range es {
			if !strings.Contains(string(a.Metadata), body.OperationID) {
				t.Errorf("audit row %s lacks the operation ID %s", a.Metadata, body.OperationID)
			}
		}
		if len(es) != 2 {
			t.Errorf("%d audit rows; want one per retried job, 2", len(es))
		}
	})
}
