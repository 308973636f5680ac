package ops

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// NewOperationID ties together the audit rows of one action.
func NewOperationID(now time.Time) string {
	return "op_" + strings.TrimPrefix(store.NewID(now), store.IDPrefix)
}

// prepared is a request turned into the store's terms. none means the
// selection can match none of who's jobs: the answer is an empty result.
type prepared struct {
	p    store.ActionParams
	none bool
}

// prepare checks who may run req and that its selection is one, and
// builds the store's parameters. It changes nothing; the only store read
// is, for a RoleUser naming jobs, whose those jobs are.
func (o *Ops) prepare(ctx context.Context, who Principal, req *ActionRequest) (*prepared, error) {
	a := req.Action
	sc, err := o.scopeOf(who)
	if err != nil {
		return nil, err
	}
	if err := CheckSelection(req); err != nil {
		return nil, err
	}
	if err := permit(who, a); err != nil {
		return nil, err
	}
	ids := make([]string, len(req.IDs))
	for i, id := range req.IDs {
		ids[i] = store.NormalizeID(id)
	}
	pr := &prepared{p: store.ActionParams{
		Action: a, Actor: who.Name, Via: string(who.Via),
		OperationID: req.OperationID, BatchSize: req.BatchSize, DryRun: req.DryRun,
		Lease: req.Lease, Delay: req.Delay, ResetAttempts: req.ResetAttempts, Sink: req.Sink,
	}}
	if pr.p.OperationID == "" {
		pr.p.OperationID = NewOperationID(o.now())
	}
	if len(ids) > 0 {
		pr.p.IDs = ids
		if a != store.ActRestore {
			pr.p.Statuses = store.Allowed[a]
		}
		if !sc.all {
			if err := o.checkOwned(ctx, sc, ids); err != nil {
				return nil, err
			}
		}
		return pr, nil
	}
	f := req.Filter
	statuses, err := Statuses(a, f.Statuses)
	if err != nil {
		return nil, err
	}
	f.Statuses = statuses
	pr.none = !sc.narrow(&f)
	pr.p.Filter, pr.p.Statuses = f, statuses
	return pr, nil
}

// CheckSelection checks, without the store, that req selects jobs the
// one way every adapter shares (CheckShape), and that its settings are
// in range. Adapters that check input before opening the store call it;
// Act and Count call it too.
func CheckSelection(req *ActionRequest) error {
	a := req.Action
	if a.Permission() == "" {
		return invalid("action", "unknown action %q (want retry, cancel, start, delete, purge, archive or restore)", a)
	}
	switch {
	case req.BatchSize < 0:
		return invalid("batchSize", "{batchSize} must be at least 1")
	case req.Delay < 0:
		return invalid("delay", "{delay} must not be negative")
	case req.Lease < 0:
		return invalid("lease", "{lease} must be positive")
	}
	for _, id := range req.IDs {
		if strings.TrimSpace(id) == "" {
			return invalid("ids", "empty job ID")
		}
	}
	return CheckShape(a, Selection{
		IDs: len(req.IDs) > 0, Filter: !filterEmpty(&req.Filter), Older: !req.Filter.FinishedBefore.IsZero(), All: req.All,
	})
}

// Selection is which parts of a selection a caller gave, without their
// values: enough to check its shape before any value is parsed.
type Selection struct {
	IDs    bool // job IDs
	Filter bool // at least one filter
	Older  bool // the older filter, which archive needs
	All    bool // act on every job in a status the action applies to
}

// CheckShape checks that a selection of the parts s names is one for
// action a: by IDs or by filter, never both; all only when said; never an
// empty selection, which would read as every job.
func CheckShape(a store.Action, s Selection) error {
	every := store.OrList(store.Allowed[a])
	switch {
	case s.IDs && s.All:
		return invalid("ids", "%s takes job IDs or {all}, not both", a)
	case s.IDs && s.Filter:
		return invalid("ids", "%s takes job IDs or filters, not both", a)
	case s.IDs:
		return nil
	case a == store.ActRestore:
		return invalid("ids", "restore needs job IDs")
	case a == store.ActArchive && !s.Older && !s.All:
		return newError(CodeUnprocessable, "older", "archive needs {older}, e.g. {older} 30d (jobs that finished before then), or {all} for every %s job", every)
	case s.Filter || s.All:
		return nil
	case a == store.ActPurge:
		return newError(CodeUnprocessable, "", "purge needs a filter such as {older} 30d or {status}, or {all} for every %s job", every)
	}
	return newError(CodeUnprocessable, "", "%s needs job IDs, a filter such as {status} or {type}, or {all} for every %s job", a, every)
}

// checkOwned refuses a request naming a job that is not in scope, whole,
// with the guide's 403; a missing one is left to the store's NotFound.
// It reads the named jobs a thousand at a time, not one query each.
func (o *Ops) checkOwned(ctx context.Context, sc scope, ids []string) error {
	for start := 0; start < len(ids); start += MaxLimit {
		chunk := ids[start:min(start+MaxLimit, len(ids))]
		jobs, err := o.jobs.List(ctx, &store.ListParams{Filter: store.Filter{IDs: chunk}, Limit: len(chunk), Sort: store.SortCreatedDesc})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if !sc.owns(j) {
				return ErrForbiddenJob
			}
		}
	}
	return nil
}

