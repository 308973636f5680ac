package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/store"
)

// outageActStore commits one batch of an action, then loses the store.
type outageActStore struct{ store.Store }

func (s outageActStore) Act(ctx context.Context, p *store.ActionParams) (*store.ActionResult, error) {
	batch := p.IDs[:2]
	changed := make([]store.Changed, len(batch))
	for i, id := range batch {
		changed[i] = store.Changed{ID: id, Status: store.StatusPending}
	}
	p.Progress(changed)
	return &store.ActionResult{Changed: 2}, &store.UnavailableError{Op: string(p.Action), Reason: "connection refused"}
}

// TestActionOutageOneLine: a bulk action the store drops out of part-way
// stops with one line that says how far it got, not the driver's FATAL, and
// no summary that reads like success.
func TestActionOutageOneLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"retry"}, "jobctl: store unreachable: 2 of 5 jobs retried, the rest untouched (connection refused)\n"},
		{[]string{"retry", "quiet"}, "jobctl: store unreachable: 2 of 5 jobs retried, the rest untouched (connection refused)\n"},
		{[]string{"cancel"}, "jobctl: store unreachable: 2 of 5 jobs cancelled, the rest untouched (connection refused)\n"},
	} {
		e := newCLIEnv(t, false)
		var ids []string
		for range 5 {
			ids = append(ids, e.seed("Sync", store.StatusFailed))
		}
		runF := func(ctx context.Context, opts *ActionOptions) error {
			open := opts.Store
			opts.Store = func(ctx context.Context) (store.Store, error) {
				s, err := open(ctx)
				return outageActStore{s}, err
			}
			return actionRun(ctx, opts)
		}
		var root = NewCmdRetry(e.f, runF)
		if c.args[0] == "cancel" {
			root = NewCmdCancel(e.f, func(ctx context.Context, opts *CancelOptions) error { return runF(ctx, opts.ActionOptions) })
		}
		e.f.Quiet = len(c.args) > 1 // as -q binds it on the root command
		root.SetArgs(ids)
		root.SilenceErrors, root.SilenceUsage = true, true
		e.in.WriteString(strings.Join(ids, "\n"))
		code := cmdutil.HandleError(e.f.IO, root.ExecuteContext(context.Background()))
		if code != cmdutil.ExitFailure {
			t.Errorf("%v: exit %d, want 1", c.args, code)
		}
		if got := e.errOut.String(); got != c.want {
			t.Errorf("%v: stderr %q\nwant %q", c.args, got, c.want)
		}
		if out := e.out.String(); strings.Contains(out, "Retried") || strings.Contains(out, "Cancelled") {
			t.Errorf("%v: a summary reads like success: %q", c.args, out)
		}
	}
}
