package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// NewCmdMigrate builds `jobctl migrate` and `jobctl migrate status`.
func NewCmdMigrate(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the store's schema",
		Long: `Apply the schema migrations this jobctl embeds, each in its own
transaction. Running it again does nothing. A store migrated by a newer
jobctl is refused and left untouched. A SQLite store that does not exist
yet is created; enqueue, worker run, schedule add and demo create one too,
and a SQLite store behind this jobctl migrates itself on open. Postgres is
only ever migrated by this command.`,
		Example: `  jobctl migrate --db postgres://jobctl@db.internal/jobs
  jobctl migrate --db postgres://jobctl@db.internal/app --schema jobctl
  jobctl migrate status`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.OpenStoreWith(cmd.Context(), cmdutil.OpenOptions{Create: true, Migrating: true})
			if err != nil {
				return err
			}
			applied, err := s.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			// What was done is a message, not data: stderr. `migrate
			// status` prints the schema's state as data.
			if len(applied) == 0 {
				f.IO.Warnf("Schema is up to date (%s)\n", describeStore(f, s))
				return nil
			}
			for _, m := range applied {
				f.IO.Warnf("Applied %03d_%s\n", m.Version, m.Name)
			}
			f.IO.Warnf("Schema is at version %d (%s)\n", applied[len(applied)-1].Version, describeStore(f, s))
			return nil
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:         "status",
		Short:       "Show applied and pending migrations",
		Example:     `  jobctl migrate status -o json`,
		Args:        cobra.NoArgs,
		Annotations: cmdutil.FormatsAnnotation(cmdutil.DataFormats...),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := f.Format()
			if err != nil {
				return err
			}
			// Never creates, and shows a SQLite store's pending migrations
			// rather than applying them on open.
			s, err := f.OpenStoreWith(cmd.Context(), cmdutil.OpenOptions{Migrating: true})
			if err != nil {
				return err
			}
			ms, err := s.Migrations(cmd.Context())
			if err != nil {
				return err
			}
			if format != render.FormatTable && format != render.FormatWide {
				return f.IO.Encode(format, render.MigrationsJSON(ms))
			}
			rows := make([][]string, len(ms))
			for i, m := range ms {
				applied := "pending"
				if m.AppliedAt != nil {
					applied = m.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
				}
				rows[i] = []string{fmt.Sprintf("%03d", m.Version), m.Name, applied}
			}
			f.IO.Table([]string{"VERSION", "NAME", "APPLIED"}, rows)
			return nil
		},
	})
	return cmd
}

func describeStore(f *cmdutil.Factory, s store.Store) string {
	d := f.DSN()
	return fmt.Sprintf("%s %s from %s", s.Backend(), d.Redacted(), d.Source)
}
