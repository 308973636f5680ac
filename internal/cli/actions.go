package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// askPolicy is when an action asks before it runs.
type askPolicy int

const (
	// askNever: start, and archive and restore (each undoes the other, and
	// cron runs archive unattended).
	askNever askPolicy = iota
	// askBulk: retry and cancel can be undone, so they ask only on a
	// terminal, and only when a filter matches more than one job.
	askBulk
	// askAlways: delete and purge cannot be undone. A terminal asks; a
	// script must pass --yes.
	askAlways
)

// actionSpec is what differs between the bulk actions.
type actionSpec struct {
	past string // "Retried", for the summary
	ask  askPolicy
}

var actionSpecs = map[store.Action]actionSpec{
	store.ActRetry:   {"Retried", askBulk},
	store.ActCancel:  {"Cancelled", askBulk},
	store.ActStart:   {"Started", askNever},
	store.ActDelete:  {"Deleted", askAlways},
	store.ActPurge:   {"Purged", askAlways},
	store.ActArchive: {"Archived", askNever},
	store.ActRestore: {"Restored", askNever},
}

// ActionOptions are the inputs every bulk action shares: retry, cancel,
// start, delete, purge, archive and archive restore.
type ActionOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Format render.Format
	Quiet  bool

	// Params is the action as the store runs it: the selection, the
	// actor, the operation ID that ties its audit rows together, and the
	// action's own settings.
	Params store.ActionParams
	// Explicit means the jobs were named by ID: a refused or missing one
	// makes the command exit 1 once the rest are done.
	Explicit bool
	// FromStdin means the IDs came from stdin, which therefore cannot
	// answer a question.
	FromStdin bool
	// All is --all: act on every job in a status the action applies to.
	All bool
	// Now is the clock ops reads.
	Now func() time.Time
	// Yes skips every question.
	Yes bool
	// OneType is the --type given when exactly one was, for the question.
	OneType string

	// batchGiven reports whether --batch-size was given: without it the
	// store picks the size.
	batchGiven func() bool

	// keepAll keeps every changed job for after the action (cancel --wait).
	keepAll bool
	// written names the file archive --to wrote, for the summary.
	written string
}

func newActionOptions(f *cmdutil.Factory, a store.Action) *ActionOptions {
	return &ActionOptions{IO: f.IO, Store: f.Store, Now: f.Now, Params: store.ActionParams{Action: a}}
}

func (o *ActionOptions) spec() actionSpec { return actionSpecs[o.Params.Action] }

// register adds the flags every bulk action has.
func (o *ActionOptions) register(cmd *cobra.Command) {
	cmdutil.SetFormats(cmd, cmdutil.DataFormats...)
	fl := cmd.Flags()
	fl.BoolVar(&o.Params.DryRun, "dry-run", false, "list what would change and change nothing")
	fl.BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation (needed to delete or purge without a terminal)")
	batchHelp := fmt.Sprintf("jobs per transaction, %d unless given; workers wait on at most one batch", store.DefaultBatch)
	if o.Params.Action == store.ActArchive {
		batchHelp = fmt.Sprintf("jobs per transaction, %d unless given (%d on SQLite, which pauses between batches)", store.DefaultBatch, store.SQLiteArchiveBatch)
	}
	fl.IntVar(&o.Params.BatchSize, "batch-size", 0, batchHelp)
	o.batchGiven = func() bool { return fl.Changed("batch-size") }
}

