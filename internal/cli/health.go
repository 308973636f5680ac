package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
response, with null for a figure that could not be read.

It is a Nagios plugin, so a monitoring system can run the command as is.
The first line is the status line, the same on a terminal and in a pipe,
with performance data; the checklist follows:

  JOBCTL WARNING - 150 pending (warn > 100) | pending=150;100 failed=2;10 …

The exit code is the plugin's: 0 OK (healthy), 1 WARNING (degraded), 2
CRITICAL (unhealthy), 3 UNKNOWN (the store cannot be reached, or does not
answer within ` + healthTimeout.String() + `, the config file cannot be read, or a usage
error). When it is not 0, one line on stderr says why.`,
		Example: `  jobctl health
  jobctl health -o json
  jobctl health --max-pending 1000 --max-oldest-pending 2h
  jobctl health >/dev/null 2>&1 || page-oncall`,
		// A Nagios plugin's usage error is UNKNOWN, 3: exit 2 would read
		// as CRITICAL and page someone about the queue.
		// The root's pre-run refuses an unsupported -o with exit 2, which a
		// Nagios plugin must not use: health runs the same check as UNKNOWN.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if f.NoColor {
				f.IO.DisableColor()
			}
			return healthUsage(f.IO, f.CheckFormat(cmd))
		},
		Args: func(cmd *cobra.Command, args []string) error {
			return healthUsage(f.IO, cobra.NoArgs(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Format(); err != nil {
				return healthUsage(f.IO, err)
			}
			if err := check.validate(); err != nil {
				return healthUsage(f.IO, err)
			}
			if opts.Inputs, err = check.inputs(f); err != nil {
				// Without its thresholds the check cannot say anything.
				if err := f.IO.Health(opts.Format, health.Unchecked(err)); err != nil {
					return err
				}
				return &cmdutil.ExitError{Code: health.ExitUnreachable, Err: fmt.Errorf("UNKNOWN: %w", err)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return healthRun(cmd.Context(), opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// The root's own handling first (it makes the usage error), then
		// the plugin's exit code.
		if p := c.Parent(); p != nil {
			err = p.FlagErrorFunc()(c, err)
		}
		return healthUsage(f.IO, err)
	})
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
	if err := opts.IO.Health(opts.Format, r); err != nil {
		return err
	}
	if code == health.ExitOK {
		return nil
	}
	return &cmdutil.ExitError{Code: code, Err: errors.New(healthSummary(r))}
}

// healthUsage turns a usage error of health's into the Nagios UNKNOWN: the
// status line on stdout, the error as usual on stderr, exit 3.
func healthUsage(ios *render.IO, err error) error {
	if err == nil {
		return nil
	}
	msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	if werr := ios.HealthUnknown("usage error: " + msg); werr != nil {
		return werr
	}
	return &cmdutil.ExitError{Code: health.ExitUnreachable, Err: err}
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
