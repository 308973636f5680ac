package web

import (
	"context"
	"encoding/json"
	"fmt"
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
// bulk retry cut short after its first batch answers 503 with the jobs it
// retried (that batch's two, and on Postgres the two of the batch the
// other lane had under way, which finishes) and the operation ID their
// audit rows carry; those are PENDING and the rest untouched.
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
		if w.Code != http.StatusServiceUnavailable || body.Error.Code != "unavailable" || (body.Changed != 2 && body.Changed != 4) ||
			!strings.HasPrefix(body.Error.Message, fmt.Sprintf("interrupted: %d jobs retried, the rest untouched (", body.Changed)) || body.OperationID == "" {
			t.Fatalf("%d %s; want 503 with 2 or 4 of 5 retried and the operation ID", w.Code, w.Body)
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
		if int64(pending) != body.Changed {
			t.Errorf("%d jobs retried; the body says %d", pending, body.Changed)
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
		if int64(len(es)) != body.Changed {
			t.Errorf("%d audit rows; want one per retried job, %d", len(es), body.Changed)
		}
	})
}