// prepare turns flags and arguments into the action. Every mistake is a
// usage error, raised before the store is opened.
func (o *ActionOptions) prepare(f *cmdutil.Factory, sel *selection, args []string) error {
	var err error
	if o.Format, err = f.Format(); err != nil {
		return err
	}
	o.Quiet = f.Quiet
	if o.batchGiven != nil && o.batchGiven() && o.Params.BatchSize < 1 {
		return cmdutil.FlagErrorf("--batch-size must be at least 1")
	}
	now := f.Now()
	c, err := sel.resolve(args, f.IO.In, now)
	if err != nil {
		return err
	}
	o.Explicit, o.FromStdin, o.All = c.Explicit, c.FromStdin, c.All
	o.Params.IDs, o.Params.Filter, o.Params.Statuses = c.IDs, c.Filter, c.Statuses
	if len(c.Filter.Types) == 1 {
		o.OneType = c.Filter.Types[0]
	}
	if o.spec().ask == askAlways && !o.Yes && !o.Params.DryRun && !o.canPrompt() {
		if o.FromStdin && f.IO.CanPrompt() {
			return cmdutil.FlagErrorf("%s cannot be undone and stdin holds the IDs, so it cannot ask: pass --yes", o.Params.Action)
		}
		return cmdutil.FlagErrorf("%s cannot be undone: pass --yes to run it without a terminal", o.Params.Action)
	}
	o.Params.Actor = f.ActorName()
	o.Params.OperationID = ops.NewOperationID(now)
	return nil
}

// principal is who the CLI acts as: an admin under the actor's name (the
// database's own grants still apply), audited as coming through the CLI.
func (o *ActionOptions) principal() ops.Principal { return cliAs(o.Params.Actor) }

// request is the action as ops takes it.
func (o *ActionOptions) request() *ops.ActionRequest {
	p := &o.Params
	return &ops.ActionRequest{
		Action: p.Action, IDs: p.IDs, Filter: p.Filter, All: o.All, DryRun: p.DryRun,
		Delay: p.Delay, ResetAttempts: p.ResetAttempts, Lease: p.Lease, BatchSize: p.BatchSize,
		OperationID: p.OperationID, Progress: p.Progress, Sink: p.Sink,
	}
}

// service is the operations layer over s.
func (o *ActionOptions) service(s store.Store) *ops.Ops {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return ops.New(s, ops.Options{Now: now})
}

func (o *ActionOptions) canPrompt() bool { return o.IO.CanPrompt() && !o.FromStdin }

// mayAsk reports whether this run could ask a question at all.
func (o *ActionOptions) mayAsk() bool {
	return o.spec().ask != askNever && !o.Yes && !o.Params.DryRun && o.canPrompt()
}

// question is what to ask, if anything, before acting on total jobs. A
// single job named by ID is named in the question, with its type and
// status; one that is missing or in a status the action refuses is not
// asked about, since nothing would change.
func (o *ActionOptions) question(ctx context.Context, s store.Store, total int64) (string, bool, error) {
	if !o.mayAsk() {
		return "", false, nil
	}
	verb := string(o.Params.Action)
	verb = strings.ToUpper(verb[:1]) + verb[1:]
	switch o.spec().ask {
	case askBulk:
		if o.Explicit || total <= 1 {
			return "", false, nil
		}
		return fmt.Sprintf("%s %s?", verb, o.jobsText(total)), true, nil
	case askAlways:
		if total == 0 {
			return "", false, nil
		}
		what := o.jobsText(total)
		if o.Explicit && len(o.Params.IDs) == 1 {
			j, err := s.Get(ctx, o.Params.IDs[0])
			switch {
			case errors.Is(err, store.ErrNotFound):
				return "", false, nil
			case err != nil:
				return "", false, err
			case !slices.Contains(o.Params.AllowedStatuses(), j.Status):
				return "", false, nil
			}
			what = fmt.Sprintf("%s (%s, %s)", j.ID, j.Type, j.Status)
		}
		return fmt.Sprintf("%s %s? This cannot be undone.", verb, what), true, nil
	}
	return "", false, nil
}

// exitInterrupted is the shell's code for a command ended by SIGINT.
const exitInterrupted = 130

// aborted is what a question not answered yes leaves behind.
const aborted = "Aborted; nothing changed.\n"