// Act implements Service. On a store error after some batches committed,
// it returns both the Result so far and the error: those jobs are done and
// the rest untouched.
func (o *Ops) Act(ctx context.Context, who Principal, req *ActionRequest) (*Result, error) {
	pr, err := o.prepare(ctx, who, req)
	if err != nil {
		return nil, err
	}
	p := &pr.p
	out := &Result{OperationID: p.OperationID, Action: p.Action, DryRun: p.DryRun, Skipped: []store.Skipped{}, NotFound: []string{}}
	if pr.none {
		return out, nil
	}
	if countable(p, req) {
		// A dry run by filter that nobody watches job by job is a count:
		// one index range per status instead of a walk through the table.
		f := p.Filter
		n, err := o.jobs.Count(ctx, &f, false)
		out.Changed = n
		return out, err
	}
	var changed []store.Changed
	p.Progress = func(batch []store.Changed) {
		if req.KeepJobs {
			changed = append(changed, batch...)
		}
		if req.Progress != nil {
			req.Progress(batch)
		}
	}
	res, err := o.jobs.Act(ctx, p)
	if res != nil {
		out.Changed, out.Requested = res.Changed, res.Requested
		if res.Skipped != nil {
			out.Skipped = res.Skipped
		}
		if res.NotFound != nil {
			out.NotFound = res.NotFound
		}
	}
	if req.KeepJobs {
		SortByID(changed)
		out.Jobs = make([]JobResponse, 0, len(changed)+len(out.Skipped)+len(out.NotFound))
		for _, c := range changed {
			out.Jobs = append(out.Jobs, Response(p.Action, c, p.DryRun))
		}
		out.Jobs = append(out.Jobs, Refusals(p.Action, out.Skipped, out.NotFound)...)
	}
	return out, err
}

// SortByID puts the jobs an action changed in id order, the order of its
// batches: on Postgres two batches run at once and commit in either order.
func SortByID(changed []store.Changed) {
	slices.SortFunc(changed, func(a, b store.Changed) int { return strings.Compare(a.ID, b.ID) })
}

// Count implements Service: the jobs named, or those the filter matches
// in a status the action applies to.
func (o *Ops) Count(ctx context.Context, who Principal, req *ActionRequest) (int64, error) {
	pr, err := o.prepare(ctx, who, req)
	if err != nil || pr.none {
		return 0, err
	}
	if len(pr.p.IDs) > 0 {
		seen := map[string]bool{}
		for _, id := range pr.p.IDs {
			seen[id] = true
		}
		return int64(len(seen)), nil
	}
	f := pr.p.Filter
	return o.jobs.Count(ctx, &f, false)
}

// Response is a changed job's outcome in the guide's response shape.
func Response(a store.Action, c store.Changed, dry bool) JobResponse {
	r := JobResponse{Success: true, JobID: c.ID, Status: NewStatus(a, c), DryRun: dry}
	switch a {
	case store.ActRetry, store.ActStart:
		t := c.ScheduledFor.UTC()
		r.ScheduledFor = render.TimePtr(&t)
	case store.ActCancel:
		r.CancelRequested = c.CancelRequested
	}
	return r
}

// Refusals are the outcomes of the named jobs an action refused (with the
// status that refused them) or did not find.
func Refusals(a store.Action, skipped []store.Skipped, notFound []string) []JobResponse {
	out := make([]JobResponse, 0, len(skipped)+len(notFound))
	for _, sk := range skipped {
		out = append(out, JobResponse{JobID: sk.ID, Status: string(sk.Status), Error: sk.Reason})
	}
	for _, id := range notFound {
		out = append(out, JobResponse{JobID: id, Error: NotFoundText(a, id)})
	}
	return out
}

// NotFoundText says a named job was not there: restore looks in the
// archive, every other action among the live jobs.
func NotFoundText(a store.Action, id string) string {
	if a == store.ActRestore {
		return id + " not found in the archive"
	}
	return id + " not found"
}

// NewStatus is where the action leaves a job: its status, or DELETED or
// ARCHIVED when it left "Job".
func NewStatus(a store.Action, c store.Changed) string {
	if left := a.LeftAs(); left != "" {
		return left
	}
	return string(c.Status)
}

// filterEmpty reports whether f selects nothing in particular, which as a
// bulk action's selection would mean every job.
func filterEmpty(f *store.Filter) bool {
	return len(f.IDs) == 0 && len(f.Statuses) == 0 && len(f.Types) == 0 && f.Since.IsZero() && f.Until.IsZero() &&
		f.FinishedBefore.IsZero() && f.UserID == ""
}

// countable reports whether a dry run's answer is the number of jobs its
// filter matches: no named IDs (which get per-job refusals), no one asking
// for the jobs or their progress, and no RUNNING jobs to cancel (whose
// outcome, a request or a cancel, depends on whether their worker lives).
func countable(p *store.ActionParams, req *ActionRequest) bool {
	if !p.DryRun || len(p.IDs) > 0 || req.KeepJobs || req.Progress != nil {
		return false
	}
	return p.Action != store.ActCancel || !slices.Contains(p.Filter.Statuses, store.StatusRunning)
}
