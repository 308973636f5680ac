package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
		Use:   "archive --older DURATION | --all",
		Short: `Move old finished jobs into "JobArchive", in batches`,
		Long: `Move jobs that finished (completedAt) before --older into "JobArchive",
where 'list --archived' and 'show' still find them and 'archive restore'
brings them back. --older is required, or --all to take jobs however long
ago they finished. Without --status, COMPLETED, CANCELLED and DEAD jobs move;
--status may name any finished status (FAILED too), never a live one. The
other list filters narrow the selection further.

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
  jobctl archive --all --status completed
  jobctl archive restore job_12345abc`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// archive takes no IDs: a word close to a subcommand is a typo
			// of it, anything else gets prepare's hint about restore.
			if len(args) > 0 && len(cmd.SuggestionsFor(args[0])) > 0 {
				return unknownCommand(cmd, args[0])
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
		if file.cut > 0 {
			opts.IO.Warnf("Cut %s bytes from the end of %s: a batch an interrupted run left half-written (its jobs were not archived, and are archived again now)\n",
				render.Count(file.cut), opts.To)
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
	cut  int64        // bytes of a torn last batch removed on open
}

// openArchiveFile opens name for appending, first cutting off whatever a
// killed run left of a batch it was writing: a partial last line, or a
// partial last gzip member. Appending after either would leave a line
// that does not parse, or a .gz that gunzip cannot read past.
func openArchiveFile(name string) (*archiveFile, error) {
	cut, err := cutTornTail(name, strings.HasSuffix(name, ".gz"))
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	a := &archiveFile{name: name, f: f, buf: bufio.NewWriterSize(f, 256<<10), cut: cut}
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

// cutTornTail truncates name after its last complete record and returns
// how many bytes it removed. A missing file has nothing to cut.
func cutTornTail(name string, gz bool) (int64, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var good int64
	if gz {
		good = completeGzipMembers(f)
	} else {
		good, err = lastNewline(f, fi.Size())
		if err != nil {
			return 0, err
		}
	}
	if good == fi.Size() {
		return 0, nil
	}
	return fi.Size() - good, os.Truncate(name, good)
}

// lastNewline is the offset just past the file's last '\n', or 0.
func lastNewline(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// completeGzipMembers is the offset just past the last gzip member that
// decompresses to its end.
func completeGzipMembers(r io.Reader) int64 {
	cr := &countingReader{r: bufio.NewReader(r)}
	var good int64
	zr, err := gzip.NewReader(cr)
	for err == nil {
		zr.Multistream(false)
		if _, err = io.Copy(io.Discard, zr); err != nil {
			break
		}
		good = cr.n
		err = zr.Reset(cr)
	}
	return good
}

// countingReader counts the bytes gzip consumes. It is an io.ByteReader,
// so gzip reads no further ahead than the member it decodes.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
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
