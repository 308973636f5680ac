package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/config"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// EnqueueOptions are `jobctl enqueue`'s inputs.
type EnqueueOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Now    func() time.Time
	Format render.Format
	Quiet  bool

	Params store.EnqueueParams
	// From is a JSONL file ("-" for stdin) of jobs to enqueue in bulk;
	// Params then holds the defaults each line may override.
	From string
	// Budget gives a job with no --max-attempts its type's maxAttempts from
	// the config file: a job carries its own budget, which the worker uses.
	Budget func(jobType string) int
	// MaxDataBytes caps each job's data: the config file's
	// limits.maxDataBytes.
	MaxDataBytes int
}

// enqueuePolicy reads the config file, if there is one, for the types'
// maxAttempts and the data size limit. Without a file every type gets the
// schema's default budget and data the default limit.
func enqueuePolicy(f *cmdutil.Factory) (func(string) int, int, error) {
	cfg, err := f.Config()
	if errors.Is(err, config.ErrNoConfig) {
		return func(string) int { return 0 }, store.DefaultMaxDataBytes, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w (fix it, or pass --max-attempts)", err)
	}
	return func(t string) int {
		if _, ok := cfg.Jobs[t]; ok {
			return cfg.Policy(t).MaxAttempts
		}
		return 0
	}, cfg.Limits.MaxDataBytes, nil
}

// dataLimit is the config file's limits.maxDataBytes, or the default
// without a file.
func dataLimit(f *cmdutil.Factory) (int, error) {
	cfg, err := f.Config()
	if errors.Is(err, config.ErrNoConfig) {
		return store.DefaultMaxDataBytes, nil
	}
	if err != nil {
		return 0, err
	}
	return cfg.Limits.MaxDataBytes, nil
}

// applyBudget fills in the type's budget where none was given.
func (opts *EnqueueOptions) applyBudget(p *store.EnqueueParams) {
	if p.MaxAttempts == 0 && opts.Budget != nil {
		p.MaxAttempts = opts.Budget(p.Type)
	}
}

