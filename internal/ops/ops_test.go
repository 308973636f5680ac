package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

var bg = context.Background()

func TestActSelection(t *testing.T) {
	failed := store.Filter{Statuses: []store.Status{store.StatusFailed}}
	for _, tc := range []struct {
		name   string
		req    ActionRequest
		code   Code
		asFlag string
	}{
		{"ids and filter", ActionRequest{Action: store.ActRetry, IDs: []string{"job_a"}, Filter: failed}, CodeInvalid, "retry takes job IDs or filters, not both"},
		{"ids and all", ActionRequest{Action: store.ActRetry, IDs: []string{"job_a"}, All: true}, CodeInvalid, "retry takes job IDs or --all, not both"},
		{"empty", ActionRequest{Action: store.ActRetry}, CodeUnprocessable, "retry needs job IDs, a filter such as --status or --type, or --all for every FAILED, DEAD or CANCELLED job"},
		{"empty slices", ActionRequest{Action: store.ActPurge, Filter: store.Filter{Statuses: []store.Status{}, Types: []string{}}}, CodeUnprocessable, "purge needs a filter such as --older 30d or --status, or --all for every COMPLETED, FAILED, CANCELLED or DEAD job"},
		{"archive without older", ActionRequest{Action: store.ActArchive, Filter: store.Filter{Types: []string{"T"}}}, CodeUnprocessable, "archive needs --older, e.g. --older 30d (jobs that finished before then), or --all for every COMPLETED, CANCELLED or DEAD job"},
		{"restore by filter", ActionRequest{Action: store.ActRestore, Filter: failed}, CodeInvalid, "restore needs job IDs"},
		{"status the action refuses", ActionRequest{Action: store.ActStart, Filter: failed}, CodeInvalid, "--status failed: start needs PENDING"},
		{"unknown action", ActionRequest{Action: "explode", All: true}, CodeInvalid, `unknown action "explode"`},
		{"blank id", ActionRequest{Action: store.ActRetry, IDs: []string{" "}}, CodeInvalid, "empty job ID"},
		{"negative batch", ActionRequest{Action: store.ActRetry, All: true, BatchSize: -1}, CodeInvalid, "--batchSize must be at least 1"},
	} {
		f, o := newFake()
		f.job("job_a", "", store.StatusFailed)
		_, err := o.Act(bg, admin, &tc.req)
		e := asError(t, err)
		if e.Code != tc.code || !strings.HasPrefix(e.In(flag), tc.asFlag) {
			t.Errorf("%s: %s %q; want %s %q", tc.name, e.Code, e.In(flag), tc.code, tc.asFlag)
		}
		if _, err := o.Count(bg, admin, &tc.req); err == nil {
			t.Errorf("%s: Count took what Act refused", tc.name)
		}
		if len(f.acts) != 0 || f.counted != nil {
			t.Errorf("%s: the store was asked to act or count: %+v", tc.name, f.acts)
		}
	}
}