// confirm asks prompt and returns nil only for a yes. No (or Enter) and
// the end of input exit 1; Ctrl-C ends the command at once with 130.
// Each says that nothing changed, and nothing has: the question comes
// before the first batch.
func (o *ActionOptions) confirm(ctx context.Context, prompt string) error {
	return confirmOrAbort(ctx, o.IO, prompt)
}

// jobsText is "1,234 CalendarSync jobs", naming the type when exactly one
// --type was given.
func (o *ActionOptions) jobsText(n int64) string {
	if o.OneType != "" {
		return render.CountOf(n, o.OneType+" job")
	}
	return render.CountOf(n, "job")
}

// outcome is what an action did, for its report.
type outcome struct {
	res   *store.ActionResult
	done  int64 // jobs changed, or asked to stop, so far
	total int64 // jobs the action may touch, when counted
	// changed holds the changed jobs when the output lists them after the
	// action; streamed means they were printed as their batches committed.
	changed  []store.Changed
	streamed bool
	writeErr error // the first failed write while streaming
	// final is how each job cancel --wait waited for ended; "" means it
	// is gone (deleted or archived meanwhile).
	final map[string]store.Status
}

// listing says how the output lists changed jobs.
type listing int

const (
	listNone   listing = iota // a summary line only
	listKeep                  // kept, listed after the action
	listStream                // printed batch by batch
)

func (o *ActionOptions) listing() listing {
	switch {
	case o.keepAll:
		return listKeep
	case o.Quiet || o.Format == render.FormatJSONL:
		// On a terminal the spinner shares the screen: list at the end.
		if o.IO.StdoutTTY {
			return listKeep
		}
		return listStream
	case o.Format == render.FormatJSON || o.Format == render.FormatYAML || o.Params.DryRun:
		return listKeep
	}
	return listNone
}

// act counts, asks if it must, and runs the action in batches with a
// spinner on a terminal. A nil outcome means nothing was attempted.
func (o *ActionOptions) act(ctx context.Context, s store.Store) (*outcome, error) {
	out := &outcome{res: &store.ActionResult{}}
	if o.Explicit && len(o.Params.IDs) == 0 {
		// stdin held no IDs. Never fall through to the filter path, which
		// with an empty filter would take every job in an allowed status.
		return out, nil
	}
	total, err := o.total(ctx, s)
	if err != nil {
		return nil, err
	}
	out.total = total
	prompt, ok, err := o.question(ctx, s, total)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := o.confirm(ctx, prompt); err != nil {
			return nil, err
		}
	}
	mode := o.listing()
	out.streamed = mode == listStream
	prog := o.IO.StartProgress(ops.Did(o.Params.Action))
	o.Params.Progress = func(batch []store.Changed) {
		out.done += int64(len(batch))
		prog.Update(out.done, total)
		switch mode {
		case listStream:
			if err := o.list(batch, nil, nil); err != nil && out.writeErr == nil {
				out.writeErr = err
			}
		case listKeep:
			out.changed = append(out.changed, batch...)
		}
	}
	res, err := o.service(s).Act(ctx, o.principal(), o.request())
	prog.Stop()
	if res != nil {
		out.res = &store.ActionResult{Changed: res.Changed, Requested: res.Requested, Skipped: res.Skipped, NotFound: res.NotFound}
	}
	return out, flagError(err)
}

// total is how many jobs the action may touch: the IDs named, or the
// filter's count when a question or the spinner needs it (counting a big
// table is a scan cron should not pay for).
func (o *ActionOptions) total(ctx context.Context, s store.Store) (int64, error) {
	if o.Explicit {
		return int64(len(o.Params.IDs)), nil
	}
	if !o.IO.StderrTTY && !o.mayAsk() {
		return 0, nil
	}
	n, err := o.service(s).Count(ctx, o.principal(), o.request())
	return n, flagError(err)
}

