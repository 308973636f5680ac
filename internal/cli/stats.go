package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// StatsOptions are `jobctl stats`'s inputs.
type StatsOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Format render.Format

	Params store.StatsParams
	// Window says what --since covers, for the headings: "last 24h".
	Window string

	// Actor is who ops reads as (an admin: every job is in scope).
	Actor string
}

// NewCmdStats builds `jobctl stats`.
func NewCmdStats(f *cmdutil.Factory, runF func(context.Context, *StatsOptions) error) *cobra.Command {
	opts := &StatsOptions{IO: f.IO, Store: f.Store}
	var since string
	var types []string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show the queue's numbers: jobs per status and type, run times, top errors",
		Long: `Show the guide's dashboard numbers: how many jobs are in each status, the
same per job type with the median (P50) and P95 run times of the jobs
completed since --since, how many completed and failed in the last hour and
day, and the most common error messages of FAILED and DEAD jobs (the
runbook's "Find common error patterns").

Counts cover every live job whatever --since says; --since bounds the run
times and the top errors, by when the jobs finished. --since all drops the
bound.`,
		Example: `  jobctl stats
  jobctl stats --type CalendarSync --since 7d
  jobctl stats --since all --top 10
  jobctl stats -o json | jq '.topErrors'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			opts.Actor = f.ActorName()
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if opts.Params.TopErrors < 1 {
				return cmdutil.FlagErrorf("--top must be at least 1")
			}
			// The job filters' own parsing, so --type and --since read as
			// they do everywhere else.
			ff := filterFlags{Types: types}
			switch {
			case since == "all" || since == "":
				opts.Window = "all time"
			case isDuration(since):
				ff.Since, opts.Window = since, "last "+since
			default:
				ff.Since, opts.Window = since, "since "+since
			}
			filter, err := ff.filter(f.Now())
			if err != nil {
				return err
			}
			opts.Params.Since, opts.Params.Types = filter.Since, filter.Types
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statsRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "24h", "run times and top errors of jobs finished since: 90s, 1h, 30d, today, RFC 3339, or all")
	fl.StringSliceVar(&types, "type", nil, "only these job types; repeat or comma-separate")
	fl.IntVar(&opts.Params.TopErrors, "top", 5, "list this many of the most common error messages")
	cmdutil.SetFormats(cmd, cmdutil.DataFormats...)
	return cmd
}

func isDuration(s string) bool {
	_, err := when.ParseDuration(s)
	return err == nil
}

func statsRun(ctx context.Context, opts *StatsOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	st, err := ops.New(s, ops.Options{}).Stats(ctx, cliAs(opts.Actor), &opts.Params)
	if err != nil {
		return err
	}
	return opts.IO.Stats(opts.Format, st, opts.Window)
}
