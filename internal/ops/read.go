package ops

import (
	"context"
	"errors"
	"strconv"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/store"
)

// Page sizes of List and Audit.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

func limit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, invalid("limit", "{limit} must be between 1 and %d, got %d", MaxLimit, n)
	}
	return n, nil
}

// List implements Service. Next is the last ID of a full page (the page
// after it may be empty): reading exactly Limit jobs keeps each page one
// index range scan of the size asked for.
func (o *Ops) List(ctx context.Context, who Principal, req *ListRequest) (*ListResult, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	n, err := limit(req.Limit)
	if err != nil {
		return nil, err
	}
	out := &ListResult{Items: []*store.Job{}}
	f := req.Filter
	if !sc.narrow(&f) {
		if req.Count {
			out.Total = new(int64)
		}
		return out, nil
	}
	sort := req.Sort
	if sort == "" {
		sort = store.SortCreatedDesc
	}
	jobs, err := o.jobs.List(ctx, &store.ListParams{Filter: f, Limit: n, After: store.NormalizeID(req.After), Sort: sort, Archived: req.Archived})
	if err != nil {
		return nil, err
	}
	if len(jobs) == n {
		out.Next = jobs[n-1].ID
	}
	out.Items = jobs
	if req.Count {
		t, err := o.jobs.CountUpTo(ctx, &f, req.Archived, req.CountLimit)
		if err != nil {
			return nil, err
		}
		out.Total, out.TotalEstimated = &t.N, t.Estimated
	}
	return out, nil
}

// Job implements Service.
func (o *Ops) Job(ctx context.Context, who Principal, id string) (*JobDetail, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	id = store.NormalizeID(id)
	j, err := o.jobs.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, &Error{Code: CodeNotFound, Message: "job " + id + " not found (live or archived)"}
	case err != nil:
		return nil, err
	case !sc.owns(j):
		return nil, ErrForbiddenJob
	}
	rel, err := o.jobs.Related(ctx, j)
	if err != nil {
		return nil, err
	}
	if !sc.all {
		rel = ownRelated(sc, rel)
	}
	return &JobDetail{Job: j, Related: rel}, nil
}

// ownRelated drops the related jobs that are not in scope: a user's job
// may have a parent or dependency someone else enqueued.
func ownRelated(sc scope, rel *store.Related) *store.Related {
	if rel == nil {
		return nil
	}
	keep := func(js []*store.Job) []*store.Job {
		out := []*store.Job{}
		for _, j := range js {
			if sc.owns(j) {
				out = append(out, j)
			}
		}
		return out
	}
	r := *rel
	if r.Parent != nil && !sc.owns(r.Parent) {
		r.Parent = nil
	}
	r.Children, r.Dependencies, r.Dependents = keep(r.Children), keep(r.Dependencies), keep(r.Dependents)
	return &r
}

// Stats implements Service. A RoleUser's numbers count only its jobs.
func (o *Ops) Stats(ctx context.Context, who Principal, p *store.StatsParams) (*store.Stats, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	q := *p
	if !sc.all {
		if sc.user == "" || q.UserID != "" && q.UserID != sc.user {
			return emptyStats(o), nil
		}
		q.UserID = sc.user
	}
	return o.mon.Stats(ctx, &q)
}

// Summary implements Service. A RoleUser's counts are of its own jobs.
func (o *Ops) Summary(ctx context.Context, who Principal) (*Summary, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	out := &Summary{Counts: map[store.Status]store.Tally{}}
	if !sc.all && sc.user == "" {
		for _, st := range store.Statuses {
			out.Counts[st] = store.Tally{}
		}
		return out, nil
	}
	if out.Counts, err = o.mon.StatusCounts(ctx, sc.user, ExactCountLimit); err != nil {
		return nil, err
	}
	return out, nil
}

// Types implements Service.
func (o *Ops) Types(ctx context.Context, who Principal) ([]string, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	if !sc.all && sc.user == "" {
		return []string{}, nil
	}
	return o.mon.Types(ctx, sc.user)
}

func emptyStats(o *Ops) *store.Stats {
	st := &store.Stats{ByStatus: map[store.Status]int64{}, ByType: []*store.TypeStats{}, TopErrors: []store.ErrorCount{}, Now: o.now()}
	for _, s := range store.Statuses {
		st.ByStatus[s] = 0
	}
	return st
}

// Snapshot implements Service. A RoleUser's counts and running jobs are
// its own; the workers are everyone's, as they hold no job data.
func (o *Ops) Snapshot(ctx context.Context, who Principal) (*store.Snapshot, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	if sc.all {
		return o.mon.Snapshot(ctx)
	}
	if sc.user == "" {
		// No user ID: no jobs to count, but the workers as for anyone.
		ws, err := o.mon.Workers(ctx)
		if err != nil {
			return nil, err
		}
		snap := &store.Snapshot{Counts: map[store.Status]int64{}, Running: []*store.Job{}, Workers: ws, Now: o.now()}
		for _, st := range []store.Status{store.StatusPending, store.StatusRunning, store.StatusRetrying, store.StatusFailed, store.StatusDead} {
			snap.Counts[st] = 0
		}
		return snap, nil
	}
	return o.mon.SnapshotFor(ctx, sc.user)
}

// Health implements Service: the guide's health report, for every role
// (it is served without login too).
func (o *Ops) Health(ctx context.Context, who Principal) (*health.Report, error) {
	if _, err := o.scopeOf(who); err != nil {
		return nil, err
	}
	if o.full == nil {
		return nil, errors.New("health needs the whole store")
	}
	return health.Check(ctx, o.full, o.opts.Health), nil
}

// Audit implements Service. A RoleUser reads only the rows of its own
// actions: the others name jobs that are not its. Next is set only when
// another page follows.
func (o *Ops) Audit(ctx context.Context, who Principal, req *AuditRequest) (*AuditResult, error) {
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	f := req.Filter
	n, err := limit(f.Limit)
	if err != nil {
		return nil, err
	}
	out := &AuditResult{Items: []*store.AuditEntry{}}
	if !sc.all {
		if f.Actor != "" && f.Actor != who.Name || who.Name == "" {
			return out, nil
		}
		f.Actor = who.Name
	}
	f.Limit = n + 1
	entries, err := o.mon.Audit(ctx, &f)
	if errors.Is(err, store.ErrNotFound) && f.After != 0 {
		return nil, &Error{Code: CodeNotFound, Field: "after", Message: "after " + strconv.FormatInt(f.After, 10) + ": no such audit entry"}
	}
	if err != nil {
		return nil, err
	}
	if len(entries) > n {
		entries = entries[:n]
		out.Next = strconv.FormatInt(entries[n-1].ID, 10)
	}
	out.Items = entries
	f.Limit = n
	if out.Total, err = o.mon.CountAudit(ctx, &f); err != nil {
		return nil, err
	}
	return out, nil
}

// Workers implements Service. Every role may read the workers and the
// schedules: they hold no job data, so a RoleUser's scope has nothing to
// narrow in them.
func (o *Ops) Workers(ctx context.Context, who Principal) ([]*store.WorkerInfo, error) {
	if _, err := o.scopeOf(who); err != nil {
		return nil, err
	}
	return o.mon.Workers(ctx)
}

// Schedules implements Service; see Workers for who may read them.
func (o *Ops) Schedules(ctx context.Context, who Principal) ([]*store.Schedule, error) {
	if _, err := o.scopeOf(who); err != nil {
		return nil, err
	}
	return o.mon.ListSchedules(ctx)
}