// report prints each refusal on stderr, then the changed jobs (-q, -o json
// and friends, a dry run's table) on stdout or a summary on stderr. A named job that
// was refused or missing makes the exit code 1.
func (o *ActionOptions) report(out *outcome, actErr error) error {
	res := out.res
	for _, sk := range res.Skipped {
		o.IO.Warnf("jobctl: %s\n", sk.Reason)
	}
	for _, id := range res.NotFound {
		o.IO.Warnf("jobctl: %s\n", o.notFound(id))
	}
	err := out.writeErr
	switch {
	case o.Quiet, o.Format == render.FormatJSON, o.Format == render.FormatJSONL, o.Format == render.FormatYAML:
		var failed []actionResponse
		for _, r := range ops.Refusals(o.Params.Action, res.Skipped, res.NotFound) {
			failed = append(failed, view(r))
		}
		var lerr error
		if out.streamed {
			lerr = o.list(nil, failed, nil)
		} else {
			ops.SortByID(out.changed)
			lerr = o.list(out.changed, failed, out.final)
		}
		err = errors.Join(err, lerr)
	default:
		if o.Params.DryRun && len(out.changed) > 0 {
			o.dryRunTable(out.changed)
		}
		// The summary and how each job ended are about the output, not of
		// it: stderr, where a terminal shows them and a pipe is spared.
		// Named jobs of which none changed were each refused on a line of
		// their own already, which is the whole story.
		said := o.Explicit && res.Changed+res.Requested == 0 && len(res.Skipped)+len(res.NotFound) > 0
		var timedOut *waitTimeout
		if !said && (actErr == nil || out.done > 0 && !errors.Is(actErr, store.ErrUnavailable) && !errors.As(actErr, &timedOut)) {
			o.IO.Warnf("%s\n", o.summary(out))
		}
		o.printFinal(out)
	}
	switch {
	case actErr != nil:
		return o.outageError(out, actErr)
	case err != nil:
		return err
	case o.Explicit && (len(res.Skipped) > 0 || len(res.NotFound) > 0):
		return cmdutil.ErrSilent
	}
	return nil
}

// outageError says, in the one line it prints, how far an action the store
// dropped out of got (ops.Interrupted: the API answers the same line).
// Other errors pass through.
func (o *ActionOptions) outageError(out *outcome, err error) error {
	if !errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if e := ops.Interrupted(o.Params.Action, out.done, out.total, o.Params.DryRun, err); e != nil {
		return errors.New(e.Message)
	}
	return err
}

func (o *ActionOptions) notFound(id string) string { return ops.NotFoundText(o.Params.Action, id) }

// list prints changed jobs and refusals as -q or -o asked: IDs of changed
// jobs only, or the guide's API response per job.
func (o *ActionOptions) list(changed []store.Changed, failed []actionResponse, final map[string]store.Status) error {
	if o.Quiet {
		ids := make([]string, len(changed))
		for i, c := range changed {
			ids[i] = c.ID
		}
		o.IO.IDs(ids)
		return nil
	}
	rs := make([]actionResponse, 0, len(changed)+len(failed))
	for _, c := range changed {
		r := view(ops.Response(o.Params.Action, c, o.Params.DryRun))
		if st, ok := final[c.ID]; ok {
			r.Status = finalText(st)
		}
		rs = append(rs, r)
	}
	rs = append(rs, failed...)
	if o.Format == render.FormatJSONL && len(rs) == 0 {
		return nil
	}
	if o.oneNamed() && len(rs) == 1 && o.Format != render.FormatJSONL {
		return o.IO.Encode(o.Format, rs[0])
	}
	return o.IO.Encode(o.Format, rs)
}

// oneNamed reports whether a single job was named on the command line:
// -o json then prints the guide's response object itself, not an array of
// one. Several IDs, IDs on stdin or a filter give an array, however many
// jobs it holds.
func (o *ActionOptions) oneNamed() bool {
	return o.Explicit && !o.FromStdin && len(o.Params.IDs) == 1
}

