package web

import (
	"context"
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