// TestCheckShape: a selection's shape is checked from which parts were
// given, not their values, and CheckSelection gives the same answer for
// a request of that shape.
func TestCheckShape(t *testing.T) {
	older := store.Filter{FinishedBefore: time.Unix(1, 0)}
	typed := store.Filter{Types: []string{"T"}}
	for _, tc := range []struct {
		a    store.Action
		s    Selection
		req  ActionRequest
		want string // "" when the shape is one
	}{
		{store.ActRetry, Selection{IDs: true, Filter: true}, ActionRequest{IDs: []string{"job_a"}, Filter: typed}, "retry takes job IDs or filters, not both"},
		{store.ActCancel, Selection{IDs: true, All: true}, ActionRequest{IDs: []string{"job_a"}, All: true}, "cancel takes job IDs or --all, not both"},
		{store.ActPurge, Selection{IDs: true, Filter: true, All: true}, ActionRequest{IDs: []string{"job_a"}, Filter: typed, All: true}, "purge takes job IDs or --all, not both"},
		{store.ActRetry, Selection{IDs: true}, ActionRequest{IDs: []string{"job_a"}}, ""},
		{store.ActRetry, Selection{Filter: true}, ActionRequest{Filter: typed}, ""},
		{store.ActRetry, Selection{}, ActionRequest{}, "retry needs job IDs"},
		{store.ActArchive, Selection{Filter: true}, ActionRequest{Filter: typed}, "archive needs --older"},
		{store.ActArchive, Selection{Filter: true, Older: true}, ActionRequest{Filter: older}, ""},
		{store.ActArchive, Selection{All: true}, ActionRequest{All: true}, ""},
		{store.ActRestore, Selection{Filter: true}, ActionRequest{Filter: typed}, "restore needs job IDs"},
	} {
		tc.req.Action = tc.a
		for _, err := range []error{CheckShape(tc.a, tc.s), CheckSelection(&tc.req)} {
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s %+v: %v; want it taken", tc.a, tc.s, err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(asError(t, err).In(flag), tc.want)):
				t.Errorf("%s %+v: %v; want %q", tc.a, tc.s, err, tc.want)
			}
		}
	}
}