// actionResponse is ops.JobResponse as -o json and yaml write it: the
// guide's response per job, its time in the CLI's one layout.
type actionResponse struct {
	Success         bool         `json:"success"`
	JobID           string       `json:"jobId"`
	Status          string       `json:"status,omitempty"`
	ScheduledFor    *render.Time `json:"scheduledFor,omitempty"`
	CancelRequested bool         `json:"cancelRequested,omitempty"`
	Error           string       `json:"error,omitempty"`
	DryRun          bool         `json:"dryRun,omitempty"`
}

func view(r ops.JobResponse) actionResponse {
	return actionResponse{Success: r.Success, JobID: r.JobID, Status: r.Status, ScheduledFor: r.ScheduledFor,
		CancelRequested: r.CancelRequested, Error: r.Error, DryRun: r.DryRun}
}

func finalText(st store.Status) string {
	if st == "" {
		return "GONE"
	}
	return string(st)
}

// dryRunTable lists what a dry run would change.
func (o *ActionOptions) dryRunTable(changed []store.Changed) {
	a := o.Params.Action
	schedule := a == store.ActRetry || a == store.ActStart
	headers := []string{"ID", "TYPE", "STATUS", "NEW STATUS"}
	if schedule {
		headers = append(headers, "SCHEDULED")
	}
	rows := make([][]string, len(changed))
	for i, c := range changed {
		next := ops.NewStatus(a, c)
		if st := store.Status(next); slices.Contains(store.Statuses, st) {
			next = o.IO.StatusText(st)
		}
		if c.CancelRequested {
			next += " (cancel requested)"
		}
		row := []string{render.Inert(c.ID), render.Inert(c.Type), o.IO.StatusText(c.PreviousStatus), next}
		if schedule {
			row = append(row, o.IO.TimeCell(c.ScheduledFor))
		}
		rows[i] = row
	}
	o.IO.Table(headers, rows)
}

// summary is the line that says what happened, with a count per outcome:
// "Retried 3 jobs; 1 refused; 1 not found".
func (o *ActionOptions) summary(out *outcome) string {
	res, a, dry := out.res, o.Params.Action, o.Params.DryRun
	if res.Changed+res.Requested == 0 && len(res.Skipped)+len(res.NotFound) == 0 {
		switch {
		case o.Explicit:
			return fmt.Sprintf("No job IDs on stdin; nothing to %s", a)
		case a == store.ActRestore:
			return "Nothing to restore"
		}
		return fmt.Sprintf("No %s jobs match the filter; nothing to %s", store.OrList(o.Params.AllowedStatuses()), a)
	}
	var parts []string
	if res.Changed > 0 || res.Requested == 0 {
		first := o.spec().past + " " + render.CountOf(res.Changed, "job")
		if dry {
			first = fmt.Sprintf("Would %s %s", a, render.CountOf(res.Changed, "job"))
		}
		if o.written != "" {
			first += " to " + o.written
		}
		parts = append(parts, first)
	}
	if n := res.Requested; n > 0 {
		if dry {
			parts = append(parts, "would request cancel for "+render.CountOf(n, "running job"))
		} else {
			parts = append(parts, "cancel requested for "+render.CountOf(n, "running job"))
		}
	}
	if n := len(res.Skipped); n > 0 {
		parts = append(parts, render.Count(int64(n))+" refused")
	}
	if n := len(res.NotFound); n > 0 {
		parts = append(parts, render.Count(int64(n))+" not found")
	}
	s := strings.Join(parts, "; ")
	s = strings.ToUpper(s[:1]) + s[1:]
	if dry {
		s += " (dry run: nothing changed)"
	}
	return s
}

// printFinal says how each job cancel --wait waited for ended.
func (o *ActionOptions) printFinal(out *outcome) {
	for _, c := range out.changed {
		st, ok := out.final[c.ID]
		switch {
		case !ok:
		case st == "":
			o.IO.Warnf("%s is gone (deleted or archived while it stopped)\n", c.ID)
		default:
			o.IO.Warnf("%s ended %s\n", c.ID, st)
		}
	}
}

