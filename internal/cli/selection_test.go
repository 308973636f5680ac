package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/store"
)

var selNow = time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)

// resolveWith registers a selection on a bare command, parses flags and
// resolves it against stdin.
func resolveWith(t *testing.T, a store.Action, by selectBy, flags []string, args []string, stdin string) (*chosen, error) {
	t.Helper()
	sel := &selection{action: a, by: by}
	cmd := &cobra.Command{Use: string(a)}
	sel.register(cmd)
	if err := cmd.ParseFlags(flags); err != nil {
		t.Fatalf("parse %v: %v", flags, err)
	}
	return sel.resolve(args, strings.NewReader(stdin), selNow)
}

func TestSelectionIDs(t *testing.T) {
	c, err := resolveWith(t, store.ActRetry, byIDsOrFilter, nil, []string{"job_a", "b", " c "}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Explicit || c.FromStdin || !slices.Equal(c.IDs, []string{"job_a", "job_b", "job_c"}) {
		t.Errorf("got %+v", c)
	}
	if !slices.Equal(c.Statuses, store.Allowed[store.ActRetry]) {
		t.Errorf("statuses = %v, want retry's", c.Statuses)
	}
}

func TestSelectionStdin(t *testing.T) {
	c, err := resolveWith(t, store.ActRetry, byIDsOrFilter, nil, []string{"-"}, "job_a\n\n  b  \r\n\njob_c")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Explicit || !c.FromStdin || !slices.Equal(c.IDs, []string{"job_a", "job_b", "job_c"}) {
		t.Errorf("got %+v", c)
	}
	// An empty stdin selects nothing, still explicitly: it must never act
	// as an empty filter.
	c, err = resolveWith(t, store.ActDelete, byIDs, nil, []string{"-"}, "\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Explicit || len(c.IDs) != 0 {
		t.Errorf("empty stdin: got %+v", c)
	}
}

func TestSelectionFilter(t *testing.T) {
	c, err := resolveWith(t, store.ActRetry, byIDsOrFilter,
		[]string{"--type", "CalendarSync", "--status", "failed", "--since", "1h", "--user", "user_1"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Filter{Types: []string{"CalendarSync"}, Statuses: []store.Status{store.StatusFailed},
		Since: selNow.Add(-time.Hour), UserID: "user_1"}
	if c.Explicit || !equalFilter(c.Filter, want) || !slices.Equal(c.Statuses, want.Statuses) {
		t.Errorf("got %+v, want filter %+v", c, want)
	}

	// No --status: the action's statuses, in the filter too.
	c, err = resolveWith(t, store.ActPurge, byFilter, []string{"--all"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Statuses, store.Allowed[store.ActPurge]) || !slices.Equal(c.Filter.Statuses, store.Allowed[store.ActPurge]) {
		t.Errorf("purge --all: %+v", c)
	}

	// --older is the completion cutoff.
	c, err = resolveWith(t, store.ActArchive, byFilter, []string{"--older", "30d"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Filter.FinishedBefore.Equal(selNow.Add(-30*24*time.Hour)) || !c.Filter.Since.IsZero() {
		t.Errorf("--older 30d: %+v", c.Filter)
	}
	if !slices.Equal(c.Statuses, store.Allowed[store.ActArchive]) {
		t.Errorf("archive statuses = %v", c.Statuses)
	}
}

func equalFilter(a, b store.Filter) bool {
	return slices.Equal(a.IDs, b.IDs) && slices.Equal(a.Statuses, b.Statuses) && slices.Equal(a.Types, b.Types) &&
		a.Since.Equal(b.Since) && a.Until.Equal(b.Until) && a.FinishedBefore.Equal(b.FinishedBefore) && a.UserID == b.UserID
}

func TestSelectionStatusRules(t *testing.T) {
	for _, tc := range []struct {
		action store.Action
		by     selectBy
		status string
		want   []store.Status // nil: a usage error
		err    string
	}{
		{store.ActRetry, byIDsOrFilter, "failed,dead", []store.Status{store.StatusFailed, store.StatusDead}, ""},
		{store.ActRetry, byIDsOrFilter, "completed", nil, "--status completed: retry needs FAILED, DEAD or CANCELLED"},
		{store.ActCancel, byIDsOrFilter, "running", []store.Status{store.StatusRunning}, ""},
		{store.ActCancel, byIDsOrFilter, "failed", nil, "--status failed: cancel needs PENDING, RETRYING or RUNNING"},
		{store.ActStart, byIDsOrFilter, "retrying", nil, "--status retrying: start needs PENDING"},
		{store.ActPurge, byFilter, "pending", []store.Status{store.StatusPending}, ""},
		{store.ActPurge, byFilter, "retrying,Completed,completed", []store.Status{store.StatusRetrying, store.StatusCompleted}, ""},
		{store.ActPurge, byFilter, "running", nil, "--status running: purge never deletes a RUNNING job"},
		{store.ActArchive, byFilter, "failed", []store.Status{store.StatusFailed}, ""},
		{store.ActArchive, byFilter, "pending", nil, "--status pending: archive takes only finished jobs: COMPLETED, FAILED, CANCELLED or DEAD"},
	} {
		flags := []string{"--status", tc.status}
		if tc.action == store.ActArchive {
			flags = append(flags, "--older", "1d")
		}
		c, err := resolveWith(t, tc.action, tc.by, flags, nil, "")
		if tc.want == nil {
			if !isFlagError(err) || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%s --status %s: err = %v, want usage error %q", tc.action, tc.status, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s --status %s: %v", tc.action, tc.status, err)
			continue
		}
		if !slices.Equal(c.Statuses, tc.want) || !slices.Equal(c.Filter.Statuses, tc.want) {
			t.Errorf("%s --status %s: statuses %v, filter %v; want %v", tc.action, tc.status, c.Statuses, c.Filter.Statuses, tc.want)
		}
	}
}

func TestSelectionUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action store.Action
		by     selectBy
		flags  []string
		args   []string
		stdin  string
		err    string
	}{
		{"IDs and filters", store.ActRetry, byIDsOrFilter, []string{"--type", "X"}, []string{"job_a"}, "", "retry takes job IDs or filters, not both"},
		{"IDs and a filter whose value is bad", store.ActRetry, byIDsOrFilter, []string{"--since", "whenever"}, []string{"job_a"}, "", "retry takes job IDs or filters, not both"},
		{"stdin and filters", store.ActCancel, byIDsOrFilter, []string{"--status", "pending"}, []string{"-"}, "job_a\n", "cancel takes job IDs or filters, not both"},
		{"nothing", store.ActRetry, byIDsOrFilter, nil, nil, "", "retry needs job IDs, a filter such as --status or --type, or --all for every FAILED, DEAD or CANCELLED job"},
		{"nothing to cancel", store.ActCancel, byIDsOrFilter, nil, nil, "", "cancel needs job IDs, a filter such as --status or --type, or --all for every PENDING, RETRYING or RUNNING job"},
		{"nothing to start", store.ActStart, byIDsOrFilter, nil, nil, "", "start needs job IDs, a filter such as --status or --type, or --all for every PENDING job"},
		{"nothing to purge", store.ActPurge, byFilter, nil, nil, "", "purge needs a filter such as --older 30d or --status, or --all for every COMPLETED, FAILED, CANCELLED or DEAD job"},
		{"archive without --older", store.ActArchive, byFilter, nil, nil, "", "archive needs --older, e.g. --older 30d (jobs that finished before then), or --all for every COMPLETED, CANCELLED or DEAD job"},
		{"archive by status only", store.ActArchive, byFilter, []string{"--status", "failed"}, nil, "", "archive needs --older"},
		{"IDs and --all", store.ActRetry, byIDsOrFilter, []string{"--all"}, []string{"job_a"}, "", "retry takes job IDs or --all, not both"},
		{"stdin and --all", store.ActCancel, byIDsOrFilter, []string{"--all"}, []string{"-"}, "job_a\n", "cancel takes job IDs or --all, not both"},
		{"purge IDs and --all", store.ActPurge, byFilter, []string{"--all"}, []string{"job_a"}, "", "purge takes job IDs or --all, not both"},
		{"delete by filter", store.ActDelete, byIDs, nil, nil, "", "delete needs job IDs, or - to read them from stdin (to delete by filter, use `jobctl purge`)"},
		{"restore nothing", store.ActRestore, byIDs, nil, nil, "", "restore needs job IDs"},
		{"purge by ID", store.ActPurge, byFilter, nil, []string{"job_a"}, "", "purge selects jobs by filter, not by ID"},
		{"dash among IDs", store.ActRetry, byIDsOrFilter, nil, []string{"job_a", "-"}, "", "- (read IDs from stdin) must be the only argument"},
		{"empty ID", store.ActRetry, byIDsOrFilter, nil, []string{""}, "", "empty job ID"},
		{"table on stdin", store.ActRetry, byIDsOrFilter, nil, []string{"-"}, "job_a\njob_b\tCalendarSync\tFAILED\n", "stdin line 2:"},
		{"bad --older", store.ActPurge, byFilter, []string{"--older", "soon"}, nil, "", "--older: invalid time"},
		{"bad --status", store.ActRetry, byIDsOrFilter, []string{"--status", "bogus"}, nil, "", "unknown status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveWith(t, tc.action, tc.by, tc.flags, tc.args, tc.stdin)
			if !isFlagError(err) || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("err = %v, want usage error starting %q", err, tc.err)
			}
		})
	}
}

// TestSelectionEmptyValues: a filter flag given an empty value is a usage
// error naming the flag, never "no filter", with --all or IDs or alone.
func TestSelectionEmptyValues(t *testing.T) {
	empties := []struct{ flag, value string }{
		{"--type", ""}, {"--type", " "}, {"--type", ","}, {"--type", "CalendarSync,"}, {"--type", ",CalendarSync"},
		{"--status", ""}, {"--status", "failed,"}, {"--older", ""}, {"--older", "  "},
		{"--user", ""}, {"--since", ""}, {"--until", ""},
	}
	for _, act := range []struct {
		action store.Action
		by     selectBy
	}{
		{store.ActRetry, byIDsOrFilter}, {store.ActCancel, byIDsOrFilter}, {store.ActStart, byIDsOrFilter},
		{store.ActPurge, byFilter}, {store.ActArchive, byFilter},
	} {
		for _, e := range empties {
			for _, extra := range [][]string{nil, {"--all"}, {"--older", "30d"}} {
				if e.flag == "--older" && len(extra) == 2 {
					continue
				}
				flags := append([]string{e.flag + "=" + e.value}, extra...)
				_, err := resolveWith(t, act.action, act.by, flags, nil, "")
				want := e.flag + " was given an empty value: give one, or leave " + e.flag + " out"
				if !isFlagError(err) || err.Error() != want {
					t.Errorf("%s %q: err = %v, want usage error %q", act.action, flags, err, want)
				}
			}
		}
	}
	// An empty value next to IDs is named too, not taken for "IDs and
	// filters".
	if _, err := resolveWith(t, store.ActRetry, byIDsOrFilter, []string{"--type="}, []string{"job_a"}, ""); !isFlagError(err) ||
		!strings.HasPrefix(err.Error(), "--type was given an empty value") {
		t.Errorf("retry job_a --type '': err = %v", err)
	}
}

// TestFilterEmptyValues: list shares the filter flags, and the rule.
func TestFilterEmptyValues(t *testing.T) {
	for _, flags := range [][]string{
		{"--type="}, {"--type", ","}, {"--status="}, {"--user="}, {"--since="}, {"--until="}, {"--older="},
		{"--type", "a", "--type", ""},
	} {
		var ff filterFlags
		cmd := &cobra.Command{Use: "list"}
		ff.register(cmd)
		if err := cmd.ParseFlags(flags); err != nil {
			t.Fatal(err)
		}
		if _, err := ff.filter(selNow); !isFlagError(err) || !strings.Contains(err.Error(), "was given an empty value") {
			t.Errorf("%q: err = %v, want a usage error", flags, err)
		}
	}
	// Flags not given are no filter, as before; stats' own --type is not
	// registered here and keeps dropping blanks.
	var ff filterFlags
	cmd := &cobra.Command{Use: "list"}
	ff.register(cmd)
	if f, err := ff.filter(selNow); err != nil || !equalFilter(f, store.Filter{}) {
		t.Errorf("no flags: %+v, %v", f, err)
	}
	if f, err := (&filterFlags{Types: []string{" "}}).filter(selNow); err != nil || len(f.Types) != 0 {
		t.Errorf("unregistered blank type: %+v, %v", f, err)
	}
}

// TestSelectionAll: --all selects every job in a status the action
// applies to; filters given with it still narrow.
func TestSelectionAll(t *testing.T) {
	for _, tc := range []struct {
		action store.Action
		by     selectBy
	}{
		{store.ActRetry, byIDsOrFilter}, {store.ActCancel, byIDsOrFilter}, {store.ActStart, byIDsOrFilter},
		{store.ActPurge, byFilter}, {store.ActArchive, byFilter},
	} {
		c, err := resolveWith(t, tc.action, tc.by, []string{"--all"}, nil, "")
		if err != nil {
			t.Errorf("%s --all: %v", tc.action, err)
			continue
		}
		want := store.Filter{Statuses: store.Allowed[tc.action]}
		if c.Explicit || len(c.IDs) != 0 || !equalFilter(c.Filter, want) || !slices.Equal(c.Statuses, store.Allowed[tc.action]) {
			t.Errorf("%s --all: got %+v", tc.action, c)
		}
	}
	c, err := resolveWith(t, store.ActRetry, byIDsOrFilter, []string{"--all", "--type", "X", "--status", "dead"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Filter{Types: []string{"X"}, Statuses: []store.Status{store.StatusDead}}); !equalFilter(c.Filter, want) {
		t.Errorf("--all with filters: %+v, want %+v", c.Filter, want)
	}
	// delete and restore take IDs only: no --all to mistype.
	cmd := &cobra.Command{Use: "delete"}
	(&selection{action: store.ActDelete, by: byIDs}).register(cmd)
	if cmd.Flags().Lookup("all") != nil {
		t.Error("delete has --all")
	}
}

func isFlagError(err error) bool {
	var fe *cmdutil.FlagError
	return errors.As(err, &fe)
}

func TestParseAuditAction(t *testing.T) {
	for in, want := range map[string]string{
		"retry": store.ActionRetry, "JOB_RETRY": store.ActionRetry, "Job_Cancel": store.ActionCancel,
		" archive ": store.ActionArchive, "schedule-add": store.ActionScheduleAdd, "SCHEDULE_REMOVE": store.ActionScheduleRemove,
		"user-rm": store.ActionUserRemove, "USER_REMOVE": store.ActionUserRemove, "user.add": store.ActionUserAdd, "Token_Create": store.ActionTokenCreate,
		"token-revoke": store.ActionTokenRevoke, "user-passwd": store.ActionUserPasswd,
	} {
		if got, err := parseAuditAction(in); err != nil || got != want {
			t.Errorf("parseAuditAction(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "retried", "JOB_FROB", "job"} {
		if _, err := parseAuditAction(in); !isFlagError(err) {
			t.Errorf("parseAuditAction(%q): err = %v, want a usage error", in, err)
		}
	}
}

// TestRefusalsChangeNothing runs every refusal of an empty selection as a
// command line, the store's jobs, archive and audit log compared before and
// after: exit 2, one line saying what to add, nothing changed.
func TestRefusalsChangeNothing(t *testing.T) {
	e := newCLIEnv(t, false)
	var ids []string
	for _, st := range store.Statuses {
		ids = append(ids, e.seed("X", st))
	}
	snapshot := func() string {
		t.Helper()
		ctx := context.Background()
		var b strings.Builder
		for _, archived := range []bool{false, true} {
			jobs, err := e.store().List(ctx, &store.ListParams{Limit: 1000, Archived: archived})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				fmt.Fprintf(&b, "%v %s %s %s %d %v\n", archived, j.ID, j.Status, j.ScheduledFor, j.Attempts, j.CancelRequested)
			}
		}
		audit, err := e.store().Audit(ctx, &store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "audit %d\n", len(audit))
		return b.String()
	}
	before := snapshot()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"retry", "--yes"}, "retry needs job IDs, a filter such as --status or --type, or --all"},
		{[]string{"cancel", "--yes"}, "cancel needs job IDs, a filter such as --status or --type, or --all"},
		{[]string{"start"}, "start needs job IDs, a filter such as --status or --type, or --all"},
		{[]string{"delete", "--yes"}, "delete needs job IDs, or - to read them from stdin"},
		{[]string{"purge", "--yes"}, "purge needs a filter such as --older 30d or --status, or --all"},
		{[]string{"archive"}, "archive needs --older, e.g. --older 30d"},
		{[]string{"archive", "--type", "X"}, "archive needs --older, e.g. --older 30d"},
		{[]string{"retry", "--type", "", "--yes"}, "--type was given an empty value"},
		{[]string{"retry", "--status", "failed,", "--yes"}, "--status was given an empty value"},
		{[]string{"cancel", "--type", ",", "--yes"}, "--type was given an empty value"},
		{[]string{"cancel", "--user", "", "--yes"}, "--user was given an empty value"},
		{[]string{"start", "--since", ""}, "--since was given an empty value"},
		{[]string{"start", "--until", ""}, "--until was given an empty value"},
		{[]string{"purge", "--older", "", "--yes"}, "--older was given an empty value"},
		{[]string{"purge", "--type", "", "--yes"}, "--type was given an empty value"},
		{[]string{"purge", "--all", "--status", "", "--yes"}, "--status was given an empty value"},
		{[]string{"archive", "--older", ""}, "--older was given an empty value"},
		{[]string{"archive", "--all", "--user", ""}, "--user was given an empty value"},
		{[]string{"retry", "--all", ids[0]}, "retry takes job IDs or --all, not both"},
		{[]string{"purge", "--all", ids[0], "--yes"}, "purge takes job IDs or --all, not both"},
		{[]string{"list", "--type", ""}, "--type was given an empty value"},
	} {
		if code := e.run("", tc.args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", tc.args, code)
		}
		if got := e.errOut.String(); !strings.HasPrefix(got, "jobctl: "+tc.err) || strings.Count(got, "\n") != 1 {
			t.Errorf("%q: stderr %q, want one line starting %q", tc.args, got, tc.err)
		}
		if after := snapshot(); after != before {
			t.Fatalf("%q changed the store:\n%s\nwas:\n%s", tc.args, after, before)
		}
	}
}
