package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// HealthOptions are `jobctl health`'s inputs.
type HealthOptions struct {
	IO *render.IO
	// OpenStore opens the store without checking its schema: a schema
	// problem is one of the checks, not an error.
	OpenStore func(context.Context) (store.Store, error)
	Format    render.Format
	Inputs    health.Inputs
}

// NewCmdHealth builds `jobctl health`.
func NewCmdHealth(f *cmdutil.Factory, runF func(context.Context, *HealthOptions) error) *cobra.Command {
	opts := &HealthOptions{IO: f.IO, OpenStore: f.OpenStore}
	var check checkFlags
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check the queue against the guide's thresholds, with Nagios plugin exit codes",
		Long: `Check the store, the workers and the queue against the guide's monitoring
thresholds:

  pending jobs > 100         warning (backlog building)
  failed jobs > 10           warning (systematic issue)
  worker last ping > 60s     critical (worker down)
  oldest pending > 30m       warning (slow processing)
  RUNNING past its type's
    timeout plus --lease     warning (stuck job)
  schema not current         critical

Thresholds come from the config file's health section (else the defaults
above); the --max-* flags override both. -o json prints the guide's health
response.

The exit code follows the Nagios plugin convention, so a monitoring system
can run the command as is: 0 healthy, 1 degraded (a warning), 2 unhealthy
(critical), 3 unknown (the store cannot be reached, or does not answer within
` + healthTimeout.String() + `, or the config file cannot be read). When it is not 0, one line on
stderr says why.`,
		Example: `  jobctl health
  jobctl health -o json
  jobctl health --max-pending 1000 --max-oldest-pending 2h
  jobctl health >/dev/null 2>&1 || page-oncall`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			if err := check.validate(); err != nil {
				return err
			}
			if opts.Inputs, err = check.inputs(f); err != nil {
				// Without its thresholds the check cannot say anything.
				return &cmdutil.ExitError{Code: health.ExitUnreachable, Err: fmt.Errorf("UNKNOWN: %w", err)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return healthRun(cmd.Context(), opts)
		},
	}
	check.register(cmd)
	cmdutil.SetFormats(cmd, cmdutil.DataFormats...)
	return cmd
}

func healthRun(ctx context.Context, opts *HealthOptions) error {
	// A store that hangs is as good as unreachable, and a monitoring
	// system should hear so before its own timeout kills the check.
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	var r *health.Report
	if s, err := opts.OpenStore(ctx); err != nil {
		r = health.Unreachable(err)
	} else {
		r = health.Check(ctx, s, opts.Inputs)
	}
	code := r.ExitCode()
	// An unreachable store has no checklist to show: the line on stderr is
	// all there is to say.
	human := opts.Format == render.FormatTable || opts.Format == render.FormatWide
	if code != health.ExitUnreachable || !human {
		if err := opts.IO.Health(opts.Format, r); err != nil {
			return err
		}
	}
	if code == health.ExitOK {
		return nil
	}
	return &cmdutil.ExitError{Code: code, Err: errors.New(healthSummary(r))}
}

// healthSummary is the one line a non-zero exit prints on stderr: the
// Nagios state and the most severe problem.
func healthSummary(r *health.Report) string {
	state := map[int]string{health.ExitWarning: "WARNING", health.ExitCritical: "CRITICAL", health.ExitUnreachable: "UNKNOWN"}[r.ExitCode()]
	if len(r.Problems) == 0 {
		return state
	}
	first := r.Problems[0]
	for _, p := range r.Problems {
		if p.Severity == health.Critical {
			first = p
			break
		}
	}
	msg := state + ": " + first.Message
	if first.Check == "schema" {
		msg += " (see `jobctl migrate status`)"
	}
	if n := len(r.Problems) - 1; n > 0 {
		msg += " (and " + render.CountOf(int64(n), "more problem") + ")"
	}
	return msg
}
