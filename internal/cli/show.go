package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// ShowOptions are `jobctl show`'s inputs.
type ShowOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Format render.Format
	ID     string

	// Actor is who ops reads as (an admin: every job is in scope).
	Actor string
}

// NewCmdShow builds `jobctl show`.
func NewCmdShow(f *cmdutil.Factory, runF func(context.Context, *ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IO, Store: f.Store}
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one job: input, output, error with stack, retry history, related jobs",
		Long: `Show the Job Details Page for one job, live or archived: metadata, input,
output, the error with its stack, the retry history (one line per failed
attempt) and related jobs (parent, children, dependencies, dependents).
The ID may be given with or without its job_ prefix.`,
		Example: `  jobctl show job_01jd8x6r3e
  jobctl show 01jd8x6r3e -o json`,
		Args:        oneJobID,
		Annotations: cmdutil.FormatsAnnotation(render.FormatTable, render.FormatJSON, render.FormatYAML),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			opts.Actor = f.ActorName()
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.ID = store.NormalizeID(args[0])
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return showRun(cmd.Context(), opts)
		},
	}
}

func showRun(ctx context.Context, opts *ShowOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	d, err := ops.New(s, ops.Options{}).Job(ctx, cliAs(opts.Actor), opts.ID)
	var e *ops.Error
	if errors.As(err, &e) && e.Code == ops.CodeNotFound {
		return fmt.Errorf("job %s not found (live or archived); see `jobctl list`", opts.ID)
	}
	if err != nil {
		return err
	}
	return opts.IO.JobDetail(opts.Format, d.Job, d.Related)
}

// oneJobID refuses a show without an ID, or with several: show prints one
// job's page.
func oneJobID(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return cmdutil.FlagErrorf("%s takes one job ID, got %d (see '%s --help')", cmd.Name(), len(args), cmd.CommandPath())
	}
	return exactArgs(1, "a job ID")(cmd, args)
}