// NewCmdEnqueue builds `jobctl enqueue`.
func NewCmdEnqueue(f *cmdutil.Factory, runF func(context.Context, *EnqueueOptions) error) *cobra.Command {
	opts := &EnqueueOptions{IO: f.IO, Store: f.StoreCreate, Now: f.Now}
	var data, priority, delay, at string
	cmd := &cobra.Command{
		Use:   "enqueue TYPE",
		Short: "Add a job, or many from JSONL",
		Long: `Add a job of TYPE and print its ID. With --unique-key, a live job
(PENDING, RUNNING or RETRYING) holding the key is returned instead of a
second one. With --from, enqueue one job per JSONL line, all or nothing:
a bad line, or a row the database refuses, rejects the whole batch naming
its line. The input streams into one transaction, so its size does not
matter; once the batch is committed, -q prints the new IDs, one a line,
and -o json or jsonl the new jobs as 'list' does. Otherwise the count goes
to stderr and stdout stays empty.

A type is 1-128 letters, digits and _ - . :; user IDs, unique keys and
job IDs are at most 255 characters; data is at most 1 MiB of JSON
(limits.maxDataBytes in the config file); --max-attempts is 1-1000.

A bulk line takes the schema's names: {"type":"EmailSending","data":{…},
"priority":"HIGH","scheduledFor":"2025-10-25T10:00:00Z","dependsOn":[…],
"maxAttempts":3,"uniqueKey":"…","userId":"…","parentId":"…"}. TYPE and the
flags give defaults for lines that leave a field out.`,
		Example: `  jobctl enqueue CalendarSync --data '{"userId":"user_123","provider":"google"}'
  jobctl enqueue ReportGeneration --data @report.json --priority HIGH --delay 10m
  jobctl enqueue EmailReport --depends-on job_01jd8x6r3e --parent job_01jd8x5k2a
  jobctl enqueue MetricCalculation --unique-key daily_revenue:2025-10-25
  jobctl enqueue --from jobs.jsonl
  generate-jobs | jobctl enqueue EmailSending --from -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := &opts.Params
			if len(args) == 1 {
				p.Type = args[0]
			}
			if p.Type == "" && opts.From == "" {
				return cmdutil.FlagErrorf("enqueue needs a job TYPE (see 'jobctl enqueue --help')")
			}
			var err error
			if p.Data, err = readData(data, f.IO.In); err != nil {
				return err
			}
			if priority != "" {
				if p.Priority, err = store.ParsePriority(priority); err != nil {
					return &cmdutil.FlagError{Err: err}
				}
			}
			if p.ScheduledFor, err = scheduleFlags(delay, at, f.Now()); err != nil {
				return err
			}
			if cmd.Flags().Changed("max-attempts") {
				if err := store.CheckMaxAttempts("--max-attempts", p.MaxAttempts); err != nil {
					return &cmdutil.FlagError{Err: err}
				}
			}
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Quiet = f.Quiet
			if opts.From != "" && !opts.Quiet {
				switch opts.Format {
				case render.FormatTable, render.FormatWide, render.FormatJSON, render.FormatJSONL:
				default:
					return cmdutil.FlagErrorf("enqueue --from prints the new jobs as json or jsonl, or their IDs with -q, not %s", opts.Format)
				}
			}
			if opts.Budget, opts.MaxDataBytes, err = enqueuePolicy(f); err != nil {
				return err
			}
			p.MaxDataBytes = opts.MaxDataBytes
			// The flags are checked as the store will check them, but as
			// usage errors; with --from, TYPE is only a default.
			check := *p
			if check.Type == "" {
				check.Type = "T"
			}
			if err := check.Validate(); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.From != "" {
				return enqueueBulk(cmd.Context(), opts)
			}
			return enqueueRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&data, "data", "", "job input: JSON, or @FILE, or @- for stdin")
	fl.StringVar(&priority, "priority", "", "LOW, NORMAL (default), HIGH or CRITICAL")
	fl.StringVar(&delay, "delay", "", "run no sooner than this from now: 90s, 10m, 2h, 1d")
	fl.StringVar(&at, "at", "", "run no sooner than this time: RFC 3339, 2025-10-25 10:00, or a duration from now")
	fl.StringSliceVar(&opts.Params.DependsOn, "depends-on", nil, "wait until this job has COMPLETED; repeatable")
	fl.IntVar(&opts.Params.MaxAttempts, "max-attempts", 0, "attempts before the job is DEAD (default 5)")
	fl.StringVar(&opts.Params.UniqueKey, "unique-key", "", "return the live job with this key instead of adding another")
	fl.StringVar(&opts.Params.UserID, "user", "", "user the job belongs to (userId)")
	fl.StringVar(&opts.Params.ParentID, "parent", "", "parent job ID (parentId)")
	fl.StringVar(&opts.From, "from", "", "enqueue in bulk from a JSONL file, or - for stdin")
	cmdutil.SetFormats(cmd, cmdutil.AllFormats...)
	return cmd
}

// readData resolves --data: inline JSON, @FILE or @-.
func readData(flag string, stdin io.Reader) (json.RawMessage, error) {
	if flag == "" {
		return nil, nil
	}
	raw := []byte(flag)
	if name, ok := strings.CutPrefix(flag, "@"); ok {
		var err error
		if name == "-" {
			raw, err = io.ReadAll(stdin)
		} else {
			raw, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
	}
	raw = bytes.TrimSpace(raw)
	// Into a RawMessage: only the syntax is checked here, so a number
	// beyond float64 (which Postgres keeps exactly) is not refused.
	if err := store.CheckJSON(raw); err != nil {
		return nil, cmdutil.FlagErrorf("--data: %v", err)
	}
	return raw, nil
}

// scheduleFlags turns --delay or --at into a time; zero means now.
func scheduleFlags(delay, at string, now time.Time) (time.Time, error) {
	switch {
	case delay != "" && at != "":
		return time.Time{}, cmdutil.FlagErrorf("use --delay or --at, not both")
	case delay != "":
		d, err := when.ParseDuration(delay)
		if err != nil {
			return time.Time{}, cmdutil.FlagErrorf("--delay: %v", err)
		}
		return now.Add(d), nil
	case at != "":
		t, err := when.ParseAt(at, now)
		if err != nil {
			return time.Time{}, cmdutil.FlagErrorf("--at: %v", err)
		}
		return t, nil
	}
	return time.Time{}, nil
}

func enqueueRun(ctx context.Context, opts *EnqueueOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	opts.applyBudget(&opts.Params)
	res, err := s.Enqueue(ctx, &opts.Params)
	if err != nil {
		return enqueueError(err)
	}
	if res.Existing {
		// On stderr, piped or not: stdout still gets the live job's ID, so
		// a script carries on with the job that holds the key.
		opts.IO.Warnf("%s\n", existingNote(res.Job, opts.Params.UniqueKey))
	}
	if opts.Quiet || opts.Format == render.FormatTable || opts.Format == render.FormatWide {
		opts.IO.IDs([]string{res.Job.ID})
		return nil
	}
	return opts.IO.JobDetail(opts.Format, res.Job, nil)
}

// existingNote says that a unique key was already held by a live job, so
// nothing was enqueued for it.
func existingNote(j *store.Job, key string) string {
	return fmt.Sprintf("existing job %s (%s) has unique key %q; nothing enqueued", j.ID, j.Status, key)
}

func enqueueError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%v: no such job", strings.TrimSuffix(err.Error(), ": "+store.ErrNotFound.Error()))
	}
	return err
}

// bulkLine is one JSONL line of `enqueue --from`.
type bulkLine struct {
	Type         string          `json:"type"`
	Data         json.RawMessage `json:"data"`
	Priority     string          `json:"priority"`
	ScheduledFor *time.Time      `json:"scheduledFor"`
	DependsOn    []string        `json:"dependsOn"`
	MaxAttempts  *int            `json:"maxAttempts"`
	UniqueKey    string          `json:"uniqueKey"`
	UserID       string          `json:"userId"`
	ParentID     string          `json:"parentId"`
}

// lineSource reads a JSONL input one line at a time, as the store asks for
// jobs, so a bulk enqueue holds one line in memory, not the file.
type lineSource struct {
	r        *bufio.Reader
	defaults store.EnqueueParams
	budget   func(string) int
	maxLine  int // bytes, to bound a line without a newline
	line     int
	buf      []byte

	// existing counts the lines whose unique key a live job held, and
	// notes says which, for the first maxExistingNotes of them.
	existing int
	notes    []string
}

// maxExistingNotes bounds the "existing job" lines a bulk enqueue prints.
const maxExistingNotes = 10

// Existing implements store.ExistingObserver.
func (s *lineSource) Existing(line int, j *store.Job) {
	s.existing++
	if len(s.notes) < maxExistingNotes {
		s.notes = append(s.notes, fmt.Sprintf("%s (line %d)", existingNote(j, j.UniqueKey), line))
	}
}

func newLineSource(r io.Reader, defaults store.EnqueueParams, budget func(string) int) *lineSource {
	maxData := defaults.MaxDataBytes
	if maxData <= 0 {
		maxData = store.DefaultMaxDataBytes
	}
	// A line is its data and a few short fields.
	return &lineSource{r: bufio.NewReaderSize(r, 64<<10), defaults: defaults, budget: budget, maxLine: maxData + 1<<20}
}

// Next implements store.BulkSource: the next non-blank line's job, with the
// defaults and the type's attempt budget applied. The store validates it.
func (s *lineSource) Next() (*store.EnqueueParams, int, error) {
	for {
		raw, err := s.readLine()
		if raw == nil && errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		s.line++
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, &store.RowError{Line: s.line, Err: err}
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		p, err := s.parse(raw)
		if err != nil {
			return nil, 0, &store.RowError{Line: s.line, Err: err}
		}
		return p, s.line, nil
	}
}

// readLine returns the next line, without its newline, in a buffer reused
// by the next call; nil at the end of the input.
func (s *lineSource) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(s.buf)+len(chunk) > s.maxLine {
			return []byte{}, fmt.Errorf("the line is longer than %d bytes", s.maxLine)
		}
		s.buf = append(s.buf, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			return s.buf[:len(s.buf)-1], nil
		case errors.Is(err, io.EOF) && len(s.buf) > 0:
			return s.buf, nil // a last line without a newline
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		}
		return []byte{}, fmt.Errorf("reading jobs: %w", err)
	}
}

func (s *lineSource) parse(raw []byte) (*store.EnqueueParams, error) {
	var bl bulkLine
	if err := decodeLine(raw, &bl); err != nil {
		return nil, err
	}
	p := s.defaults
	p.DependsOn = append([]string(nil), s.defaults.DependsOn...)
	if err := bl.apply(&p); err != nil {
		return nil, err
	}
	if p.MaxAttempts == 0 && s.budget != nil {
		p.MaxAttempts = s.budget(p.Type)
	}
	return &p, nil
}

func (bl *bulkLine) apply(p *store.EnqueueParams) error {
	if bl.Type != "" {
		p.Type = bl.Type
	}
	if bl.Data != nil {
		p.Data = bl.Data
	}
	if bl.Priority != "" {
		pr, err := store.ParsePriority(bl.Priority)
		if err != nil {
			return err
		}
		p.Priority = pr
	}
	if bl.ScheduledFor != nil {
		p.ScheduledFor = *bl.ScheduledFor
	}
	if bl.DependsOn != nil {
		p.DependsOn = bl.DependsOn
	}
	if bl.MaxAttempts != nil {
		// 0 would mean "the default" to the store; on a line it is a mistake.
		if err := store.CheckMaxAttempts("maxAttempts", *bl.MaxAttempts); err != nil {
			return err
		}
		p.MaxAttempts = *bl.MaxAttempts
	}
	if bl.UniqueKey != "" {
		p.UniqueKey = bl.UniqueKey
	}
	if bl.UserID != "" {
		p.UserID = bl.UserID
	}
	if bl.ParentID != "" {
		p.ParentID = bl.ParentID
	}
	return nil
}

// enqueueBulk streams the input into the store's one transaction. With -q
// it prints every job's ID, one a line, once the batch is committed, and
// with -o json or jsonl every job, read back: the IDs are spooled to a
// temporary file meanwhile, so that memory stays flat and no job of a
// batch rolled back is ever printed. The count is a message, on stderr.
func enqueueBulk(ctx context.Context, opts *EnqueueOptions) error {
	in := opts.IO.In
	if opts.From != "-" {
		file, err := os.Open(opts.From)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		defer file.Close()
		in = file
	}
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	var spool *idSpool
	listJobs := !opts.Quiet && (opts.Format == render.FormatJSON || opts.Format == render.FormatJSONL)
	if opts.Quiet || listJobs {
		if spool, err = newIDSpool(); err != nil {
			return err
		}
		defer spool.Close()
	}
	prog := opts.IO.StartProgress("enqueued")
	done := 0
	src := newLineSource(in, opts.Params, opts.Budget)
	ahead := prefetch(src)
	n, err := s.EnqueueFrom(ctx, ahead, func(id string) {
		if spool != nil {
			spool.Add(id)
		}
		if done++; done%10000 == 0 {
			prog.Update(int64(done), 0)
		}
	})
	prog.Stop()
	ahead.Close()
	if err != nil {
		return bulkError(opts.From, err)
	}
	// Lines a live job's unique key absorbed: their IDs are that job's.
	for _, note := range src.notes {
		opts.IO.Warnf("%s\n", note)
	}
	if more := src.existing - len(src.notes); more > 0 {
		opts.IO.Warnf("%s more held by existing jobs; nothing enqueued for them\n", render.CountOf(int64(more), "unique key"))
	}
	switch {
	case listJobs:
		return printEnqueued(ctx, s, spool, render.NewJobWriter(opts.IO.Out, opts.Format))
	case spool != nil:
		return spool.CopyTo(opts.IO.Out)
	}
	opts.IO.Warnf("Enqueued %s\n", render.CountOf(int64(n-src.existing), "job"))
	return nil
}

// enqueuedPage is how many spooled jobs printEnqueued reads back per query.
const enqueuedPage = 500

// printEnqueued reads back the jobs whose IDs spool holds, a page at a
// time, and writes them in input order (a line a deduplicated job answered
// repeats that job, as -q repeats its ID).
func printEnqueued(ctx context.Context, s store.Store, spool *idSpool, jw *render.JobWriter) error {
	ids, err := spool.Reader()
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(ids)
	page := make([]string, 0, enqueuedPage)
	flush := func() error {
		if len(page) == 0 {
			return nil
		}
		jobs, err := s.List(ctx, &store.ListParams{Filter: store.Filter{IDs: page}, Limit: len(page)})
		if err != nil {
			return fmt.Errorf("%w (the jobs were enqueued)", err)
		}
		byID := make(map[string]*store.Job, len(jobs))
		for _, j := range jobs {
			byID[j.ID] = j
		}
		for _, id := range page {
			j, ok := byID[id]
			if !ok {
				// Deleted (or run and purged) between the commit and now.
				return fmt.Errorf("%s was enqueued but is gone now", id)
			}
			if err := jw.Write(j); err != nil {
				return err
			}
		}
		page = page[:0]
		return nil
	}
	for sc.Scan() {
		page = append(page, sc.Text())
		if len(page) == enqueuedPage {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return jw.Close()
}

// bulkError names the input line a refusal is about.
func bulkError(from string, err error) error {
	var re *store.RowError
	if !errors.As(err, &re) {
		return fmt.Errorf("%w (nothing was enqueued)", enqueueError(err))
	}
	where := fmt.Sprintf("line %d", re.Line)
	if from != "-" {
		where = fmt.Sprintf("--from %s line %d", from, re.Line)
	}
	return fmt.Errorf("%s: %v (nothing was enqueued)", where, enqueueError(re.Err))
}

// idSpool keeps a bulk enqueue's IDs in a temporary file until the batch
// is committed.
type idSpool struct {
	f *os.File
	w *bufio.Writer
}

func newIDSpool() (*idSpool, error) {
	f, err := os.CreateTemp("", "jobctl-enqueue-*.ids")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the job IDs: %w", err)
	}
	return &idSpool{f: f, w: bufio.NewWriter(f)}, nil
}

// Add records an ID; a write error shows when CopyTo flushes.
func (s *idSpool) Add(id string) {
	s.w.WriteString(id)
	s.w.WriteByte('\n')
}

func (s *idSpool) CopyTo(w io.Writer) error {
	r, err := s.Reader()
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

// Reader flushes the spool and reads it from the start, one ID a line.
func (s *idSpool) Reader() (io.Reader, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("spooling job IDs: %w (the jobs were enqueued)", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.f, nil
}

func (s *idSpool) Close() {
	s.f.Close()
	os.Remove(s.f.Name())
}
