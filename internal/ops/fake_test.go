package ops

import (
	"context"
	"slices"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// fake is a store in memory: enough of JobStore and MonitorStore to see
// what ops asks of the store, with no database.
type fake struct {
	jobs  []*store.Job // in ID order
	acts  []store.ActionParams
	lists []store.ListParams
	// counted is the last filter Count was given.
	counted *store.Filter
	stats   []store.StatsParams
	// summaries are the userIDs StatusCounts and Types were asked for.
	summaries []string
	// countLimits are the limits CountUpTo was given.
	countLimits []int64
	snapFor     []string
	snaps       int
	audit       []*store.AuditEntry // newest first
	audits      []store.AuditFilter
	// outOfOrder: Act reports a batch per job, the last first, as batches
	// in lanes may commit.
	outOfOrder bool
	// actErr, when set, is what Act returns after its first batch.
	actErr error
}

func (f *fake) Get(_ context.Context, id string) (*store.Job, error) {
	for _, j := range f.jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return nil, store.ErrNotFound
}

func (f *fake) match(fl *store.Filter, j *store.Job) bool {
	return (fl.UserID == "" || j.UserID == fl.UserID) && (len(fl.Statuses) == 0 || slices.Contains(fl.Statuses, j.Status)) &&
		(len(fl.Types) == 0 || slices.Contains(fl.Types, j.Type)) && (len(fl.IDs) == 0 || slices.Contains(fl.IDs, j.ID))
}

func (f *fake) List(_ context.Context, p *store.ListParams) ([]*store.Job, error) {
	f.lists = append(f.lists, *p)
	var out []*store.Job
	for _, j := range f.jobs {
		if f.match(&p.Filter, j) && (p.After == "" || j.ID > p.After) && len(out) < p.Limit {
			out = append(out, j)
		}
	}
	return out, nil
}

func (f *fake) Count(_ context.Context, fl *store.Filter, _ bool) (int64, error) {
	c := *fl
	f.counted = &c
	var n int64
	for _, j := range f.jobs {
		if f.match(fl, j) {
			n++
		}
	}
	return n, nil
}

func (f *fake) Related(context.Context, *store.Job) (*store.Related, error) {
	return &store.Related{Children: []*store.Job{}, Dependencies: []*store.Job{}, Dependents: []*store.Job{}}, nil
}

// Act changes nothing but reports every matching job (or named job in an
// allowed status) as changed, in one batch.
func (f *fake) Act(_ context.Context, p *store.ActionParams) (*store.ActionResult, error) {
	f.acts = append(f.acts, *p)
	res := &store.ActionResult{Skipped: []store.Skipped{}, NotFound: []string{}}
	var batch []store.Changed
	consider := func(j *store.Job) {
		if !slices.Contains(p.AllowedStatuses(), j.Status) {
			res.Skipped = append(res.Skipped, store.Skipped{ID: j.ID, Status: j.Status, Reason: store.RefusalReason(p.Action, j.ID, j.Status, p.AllowedStatuses())})
			return
		}
		batch = append(batch, store.Changed{ID: j.ID, Type: j.Type, PreviousStatus: j.Status, Status: store.StatusPending, ScheduledFor: time.Unix(100, 0)})
	}
	if len(p.IDs) > 0 {
		for _, id := range p.IDs {
			j, err := f.Get(context.Background(), id)
			if err != nil {
				res.NotFound = append(res.NotFound, id)
				continue
			}
			consider(j)
		}
	} else {
		fl := p.Filter
		fl.Statuses = p.AllowedStatuses()
		for _, j := range f.jobs {
			if f.match(&fl, j) {
				consider(j)
			}
		}
	}
	res.Changed = int64(len(batch))
	switch {
	case p.Progress == nil || len(batch) == 0:
	case f.outOfOrder:
		for i := len(batch) - 1; i >= 0; i-- {
			p.Progress(batch[i : i+1])
		}
	default:
		p.Progress(batch)
	}
	return res, f.actErr
}

// CountUpTo counts exactly, and says "estimated" above the limit, as
// Postgres would, so ops's passing of the flag can be seen.
func (f *fake) CountUpTo(ctx context.Context, fl *store.Filter, archived bool, limit int64) (store.Tally, error) {
	f.countLimits = append(f.countLimits, limit)
	n, err := f.Count(ctx, fl, archived)
	return store.Tally{N: n, Estimated: limit > 0 && n > limit}, err
}

func (f *fake) StatusCounts(_ context.Context, userID string, limit int64) (map[store.Status]store.Tally, error) {
	f.summaries = append(f.summaries, userID)
	out := map[store.Status]store.Tally{}
	for _, j := range f.jobs {
		if userID == "" || j.UserID == userID {
			t := out[j.Status]
			t.N++
			out[j.Status] = t
		}
	}
	return out, nil
}

func (f *fake) Types(_ context.Context, userID string) ([]string, error) {
	f.summaries = append(f.summaries, userID)
	out := []string{}
	for _, j := range f.jobs {
		if (userID == "" || j.UserID == userID) && !slices.Contains(out, j.Type) {
			out = append(out, j.Type)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *fake) Stats(_ context.Context, p *store.StatsParams) (*store.Stats, error) {
	f.stats = append(f.stats, *p)
	return &store.Stats{ByStatus: map[store.Status]int64{store.StatusFailed: 7}}, nil
}

func (f *fake) Snapshot(context.Context) (*store.Snapshot, error) {
	f.snaps++
	return &store.Snapshot{Counts: map[store.Status]int64{store.StatusPending: 9}}, nil
}

func (f *fake) SnapshotFor(_ context.Context, user string) (*store.Snapshot, error) {
	f.snapFor = append(f.snapFor, user)
	return &store.Snapshot{Counts: map[store.Status]int64{store.StatusPending: 1}}, nil
}

func (f *fake) Audit(_ context.Context, fl *store.AuditFilter) ([]*store.AuditEntry, error) {
	f.audits = append(f.audits, *fl)
	var out []*store.AuditEntry
	for _, e := range f.audit {
		if (fl.Actor == "" || e.UserID == fl.Actor) && (fl.After == 0 || e.ID < fl.After) && len(out) < fl.Limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fake) CountAudit(_ context.Context, fl *store.AuditFilter) (int64, error) {
	var n int64
	for _, e := range f.audit {
		if fl.Actor == "" || e.UserID == fl.Actor {
			n++
		}
	}
	return n, nil
}

func (f *fake) Workers(context.Context) ([]*store.WorkerInfo, error) {
	return []*store.WorkerInfo{{ID: "w1"}}, nil
}

func (f *fake) ListSchedules(context.Context) ([]*store.Schedule, error) {
	return []*store.Schedule{{Name: "nightly"}}, nil
}

// job adds a job to the fake, IDs in the order added.
func (f *fake) job(id, user string, st store.Status) *store.Job {
	j := &store.Job{ID: id, Type: "T", Status: st, UserID: user}
	f.jobs = append(f.jobs, j)
	return j
}

var fixedNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func newFake() (*fake, *Ops) {
	f := &fake{}
	return f, newOps(f, f, Options{Now: func() time.Time { return fixedNow }})
}

var (
	admin   = Principal{Name: "root", Role: store.RoleAdmin, Via: ViaCLI}
	manager = Principal{Name: "mia", Role: store.RoleManager, Via: ViaWeb}
	alice   = Principal{Name: "alice", Role: store.RoleUser, UserID: "u1", Via: ViaAPI}
)