// actionRun runs an action and reports it.
func actionRun(ctx context.Context, opts *ActionOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	out, err := opts.act(ctx, s)
	if out == nil {
		return err
	}
	return opts.report(out, err)
}

// bindAction completes a bulk action's command: the selection (by IDs,
// by filter or either), the flags every action shares, and a RunE that runs
// before (its own flag checks), resolves the selection, then run.
func bindAction(f *cmdutil.Factory, cmd *cobra.Command, opts *ActionOptions, by selectBy, before func(*cobra.Command) error, run func(context.Context) error) *cobra.Command {
	sel := &selection{action: opts.Params.Action, by: by}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if before != nil {
			if err := before(cmd); err != nil {
				return err
			}
		}
		if err := opts.prepare(f, sel, args); err != nil {
			return err
		}
		return run(cmd.Context())
	}
	sel.register(cmd)
	opts.register(cmd)
	return cmd
}

// runAction runs an action, or runF in tests.
func runAction(opts *ActionOptions, runF func(context.Context, *ActionOptions) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, opts)
		}
		return actionRun(ctx, opts)
	}
}

// NewCmdRetry builds `jobctl retry`.
func NewCmdRetry(f *cmdutil.Factory, runF func(context.Context, *ActionOptions) error) *cobra.Command {
	opts := newActionOptions(f, store.ActRetry)
	var delay string
	cmd := &cobra.Command{
		Use:   "retry [ID... | -]",
		Short: "Put FAILED, DEAD or CANCELLED jobs back to PENDING",
		Long: `Put jobs back to PENDING, to run again as soon as a worker is free (or
after --delay). Choose them by ID (arguments, or - to read one ID a line from
stdin, as 'jobctl list -q' prints them) or by the filters 'list' takes; --all
takes every FAILED, DEAD and CANCELLED job. With neither, retry refuses to run,
and so does a filter given an empty value (--type "").

Only FAILED, DEAD and CANCELLED jobs are retried; any other job named by ID is
refused with its reason and makes the exit code 1. A job keeps its attempt
count and, if its budget is spent, gets one more attempt; --reset-attempts
sets the count to 0, as the guide's SQL runbook does.

A filter that matches more than one job asks first on a terminal, showing
the count; without a terminal it proceeds, since a retry can be undone.
-o json prints the guide's API response for each job.`,
		Example: `  jobctl retry --type CalendarSync --status failed
  jobctl retry job_12345abc --delay 60s
  jobctl retry --status dead --since 1h --reset-attempts
  jobctl list --status failed --type EmailSending -q | jobctl retry -
  jobctl retry --type CalendarSync --status failed --dry-run
  jobctl retry --all --dry-run`,
	}
	parseDelay := func(*cobra.Command) error {
		if delay == "" {
			return nil
		}
		d, err := when.ParseDuration(delay)
		if err != nil {
			return cmdutil.FlagErrorf("--delay: %v", err)
		}
		opts.Params.Delay = d
		return nil
	}
	bindAction(f, cmd, opts, byIDsOrFilter, parseDelay, runAction(opts, runF))
	fl := cmd.Flags()
	fl.StringVar(&delay, "delay", "", "run no sooner than this from now: 60s, 10m, 1h")
	fl.BoolVar(&opts.Params.ResetAttempts, "reset-attempts", false, "set attempts to 0, giving the job its whole budget again")
	return cmd
}

// CancelOptions are `jobctl cancel`'s inputs.
type CancelOptions struct {
	*ActionOptions
	// Wait waits until every RUNNING job asked to stop has ended.
	Wait    bool
	Timeout time.Duration
	// PollInterval is how often --wait looks.
	PollInterval time.Duration
}

