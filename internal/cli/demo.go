package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/demo"
	"github.com/jobctl/jobctl/internal/store"
)

// NewCmdDemo builds the hidden `jobctl demo`, which seeds an empty store
// with a week of demo jobs.
func NewCmdDemo(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:    "demo",
		Hidden: true,
		Short:  "Seed an empty store with 60 days of demo jobs",
		Long: `Fill an empty store with about three hundred jobs: a busy last week with
every status, the guide's job types and its example job (job_12345abc),
job chains, an import split into child jobs and a dead-letter queue, and
a thinner history back to 60 days, of which the part older than 50 days
is archived (by "cron"); one old dead job was retried by "alice".
It seeds only an empty SQLite store unless given --force.`,
		Example: `  jobctl demo --db sqlite:/tmp/demo.db
  jobctl list --db sqlite:/tmp/demo.db --status dead --since 7d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return demoRun(cmd.Context(), f, force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "seed a Postgres store, or one that already has jobs")
	return cmd
}

func demoRun(ctx context.Context, f *cmdutil.Factory, force bool) error {
	d := f.DSN()
	if d.IsPostgres() && !force {
		return fmt.Errorf("store %s (from %s) is Postgres: demo seeds a SQLite store unless given --force", d.Redacted(), d.Source)
	}
	s, err := f.StoreCreate(ctx)
	if err != nil {
		return err
	}
	n, err := s.Count(ctx, &store.Filter{}, false)
	if err != nil {
		return err
	}
	if n > 0 && !force {
		return fmt.Errorf("store %s (from %s) already has %d jobs: demo seeds an empty store unless given --force", d.Redacted(), d.Source, n)
	}
	// The guide's example has a fixed ID, so a second seeding would fail
	// on it: say so rather than report a key violation.
	if _, err := s.Get(ctx, demo.GuideJobID); err == nil {
		return fmt.Errorf("store %s (from %s) already holds the demo jobs (%s): seed a fresh store", d.Redacted(), d.Source, demo.GuideJobID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	jobs, err := demo.Seed(ctx, s, f.Now())
	if err != nil {
		return err
	}
	f.IO.Warnf("Seeded %d demo jobs into %s\n", len(jobs), d.Redacted())
	return nil
}
