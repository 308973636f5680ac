package cli

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// ArchiveOptions are `jobctl archive`'s inputs.
type ArchiveOptions struct {
	*ActionOptions
	// To also receives every archived job as JSONL, gzipped when its name
	// ends in .gz. It is appended to, so a resumed archive adds to it.
	To string
}

// NewCmdArchive builds `jobctl archive` and `jobctl archive restore`.
func NewCmdArchive(f *cmdutil.Factory, runF func(context.Context, *ArchiveOptions) error) *cobra.Command {
	opts := &ArchiveOptions{ActionOptions: newActionOptions(f, store.ActArchive)}
	sel := &selection{action: store.ActArchive, by: byFilter}
	cmd := &cobra.Command{
		Use:   "archive --older DURATION",
		Short: `Move old finished jobs into "JobArchive", in batches`,
		Long: `Move jobs that finished (completedAt) before --older into "JobArchive",
where 'list --archived' and 'show' still find them and 'archive restore'
brings them back. --older is required. Without --status, COMPLETED, CANCELLED
and DEAD jobs move; --status may name any finished status (FAILED too), never
a live one. The other list filters narrow the selection further.

Jobs move in batches of --batch-size, each batch one transaction with its
audit rows, so an interrupted archive leaves every job moved or untouched:
run the same command again to finish.

--to FILE also writes every archived job as one JSON line, in the shape of
'list -o jsonl', gzipped when FILE ends in .gz. Each batch reaches the disk
before it commits. The file is appended to, so a resumed run adds to it (a
job may appear twice if jobctl died between writing and committing a batch).
A dry run writes no file.

archive never asks: 'archive restore' undoes it, and cron runs it as written.
On a terminal a spinner shows the running count.`,
		Example: `  jobctl archive --older 30d
  jobctl archive --older 30d --to /var/backups/jobs-$(date +%F).jsonl.gz
  jobctl archive --older 90d --status failed --type CalendarSync
  jobctl archive --older 30d --dry-run
  jobctl archive restore job_12345abc`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && sel.filters.Older == "" {
				return cmdutil.FlagErrorf("archive needs --older, e.g. --older 30d: jobs that finished before then are archived")
			}
			if err := opts.prepare(f, sel, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return archiveRun(cmd.Context(), opts)
		},
	}
	sel.register(cmd)
	opts.register(cmd)
	cmd.Flags().StringVar(&opts.To, "to", "", "also append each archived job as JSONL to this file (gzip when it ends in .gz)")
	cmd.AddCommand(newCmdArchiveRestore(f, nil))
	return cmd
}

func archiveRun(ctx context.Context, opts *ArchiveOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	var file *archiveFile
	if opts.To != "" && !opts.Params.DryRun {
		if file, err = openArchiveFile(opts.To); err != nil {
			return err
		}
		opts.Params.Sink = file.write
		opts.written = opts.To
	}
	out, err := opts.act(ctx, s)
	if file != nil {
		err = errors.Join(err, file.Close())
	}
	if out == nil {
		return err
	}
	return opts.report(out, err)
}

// archiveFile is archive --to's file.
type archiveFile struct {
	name string
	f    *os.File
	buf  *bufio.Writer
	gz   *gzip.Writer // nil for plain JSONL
}

func openArchiveFile(name string) (*archiveFile, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	a := &archiveFile{name: name, f: f, buf: bufio.NewWriterSize(f, 256<<10)}
	if strings.HasSuffix(name, ".gz") {
		a.gz = gzip.NewWriter(io.Discard)
	}
	return a, nil
}

// write is the archive's Sink: it runs before each batch commits, and
// returns only once the batch is on disk, so the file holds every job the
// archive moved even if jobctl dies. In a .gz file each batch is a gzip
// member of its own (gunzip reads them as one stream), so a file cut off
// after any batch still reads to its end, and a resumed run can append.
func (a *archiveFile) write(jobs []*store.Job) error {
	var w io.Writer = a.buf
	if a.gz != nil {
		a.gz.Reset(a.buf)
		w = a.gz
	}
	err := render.WriteJobsJSONL(w, jobs)
	if a.gz != nil && err == nil {
		err = a.gz.Close()
	}
	if err == nil {
		err = a.buf.Flush()
	}
	if err == nil {
		err = a.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("--to %s: %w (the batch was not archived)", a.name, err)
	}
	return nil
}

func (a *archiveFile) Close() error {
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("--to %s: %w", a.name, err)
	}
	return nil
}

func newCmdArchiveRestore(f *cmdutil.Factory, runF func(context.Context, *ActionOptions) error) *cobra.Command {
	opts := newActionOptions(f, store.ActRestore)
	return bindAction(f, &cobra.Command{
		Use:   "restore ID... | -",
		Short: `Move archived jobs back from "JobArchive" into "Job"`,
		Long: `Move archived jobs, named by ID (arguments, or - to read one ID a line
from stdin), back into "Job" with the status they had. An ID not in the
archive is reported and makes the exit code 1.`,
		Example: `  jobctl archive restore job_12345abc
  jobctl list --archived --type CalendarSync --since 60d -q | jobctl archive restore -`,
	}, opts, byIDs, nil, runAction(opts, runF))
}