// NewCmdCancel builds `jobctl cancel`.
func NewCmdCancel(f *cmdutil.Factory, runF func(context.Context, *CancelOptions) error) *cobra.Command {
	opts := &CancelOptions{ActionOptions: newActionOptions(f, store.ActCancel), PollInterval: 200 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "cancel [ID... | -]",
		Short: "Cancel PENDING, RETRYING and RUNNING jobs",
		Long: `Cancel jobs, chosen by ID (arguments, or - for stdin), by the filters
'list' takes, or every live one with --all (never without one of the three).
PENDING and RETRYING jobs are CANCELLED at once. A RUNNING job
is asked to stop: its worker sees the request within seconds, stops the
handler and ends the job CANCELLED. --wait waits for that and reports how
each job ended (a job that finished first keeps its own final status).
A RUNNING job whose worker is gone (no row in 'jobctl worker list', or no
ping for --lease, the default of 'worker run --lease') is CANCELLED at once:
nobody is left to stop it. Set --lease to match workers run with a longer
one.

Other statuses are refused with the reason; a refused or missing job named
by ID makes the exit code 1. A filter that matches more than one job asks
first on a terminal; without a terminal it proceeds (retry undoes a cancel).`,
		Example: `  jobctl cancel job_12345abc
  jobctl cancel job_12345abc --wait --timeout 1m
  jobctl cancel --type ReportGeneration --status pending
  jobctl list --status retrying --type EmailSending -q | jobctl cancel -`,
	}
	checkWait := func(cmd *cobra.Command) error {
		if opts.Params.Lease <= 0 {
			return cmdutil.FlagErrorf("--lease must be positive, got %s", opts.Params.Lease)
		}
		if cmd.Flags().Changed("timeout") && !opts.Wait {
			return cmdutil.FlagErrorf("--timeout needs --wait")
		}
		if opts.Timeout <= 0 {
			return cmdutil.FlagErrorf("--timeout must be positive")
		}
		return nil
	}
	bindAction(f, cmd, opts.ActionOptions, byIDsOrFilter, checkWait, func(ctx context.Context) error {
		opts.keepAll = opts.Wait && !opts.Params.DryRun
		if runF != nil {
			return runF(ctx, opts)
		}
		return cancelRun(ctx, opts)
	})
	fl := cmd.Flags()
	fl.BoolVar(&opts.Wait, "wait", false, "wait until RUNNING jobs have stopped and report how each ended")
	cmdutil.DurationVar(fl, &opts.Timeout, "timeout", 30*time.Second, "with --wait, give up after this long (exit 1)")
	cmdutil.DurationVar(fl, &opts.Params.Lease, "lease", store.DefaultLease, "a RUNNING job whose worker has not pinged for this long is cancelled at once")
	return cmd
}

func cancelRun(ctx context.Context, opts *CancelOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	out, err := opts.act(ctx, s)
	if out == nil {
		return err
	}
	if err == nil && opts.keepAll {
		err = opts.wait(ctx, s, out)
	}
	return opts.report(out, err)
}

// wait polls the jobs asked to stop until none is RUNNING.
func (o *CancelOptions) wait(ctx context.Context, s store.Store, out *outcome) error {
	var pending []string
	for _, c := range out.changed {
		if c.CancelRequested {
			pending = append(pending, c.ID)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	total := int64(len(pending))
	out.final = make(map[string]store.Status, len(pending))
	prog := o.IO.StartProgress("stopped")
	defer prog.Stop()
	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.PollInterval)
	defer tick.Stop()
	for {
		still := pending[:0]
		for _, id := range pending {
			j, err := s.Get(ctx, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				out.final[id] = ""
			case err != nil:
				return err
			case j.Status == store.StatusRunning:
				still = append(still, id)
			default:
				out.final[id] = j.Status
			}
		}
		pending = still
		prog.Update(total-int64(len(pending)), total)
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return &waitTimeout{fmt.Sprintf("timed out after %s: %s still RUNNING (%s); is its worker alive? see `jobctl worker list`",
				o.Timeout, render.CountOf(int64(len(pending)), "job"), strings.Join(pending, ", "))}
		case <-tick.C:
		}
	}
}

