package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/store"
)

// JobStore is the part of the store the job actions and reads use.
type JobStore interface {
	Get(ctx context.Context, id string) (*store.Job, error)
	List(ctx context.Context, p *store.ListParams) ([]*store.Job, error)
	Count(ctx context.Context, f *store.Filter, archived bool) (int64, error)
	CountUpTo(ctx context.Context, f *store.Filter, archived bool, limit int64) (store.Tally, error)
	Related(ctx context.Context, j *store.Job) (*store.Related, error)
	Act(ctx context.Context, p *store.ActionParams) (*store.ActionResult, error)
}

// MonitorStore is the part of the store the dashboard, audit, worker and
// schedule reads use.
type MonitorStore interface {
	Stats(ctx context.Context, p *store.StatsParams) (*store.Stats, error)
	StatusCounts(ctx context.Context, userID string, limit int64) (map[store.Status]store.Tally, error)
	Types(ctx context.Context, userID string) ([]string, error)
	Snapshot(ctx context.Context) (*store.Snapshot, error)
	SnapshotFor(ctx context.Context, userID string) (*store.Snapshot, error)
	Audit(ctx context.Context, f *store.AuditFilter) ([]*store.AuditEntry, error)
	CountAudit(ctx context.Context, f *store.AuditFilter) (int64, error)
	Workers(ctx context.Context) ([]*store.WorkerInfo, error)
	ListSchedules(ctx context.Context) ([]*store.Schedule, error)
}

// Options configure an Ops.
type Options struct {
	// Health is what Health evaluates the snapshot against.
	Health health.Inputs
	// Now is the clock filters and operation IDs read; time.Now when nil.
	Now func() time.Time
}

// Ops is the operations layer over one store.
type Ops struct {
	jobs JobStore
	mon  MonitorStore
	// full is the whole store, for the health check, which also checks
	// the schema; nil when built from the narrow interfaces alone.
	full store.Store
	opts Options
}

var _ Service = (*Ops)(nil)

// New returns the operations layer over s.
func New(s store.Store, o Options) *Ops {
	x := newOps(s, s, o)
	x.full = s
	return x
}

// newOps builds an Ops from the narrow interfaces: tests pass fakes.
func newOps(jobs JobStore, mon MonitorStore, o Options) *Ops {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ops{jobs: jobs, mon: mon, opts: o}
}

func (o *Ops) now() time.Time { return o.opts.Now() }

// scope is the part of the jobs who may see: every job (all), or only
// the jobs whose "userId" is user. A RoleUser without a user ID sees none,
// never everything: an empty UserID in a store.Filter matches all jobs.
type scope struct {
	all  bool
	user string
}

func (o *Ops) scopeOf(who Principal) (scope, error) {
	switch who.Role {
	case store.RoleAdmin, store.RoleManager:
		return scope{all: true}, nil
	case store.RoleUser:
		return scope{user: who.UserID}, nil
	}
	return scope{}, &Error{Code: CodeForbidden, Message: fmt.Sprintf("role %q may do nothing: want admin, manager or user", who.Role)}
}

// narrow applies the scope to a filter. It reports false when the filter
// can match none of who's jobs (it names another user, or who has no user
// ID): the caller then answers with an empty result, not others' jobs.
func (sc scope) narrow(f *store.Filter) bool {
	if sc.all {
		return true
	}
	if sc.user == "" || f.UserID != "" && f.UserID != sc.user {
		return false
	}
	f.UserID = sc.user
	return true
}

// owns reports whether j is in scope.
func (sc scope) owns(j *store.Job) bool {
	return sc.all || sc.user != "" && j.UserID == sc.user
}

// permit refuses an action the role lacks: a manager has jobs:read and
// jobs:write, a user may only retry (its own jobs, checked by the scope).
func permit(who Principal, a store.Action) error {
	perm := a.Permission()
	switch who.Role {
	case store.RoleAdmin:
		return nil
	case store.RoleManager:
		if perm != store.PermDelete {
			return nil
		}
	case store.RoleUser:
		if a == store.ActRetry {
			return nil
		}
	}
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf("role %s cannot %s: it needs %s", who.Role, a, perm)}
}
