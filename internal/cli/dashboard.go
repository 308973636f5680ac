package cli

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// minWatch keeps a watched dashboard from hammering the store, as watch(1)
// refuses less than a tenth of a second.
const minWatch = 100 * time.Millisecond

// DashboardOptions are `jobctl dashboard`'s inputs.
type DashboardOptions struct {
	IO    *render.IO
	Store func(context.Context) (store.Store, error)
	// Source names the store in the title row (its redacted DSN).
	Source string

	Limit int
	Watch time.Duration
}

// NewCmdDashboard builds `jobctl dashboard`.
func NewCmdDashboard(f *cmdutil.Factory, runF func(context.Context, *DashboardOptions) error) *cobra.Command {
	opts := &DashboardOptions{IO: f.IO, Store: f.Store}
	cmd := &cobra.Command{
		Use:     "dashboard",
		Aliases: []string{"dash"},
		Short:   "Show the guide's Job Queue Dashboard: status summary and recent jobs",
		Long: `Show the Job Queue Dashboard: how many jobs are in each status, then the
most recent jobs with their ID, type, status, when they last changed and
the action the guide allows for them (retry, cancel, start, delete or show).

With --watch the dashboard redraws in place on the terminal's alternate
screen until Ctrl-C, which leaves the terminal as it was. When stdout is not
a terminal, --watch is ignored and one plain frame is printed, without
colour or icons.`,
		Example: `  jobctl dashboard
  jobctl dash --watch 2s
  jobctl dashboard --limit 20 | mail -s "queue" oncall@example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// -o other than table was refused with the note below.
			if f.Quiet {
				return cmdutil.FlagErrorf("dashboard draws for people only; for data use `jobctl list -o json`")
			}
			if opts.Limit < 1 {
				return cmdutil.FlagErrorf("--limit must be at least 1")
			}
			if opts.Watch != 0 && opts.Watch < minWatch {
				return cmdutil.FlagErrorf("--watch must be at least %s", minWatch)
			}
			opts.Source = f.DSN().Redacted()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return dashboardRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Limit, "limit", 10, "how many recent jobs to show")
	cmdutil.DurationVarP(fl, &opts.Watch, "watch", "w", 0, "redraw every interval (e.g. 2s) until Ctrl-C; ignored when stdout is not a terminal")
	cmdutil.SetFormatsNote(cmd, "dashboard draws for people only; for data use `jobctl list -o json`")
	return cmd
}

func dashboardRun(ctx context.Context, opts *DashboardOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	watching := opts.Watch > 0 && opts.IO.IsTerminal()
	// load reads a frame's data and returns what lays it out at the
	// terminal's size of the moment, so a resize redraws without a query.
	load := func(ctx context.Context) (func() string, error) {
		v, err := loadDashboard(ctx, ops.New(s, ops.Options{}), cliAs(""), opts.Limit)
		if err != nil {
			return nil, err
		}
		v.Source = opts.Source
		return func() string {
			if watching {
				v.Every = opts.Watch
				v.Height = opts.IO.TerminalHeight()
			}
			return opts.IO.Dashboard(v)
		}, nil
	}
	if !watching {
		draw, err := load(ctx)
		if err != nil {
			return err
		}
		opts.IO.Printf("%s", draw())
		return nil
	}
	resized, stop := opts.IO.NotifyResize()
	defer stop()
	return watch(ctx, opts.IO, opts.Watch, resized, load)
}

// watch draws a frame every interval on the alternate screen until ctx is
// cancelled (Ctrl-C), which is a normal end. A resize lays the last data
// out again at once for the new size. The terminal is restored before any
// error is returned, so the error prints on the normal screen.
func watch(ctx context.Context, ios *render.IO, every time.Duration, resized <-chan os.Signal, load func(context.Context) (func() string, error)) error {
	screen := ios.OpenScreen()
	defer screen.Close()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		draw, err := load(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		screen.Draw(draw())
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
				break wait
			case <-resized:
				ios.Resize()
				screen.Draw(draw())
			}
		}
	}
}

// dashboardReader is what the dashboard reads: the operations layer's
// summary and list, as the web dashboard does.
type dashboardReader interface {
	Summary(ctx context.Context, who ops.Principal) (*ops.Summary, error)
	List(ctx context.Context, who ops.Principal, req *ops.ListRequest) (*ops.ListResult, error)
}

// loadDashboard reads one frame's data: the counts by status (cheap to
// repeat every few seconds on a large table: see ops.Summary) and the
// newest jobs.
func loadDashboard(ctx context.Context, r dashboardReader, who ops.Principal, limit int) (*render.DashboardView, error) {
	sum, err := r.Summary(ctx, who)
	if err != nil {
		return nil, err
	}
	v := &render.DashboardView{Counts: make(map[store.Status]int64, len(store.Statuses)), Estimated: map[store.Status]bool{}}
	for _, st := range store.Statuses {
		v.Counts[st] = sum.Counts[st].N
		if sum.Counts[st].Estimated {
			v.Estimated[st] = true
		}
	}
	page, err := r.List(ctx, who, &ops.ListRequest{Limit: limit, Sort: store.SortCreatedDesc})
	if err != nil {
		return nil, err
	}
	v.Jobs = page.Items
	return v, nil
}