// waitTimeout is cancel --wait giving up. It says on its own what was asked
// and what is still running, so the summary line is not printed beside it:
// a failed command explains itself in one line.
type waitTimeout struct{ msg string }

func (e *waitTimeout) Error() string { return e.msg }

// NewCmdStart builds `jobctl start`.
func NewCmdStart(f *cmdutil.Factory, runF func(context.Context, *ActionOptions) error) *cobra.Command {
	opts := newActionOptions(f, store.ActStart)
	return bindAction(f, &cobra.Command{
		Use:   "start [ID... | -]",
		Short: "Run PENDING jobs now, ahead of their scheduled time",
		Long: `Make PENDING jobs due now ("scheduledFor" = now), so the next free worker
runs them; a delayed job stops waiting. Choose them by ID (arguments, or -
for stdin), by the filters 'list' takes, or every PENDING job with --all
(never without one of the three). Jobs in any other status are
refused with the reason; a refused or missing job named by ID makes the
exit code 1.`,
		Example: `  jobctl start job_12345abc
  jobctl start --type MetricCalculation --status pending
  jobctl start --all`,
	}, opts, byIDsOrFilter, nil, runAction(opts, runF))
}

// NewCmdDelete builds `jobctl delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *ActionOptions) error) *cobra.Command {
	opts := newActionOptions(f, store.ActDelete)
	return bindAction(f, &cobra.Command{
		Use:     "delete ID... | -",
		Aliases: []string{"rm"},
		Short:   "Delete jobs by ID (cannot be undone)",
		Long: `Delete jobs named by ID (arguments, or - to read one ID a line from
stdin). Any job but a RUNNING or RETRYING one can be deleted; those are
refused (cancel them first), and a refused or missing job makes the exit
code 1. To delete by filter, use 'jobctl purge'.

Deleting cannot be undone: on a terminal jobctl asks first, naming the job
when there is one; without one (a script, cron, IDs on stdin) it needs
--yes. Answering no, or Ctrl-D, exits 1 and Ctrl-C exits 130, each having
changed nothing.`,
		Example: `  jobctl delete job_12345abc
  jobctl list --status cancelled --type EmailSending -q | jobctl delete - --yes`,
	}, opts, byIDs, nil, runAction(opts, runF))
}

// NewCmdPurge builds `jobctl purge`.
func NewCmdPurge(f *cmdutil.Factory, runF func(context.Context, *ActionOptions) error) *cobra.Command {
	opts := newActionOptions(f, store.ActPurge)
	return bindAction(f, &cobra.Command{
		Use:   "purge",
		Short: "Delete jobs by filter, in batches (cannot be undone)",
		Long: `Delete the jobs a filter matches, in batches of --batch-size, each batch
one transaction with its audit rows. Without --status only finished jobs
(COMPLETED, FAILED, CANCELLED, DEAD) are deleted; PENDING and RETRYING jobs
only when named with --status; RUNNING jobs never (a worker holds them).
--older 30d takes jobs that finished more than 30 days ago.

purge needs a filter, or --all to delete every finished job: with neither,
or with a filter given an empty value (--older ""), it refuses and deletes
nothing.

Purging cannot be undone: on a terminal jobctl asks first, showing the
count; without one it needs --yes. To keep old jobs, use 'jobctl archive'.`,
		Example: `  jobctl purge --older 30d
  jobctl purge --older 7d --status completed --yes
  jobctl purge --type Debug --status pending,failed --dry-run
  jobctl purge --all --yes`,
		Args: cobra.ArbitraryArgs,
	}, opts, byFilter, nil, runAction(opts, runF))
}