// The jobs an action changed come back in id order, whichever order its
// batches committed in.
func TestActJobsInIDOrder(t *testing.T) {
	f, o := newFake()
	for _, id := range []string{"job_a", "job_b", "job_c"} {
		f.job(id, "", store.StatusFailed)
	}
	f.outOfOrder = true
	res, err := o.Act(bg, admin, &ActionRequest{Action: store.ActRetry, All: true, KeepJobs: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range res.Jobs {
		got = append(got, j.JobID)
	}
	if !slices.Equal(got, []string{"job_a", "job_b", "job_c"}) {
		t.Errorf("jobs in the order %v; want id order", got)
	}
}

func TestActParams(t *testing.T) {
	f, o := newFake()
	f.job("job_a", "", store.StatusFailed)
	f.job("job_b", "", store.StatusCompleted)
	var heard int
	res, err := o.Act(bg, manager, &ActionRequest{Action: store.ActRetry, All: true, DryRun: true, KeepJobs: true,
		Progress: func(b []store.Changed) { heard += len(b) }})
	if err != nil {
		t.Fatal(err)
	}
	p := f.acts[0]
	if p.Actor != "mia" || p.Via != "web" || !strings.HasPrefix(p.OperationID, "op_") || p.OperationID != res.OperationID ||
		!p.DryRun || p.BatchSize != 0 || !slices.Equal(p.Statuses, store.Allowed[store.ActRetry]) || !slices.Equal(p.Filter.Statuses, p.Statuses) {
		t.Errorf("store params = %+v", p)
	}
	if res.Changed != 1 || heard != 1 || !res.DryRun || len(res.Jobs) != 1 || res.Jobs[0].JobID != "job_a" || !res.Jobs[0].Success ||
		res.Jobs[0].Status != "PENDING" || res.Jobs[0].ScheduledFor == nil || !res.Jobs[0].DryRun {
		t.Errorf("result = %+v, heard %d", res, heard)
	}

	// By IDs: the outcome of each, refusals and missing ones included.
	f.acts = nil
	res, err = o.Act(bg, admin, &ActionRequest{Action: store.ActRetry, IDs: []string{"a", "job_b", "job_zz"}, KeepJobs: true, OperationID: "op_given"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.acts[0]; !slices.Equal(got.IDs, []string{"job_a", "job_b", "job_zz"}) || got.OperationID != "op_given" || got.Via != "cli" {
		t.Errorf("ids params = %+v", got)
	}
	want := []JobResponse{
		res.Jobs[0],
		{JobID: "job_b", Status: "COMPLETED", Error: "job_b is COMPLETED: retry needs FAILED, DEAD or CANCELLED"},
		{JobID: "job_zz", Error: "job_zz not found"},
	}
	if len(res.Jobs) != 3 || res.Jobs[0].JobID != "job_a" || res.Jobs[1] != want[1] || res.Jobs[2] != want[2] {
		t.Errorf("jobs = %+v", res.Jobs)
	}

	// Without a size the store picks one (bigger for an archive on
	// SQLite); a given size is kept.
	f.acts = nil
	if _, err := o.Act(bg, admin, &ActionRequest{Action: store.ActArchive, All: true}); err != nil || f.acts[0].BatchSize != 0 {
		t.Errorf("archive batch %d, %v", f.acts[0].BatchSize, err)
	}
	f.acts = nil
	if _, err := o.Act(bg, admin, &ActionRequest{Action: store.ActPurge, All: true, BatchSize: 7}); err != nil || f.acts[0].BatchSize != 7 {
		t.Errorf("purge batch %d, %v", f.acts[0].BatchSize, err)
	}
}

// TestActPartial: a store error after a batch committed comes back with
// the result so far, so an adapter can say how far the action got.
func TestActPartial(t *testing.T) {
	f, o := newFake()
	f.job("job_a", "", store.StatusFailed)
	f.actErr = context.Canceled
	res, err := o.Act(bg, admin, &ActionRequest{Action: store.ActRetry, All: true})
	if !errors.Is(err, context.Canceled) || res == nil || res.Changed != 1 {
		t.Errorf("res %+v, err %v", res, err)
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		who  Principal
		a    store.Action
		want string // "" allowed
	}{
		{admin, store.ActPurge, ""},
		{admin, store.ActRestore, ""},
		{manager, store.ActRetry, ""},
		{manager, store.ActCancel, ""},
		{manager, store.ActStart, ""},
		{manager, store.ActPurge, "role manager cannot purge: it needs jobs:delete"},
		{manager, store.ActDelete, "role manager cannot delete: it needs jobs:delete"},
		{manager, store.ActArchive, "role manager cannot archive: it needs jobs:delete"},
		{manager, store.ActRestore, "role manager cannot restore: it needs jobs:delete"},
		{alice, store.ActRetry, ""},
		{alice, store.ActCancel, "role user cannot cancel: it needs jobs:write"},
		{alice, store.ActDelete, "role user cannot delete: it needs jobs:delete"},
		{Principal{Name: "x"}, store.ActRetry, `role "" may do nothing`},
	} {
		f, o := newFake()
		f.job("job_a", "u1", store.StatusFailed)
		_, err := o.Act(bg, tc.who, &ActionRequest{Action: tc.a, IDs: []string{"job_a"}})
		if tc.want == "" {
			if err != nil || len(f.acts) != 1 {
				t.Errorf("%s %s: %v", tc.who.Role, tc.a, err)
			}
			continue
		}
		e := asError(t, err)
		if e.Code != CodeForbidden || !strings.HasPrefix(e.Message, tc.want) || len(f.acts) != 0 {
			t.Errorf("%s %s: %s %q (store acted %d times); want forbidden %q", tc.who.Role, tc.a, e.Code, e.Message, len(f.acts), tc.want)
		}
	}
}

func TestUserScopeActions(t *testing.T) {
	f, o := newFake()
	f.job("job_a", "u1", store.StatusFailed)
	f.job("job_b", "u2", store.StatusFailed)

	// A filter is narrowed to the user's jobs.
	res, err := o.Act(bg, alice, &ActionRequest{Action: store.ActRetry, All: true})
	if err != nil || f.acts[0].Filter.UserID != "u1" || res.Changed != 1 {
		t.Errorf("user retry --all: filter %+v, changed %d, %v", f.acts[0].Filter, res.Changed, err)
	}
	n, err := o.Count(bg, alice, &ActionRequest{Action: store.ActRetry, Filter: store.Filter{Types: []string{"T"}}})
	if err != nil || n != 1 || f.counted.UserID != "u1" || !slices.Equal(f.counted.Statuses, store.Allowed[store.ActRetry]) {
		t.Errorf("user count = %d (%+v), %v", n, f.counted, err)
	}
	// A filter naming another user finds nothing, and the store is not asked.
	f.acts, f.counted = nil, nil
	res, err = o.Act(bg, alice, &ActionRequest{Action: store.ActRetry, Filter: store.Filter{UserID: "u2"}})
	if err != nil || res.Changed != 0 || len(f.acts) != 0 || res.Skipped == nil || res.NotFound == nil {
		t.Errorf("user retry --user u2: %+v, store acted %d, %v", res, len(f.acts), err)
	}
	if n, err := o.Count(bg, alice, &ActionRequest{Action: store.ActRetry, Filter: store.Filter{UserID: "u2"}}); err != nil || n != 0 || f.counted != nil {
		t.Errorf("user count --user u2 = %d, %v", n, err)
	}
	// A named foreign job refuses the whole request with the guide's 403.
	_, err = o.Act(bg, alice, &ActionRequest{Action: store.ActRetry, IDs: []string{"job_a", "job_b"}})
	if err != ErrForbiddenJob || len(f.acts) != 0 {
		t.Errorf("user retry of a foreign job: %v, store acted %d", err, len(f.acts))
	}
	if _, err := o.Count(bg, alice, &ActionRequest{Action: store.ActRetry, IDs: []string{"job_b"}}); err != ErrForbiddenJob {
		t.Errorf("user count of a foreign job: %v", err)
	}
	// Its own and a missing one go through: the store reports the missing.
	res, err = o.Act(bg, alice, &ActionRequest{Action: store.ActRetry, IDs: []string{"job_a", "job_nope"}})
	if err != nil || res.Changed != 1 || !slices.Equal(res.NotFound, []string{"job_nope"}) {
		t.Errorf("user retry of own job: %+v, %v", res, err)
	}
	// A user with no user ID has no jobs: never every job.
	f.acts = nil
	nobody := Principal{Name: "n", Role: store.RoleUser}
	res, err = o.Act(bg, nobody, &ActionRequest{Action: store.ActRetry, All: true})
	if err != nil || res.Changed != 0 || len(f.acts) != 0 {
		t.Errorf("user without ID: %+v, store acted %d, %v", res, len(f.acts), err)
	}
	if _, err := o.Act(bg, nobody, &ActionRequest{Action: store.ActRetry, IDs: []string{"job_a"}}); err != ErrForbiddenJob {
		t.Errorf("user without ID naming a job: %v", err)
	}
}

func TestUserScopeReads(t *testing.T) {
	f, o := newFake()
	f.job("job_a", "u1", store.StatusFailed)
	f.job("job_b", "u2", store.StatusFailed)

	res, err := o.List(bg, alice, &ListRequest{Count: true})
	if err != nil || len(res.Items) != 1 || res.Items[0].ID != "job_a" || *res.Total != 1 || f.lists[0].UserID != "u1" {
		t.Errorf("user list: %+v, %v", res, err)
	}
	f.lists = nil
	res, err = o.List(bg, alice, &ListRequest{Filter: store.Filter{UserID: "u2"}, Count: true})
	if err != nil || len(res.Items) != 0 || res.Items == nil || *res.Total != 0 || len(f.lists) != 0 {
		t.Errorf("user list --user u2: %+v, store listed %d, %v", res, len(f.lists), err)
	}
	if res, err := o.List(bg, manager, &ListRequest{}); err != nil || len(res.Items) != 2 {
		t.Errorf("manager list: %+v, %v", res, err)
	}

	if d, err := o.Job(bg, alice, "a"); err != nil || d.Job.ID != "job_a" || d.Related == nil {
		t.Errorf("user's own job: %+v, %v", d, err)
	}
	if _, err := o.Job(bg, alice, "job_b"); err != ErrForbiddenJob {
		t.Errorf("user reading a foreign job: %v; want ErrForbiddenJob", err)
	}
	if _, err := o.Job(bg, admin, "job_b"); err != nil {
		t.Errorf("admin reading job_b: %v", err)
	}
	if _, err := o.Job(bg, alice, "job_zz"); asError(t, err).Code != CodeNotFound {
		t.Errorf("missing job: %v", err)
	}

	if _, err := o.Stats(bg, alice, &store.StatsParams{TopErrors: 3}); err != nil || f.stats[0].UserID != "u1" || f.stats[0].TopErrors != 3 {
		t.Errorf("user stats params = %+v, %v", f.stats, err)
	}
	st, err := o.Stats(bg, alice, &store.StatsParams{UserID: "u2"})
	if err != nil || len(f.stats) != 1 || st.ByStatus[store.StatusFailed] != 0 || len(st.ByStatus) != len(store.Statuses) {
		t.Errorf("user stats of u2: %+v (store asked %d times), %v", st, len(f.stats), err)
	}
	if _, err := o.Stats(bg, admin, &store.StatsParams{}); err != nil || f.stats[1].UserID != "" {
		t.Errorf("admin stats params = %+v", f.stats)
	}

	snap, err := o.Snapshot(bg, alice)
	if err != nil || snap.Counts[store.StatusPending] != 1 || !slices.Equal(f.snapFor, []string{"u1"}) || f.snaps != 0 {
		t.Errorf("user snapshot: %+v, for %v, whole %d, %v", snap, f.snapFor, f.snaps, err)
	}
	if snap, err := o.Snapshot(bg, manager); err != nil || snap.Counts[store.StatusPending] != 9 || f.snaps != 1 {
		t.Errorf("manager snapshot: %+v, %v", snap, err)
	}
	snap, err = o.Snapshot(bg, Principal{Role: store.RoleUser})
	if err != nil || snap.Counts[store.StatusPending] != 0 || len(snap.Workers) != 1 || len(f.snapFor) != 1 {
		t.Errorf("snapshot of a user without ID: %+v, %v", snap, err)
	}

	sum, err := o.Summary(bg, alice)
	types, err2 := o.Types(bg, alice)
	if err != nil || err2 != nil || sum.Counts[store.StatusFailed].N != 1 || !slices.Equal(types, []string{"T"}) || !slices.Equal(f.summaries, []string{"u1", "u1"}) {
		t.Errorf("user summary: %+v, types %q, store asked for %q, %v %v", sum, types, f.summaries, err, err2)
	}
	f.summaries = nil
	sum, err = o.Summary(bg, manager)
	_, err2 = o.Types(bg, manager)
	if err != nil || err2 != nil || sum.Counts[store.StatusFailed].N != 2 || !slices.Equal(f.summaries, []string{"", ""}) {
		t.Errorf("manager summary: %+v, store asked for %q, %v %v", sum, f.summaries, err, err2)
	}
	f.summaries = nil
	sum, err = o.Summary(bg, Principal{Role: store.RoleUser})
	types, err2 = o.Types(bg, Principal{Role: store.RoleUser})
	if err != nil || err2 != nil || len(f.summaries) != 0 || len(sum.Counts) != len(store.Statuses) || sum.Counts[store.StatusFailed].N != 0 || len(types) != 0 {
		t.Errorf("summary of a user without ID: %+v, types %q, store asked for %q, %v %v", sum, types, f.summaries, err, err2)
	}

	// Workers and schedules hold no job data: every role reads them.
	for _, who := range []Principal{admin, manager, alice} {
		ws, err := o.Workers(bg, who)
		ss, err2 := o.Schedules(bg, who)
		if err != nil || err2 != nil || len(ws) != 1 || len(ss) != 1 {
			t.Errorf("%s: workers %v %v, schedules %v %v", who.Role, ws, err, ss, err2)
		}
	}
	if _, err := o.Workers(bg, Principal{Role: "guest"}); asError(t, err).Code != CodeForbidden {
		t.Errorf("unknown role reading workers: %v", err)
	}
}

// The web admin's totals are exact up to a limit it passes; the CLI's
// (no limit) always are.
func TestListCountLimit(t *testing.T) {
	f, o := newFake()
	for i := 0; i < 5; i++ {
		f.job(fmt.Sprintf("job_%d", i), "", store.StatusCompleted)
	}
	res, err := o.List(bg, admin, &ListRequest{Count: true, CountLimit: 3})
	if err != nil || *res.Total != 5 || !res.TotalEstimated || !slices.Equal(f.countLimits, []int64{3}) {
		t.Errorf("list with limit 3: total %v estimated %v, store limits %v, %v", res.Total, res.TotalEstimated, f.countLimits, err)
	}
	res, err = o.List(bg, admin, &ListRequest{Count: true})
	if err != nil || *res.Total != 5 || res.TotalEstimated || f.countLimits[1] != 0 {
		t.Errorf("list with no limit: total %v estimated %v, store limits %v, %v", res.Total, res.TotalEstimated, f.countLimits, err)
	}
}

func TestListPaging(t *testing.T) {
	f, o := newFake()
	for _, id := range []string{"job_1", "job_2", "job_3", "job_4", "job_5"} {
		f.job(id, "", store.StatusFailed)
	}
	res, err := o.List(bg, admin, &ListRequest{})
	if err != nil || f.lists[0].Limit != DefaultLimit || f.lists[0].Sort != store.SortCreatedDesc || res.Next != "" || res.Total != nil {
		t.Errorf("default page: limit %d sort %q next %q total %v, %v", f.lists[0].Limit, f.lists[0].Sort, res.Next, res.Total, err)
	}
	var seen []string
	after := ""
	for page := 0; page < 5; page++ {
		res, err := o.List(bg, admin, &ListRequest{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range res.Items {
			seen = append(seen, j.ID)
		}
		if res.Next == "" {
			break
		}
		if res.Next != res.Items[len(res.Items)-1].ID {
			t.Errorf("next %q is not the page's last ID", res.Next)
		}
		after = res.Next
	}
	if !slices.Equal(seen, []string{"job_1", "job_2", "job_3", "job_4", "job_5"}) {
		t.Errorf("paged through %v", seen)
	}
	if res, err := o.List(bg, admin, &ListRequest{Limit: 1000}); err != nil || f.lists[len(f.lists)-1].Limit != 1000 || res.Next != "" {
		t.Errorf("limit 1000: %v", err)
	}
	for _, n := range []int{1001, -1} {
		if _, err := o.List(bg, admin, &ListRequest{Limit: n}); asError(t, err).Code != CodeInvalid || asError(t, err).In(flag) != "--limit must be between 1 and 1000, got "+itoa(n) {
			t.Errorf("limit %d: %v", n, err)
		}
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}

func TestAudit(t *testing.T) {
	f, o := newFake()
	for id := int64(5); id >= 1; id-- {
		who := "root"
		if id%2 == 0 {
			who = "alice"
		}
		f.audit = append(f.audit, &store.AuditEntry{ID: id, UserID: who})
	}
	res, err := o.Audit(bg, admin, &AuditRequest{Filter: store.AuditFilter{Limit: 2}})
	if err != nil || len(res.Items) != 2 || res.Next != "4" || res.Total != 5 {
		t.Errorf("page 1: %d items, next %q, total %d, %v", len(res.Items), res.Next, res.Total, err)
	}
	res, err = o.Audit(bg, admin, &AuditRequest{Filter: store.AuditFilter{Limit: 2, After: 2}})
	if err != nil || len(res.Items) != 1 || res.Next != "" {
		t.Errorf("last page: %d items, next %q, %v", len(res.Items), res.Next, err)
	}
	if f.audits[0].Limit != 3 {
		t.Errorf("store limit %d; want one more than the page", f.audits[0].Limit)
	}
	// A user reads the rows of its own actions only.
	res, err = o.Audit(bg, alice, &AuditRequest{})
	if err != nil || len(res.Items) != 2 || res.Total != 2 || res.Items[0].UserID != "alice" {
		t.Errorf("user audit: %+v, %v", res, err)
	}
	n := len(f.audits)
	res, err = o.Audit(bg, alice, &AuditRequest{Filter: store.AuditFilter{Actor: "root"}})
	if err != nil || len(res.Items) != 0 || len(f.audits) != n {
		t.Errorf("user audit of root: %+v, %v", res, err)
	}
	if _, err := o.Audit(bg, admin, &AuditRequest{Filter: store.AuditFilter{Limit: 1001}}); asError(t, err).Code != CodeInvalid {
		t.Errorf("limit 1001: %v", err)
	}
}

func TestErrorIn(t *testing.T) {
	e := invalid("batchSize", "{batchSize} must be at least %d, got %q", 1, "{x}")
	if e.Message != `batchSize must be at least 1, got "{x}"` || e.In(flag) != `--batchSize must be at least 1, got "{x}"` {
		t.Errorf("message %q, in %q", e.Message, e.In(flag))
	}
	if ErrForbiddenJob.In(flag) != "Forbidden" || ErrForbiddenJob.Error() != "Forbidden" {
		t.Errorf("ErrForbiddenJob = %q", ErrForbiddenJob.In(flag))
	}
}

// A dry run by filter that nobody watches job by job is a count of the
// filter (an index range per status), not a walk of the table; a dry run
// that must report per job, or cancel RUNNING jobs, still walks.
func TestDryRunByFilterCounts(t *testing.T) {
	f, o := newFake()
	f.job("job_a", "", store.StatusFailed)
	f.job("job_b", "", store.StatusFailed)
	f.job("job_c", "", store.StatusCompleted)
	f.job("job_d", "", store.StatusRunning)
	failed := store.Filter{Types: []string{"T"}}
	res, err := o.Act(bg, admin, &ActionRequest{Action: store.ActRetry, Filter: failed, DryRun: true})
	if err != nil || res.Changed != 2 || len(f.acts) != 0 || f.counted == nil || !slices.Equal(f.counted.Statuses, store.Allowed[store.ActRetry]) {
		t.Errorf("dry retry by filter: %+v, %d walks, counted %+v, %v; want 2 counted, no walk", res, len(f.acts), f.counted, err)
	}
	if _, err := o.Act(bg, admin, &ActionRequest{Action: store.ActRetry, Filter: failed, DryRun: true, KeepJobs: true}); err != nil || len(f.acts) != 1 {
		t.Errorf("dry retry keeping its jobs: %d walks, %v; want a walk", len(f.acts), err)
	}
	if _, err := o.Act(bg, admin, &ActionRequest{Action: store.ActCancel, Filter: failed, DryRun: true}); err != nil || len(f.acts) != 2 {
		t.Errorf("dry cancel, RUNNING jobs included: %d walks, %v; want a walk", len(f.acts), err)
	}
	res, err = o.Act(bg, admin, &ActionRequest{Action: store.ActCancel, Filter: store.Filter{Statuses: []store.Status{store.StatusPending}}, DryRun: true})
	if err != nil || len(f.acts) != 2 {
		t.Errorf("dry cancel of PENDING jobs only: %+v, %d walks, %v; want a count", res, len(f.acts), err)
	}
	if _, err := o.Act(bg, admin, &ActionRequest{Action: store.ActRetry, IDs: []string{"job_a"}, DryRun: true}); err != nil || len(f.acts) != 3 {
		t.Errorf("dry retry of named jobs: %d walks, %v; want a walk (refusals are per job)", len(f.acts), err)
	}
}
