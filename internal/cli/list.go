package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// ListOptions are `jobctl list`'s inputs.
type ListOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Format render.Format
	Quiet  bool

	Params store.ListParams
}

// NewCmdList builds `jobctl list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Store: f.Store}
	var (
		filters filterFlags
		sort    string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List jobs, newest first, with the guide's columns",
		Long: `List jobs with the Job List View's columns: ID, Type, Status, Created,
Started, Completed, Duration and Attempts. The last line says how many were
shown of how many matched. Page on with --after and the last ID shown.`,
		Example: `  jobctl list --status dead --since 1h
  jobctl list --type CalendarSync --status failed
  jobctl list --status failed,dead --since today -o wide
  jobctl list --limit 100 --after job_01jd8x6r3e
  jobctl list --status failed -q | jobctl retry -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Params.Filter, err = filters.filter(f.Now()); err != nil {
				return err
			}
			if opts.Params.Sort, err = store.ParseSort(sort); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if opts.Params.Limit < 1 {
				return cmdutil.FlagErrorf("--limit must be at least 1")
			}
			opts.Params.After = store.NormalizeID(opts.Params.After)
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Quiet = f.Quiet
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	filters.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&opts.Params.Limit, "limit", 50, "at most this many jobs")
	fl.StringVar(&opts.Params.After, "after", "", "start after this job ID (keyset paging: pass the last ID of the previous page)")
	fl.StringVar(&sort, "sort", string(store.SortCreatedDesc), "order: -created (newest first), created, or priority")
	fl.BoolVar(&opts.Params.Archived, "archived", false, "list archived jobs instead of live ones")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	jobs, err := s.List(ctx, &opts.Params)
	if err != nil {
		return err
	}
	if opts.Quiet {
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID
		}
		opts.IO.IDs(ids)
		return nil
	}
	var total int64
	if opts.Format == render.FormatTable || opts.Format == render.FormatWide {
		if total, err = s.Count(ctx, &opts.Params.Filter, opts.Params.Archived); err != nil {
			return err
		}
	}
	return opts.IO.Jobs(opts.Format, jobs, total)
}
