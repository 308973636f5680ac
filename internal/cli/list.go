package cli

import (
	"bufio"
	"context"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
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
	// LimitSet means --limit was given. Without it -q, -o jsonl and -o csv
	// list every match; tables, json and yaml show the first 50.
	LimitSet bool
	// PageSize is how many jobs a streamed listing reads per query, so
	// memory stays flat however many match.
	PageSize int

	// Actor is who ops reads as (an admin: every job is in scope).
	Actor string
}

// listPageSize is a streamed listing's page: large enough that a million
// IDs take a thousand queries, small enough to hold in memory.
const listPageSize = 1000

// NewCmdList builds `jobctl list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Store: f.Store, PageSize: listPageSize}
	var (
		filters filterFlags
		sort    string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List jobs, newest first, with the guide's columns",
		Long: `List jobs with the Job List View's columns: ID, Type, Status, Created,
Started, Completed, Duration and Attempts. A line on stderr says how many
were shown of how many matched, so stdout holds only the header and rows.
Page on with --after and the last ID shown.

-q, -o jsonl and -o csv are for pipes: they list every match, page by page,
unless --limit is given. A table, -o json and -o yaml show the first --limit
(default 50). When --limit cuts a -q, json, jsonl, yaml or csv listing
short, a note on stderr says how many matched.`,
		Example: `  jobctl list --status dead --since 1h
  jobctl list --type CalendarSync --status failed
  jobctl list --status failed,dead --since today -o wide
  jobctl list --limit 100 --after job_12345abc
  jobctl list --status failed -q | jobctl retry -
  jobctl list --type EmailSending -o jsonl > emails.jsonl`,
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
			opts.Actor = f.ActorName()
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Quiet = f.Quiet
			opts.LimitSet = cmd.Flags().Changed("limit")
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	filters.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&opts.Params.Limit, "limit", 50, "at most this many jobs (-q, jsonl and csv list every match unless it is given)")
	fl.StringVar(&opts.Params.After, "after", "", "start after this job ID (keyset paging: pass the last ID of the previous page)")
	fl.StringVar(&sort, "sort", string(store.SortCreatedDesc), "order: -created (newest first), created, or priority")
	fl.BoolVar(&opts.Params.Archived, "archived", false, "list archived jobs instead of live ones")
	cmdutil.SetFormats(cmd, cmdutil.AllFormats...)
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	if err := checkAfter(ctx, s, opts.Params.After, opts.Params.Archived); err != nil {
		return err
	}
	if opts.Quiet || opts.Format == render.FormatJSONL || opts.Format == render.FormatCSV {
		return streamList(ctx, s, opts)
	}
	// json and yaml read one more job than they show, to tell a listing
	// --limit cut short from a complete one.
	machine := opts.Format != render.FormatTable && opts.Format != render.FormatWide
	p := opts.Params
	if machine && p.Limit < math.MaxInt {
		p.Limit++
	}
	jobs, err := listUpTo(ctx, ops.New(s, ops.Options{}), cliAs(opts.Actor), &p)
	if err != nil {
		return err
	}
	cut := len(jobs) > opts.Params.Limit
	if cut {
		jobs = jobs[:opts.Params.Limit]
	}
	var total int64
	if !machine || cut {
		if total, err = s.Count(ctx, &opts.Params.Filter, opts.Params.Archived); err != nil {
			return err
		}
	}
	if err := opts.IO.Jobs(opts.Format, jobs, total); err != nil {
		return err
	}
	if cut {
		opts.IO.Warnf("jobctl: showing %s of %s matching jobs; raise --limit, or use -q or -o jsonl to list them all\n",
			render.Count(int64(len(jobs))), render.Count(total))
	}
	return nil
}

// streamList writes every match (or the first --limit) a page at a time,
// each page flushed before the next is read, so `list -q | retry -` gets
// every ID in constant memory. Pages follow the keyset: each starts after
// the last job of the one before.
func streamList(ctx context.Context, s store.Store, opts *ListOptions) error {
	svc := ops.New(s, ops.Options{})
	w := bufio.NewWriter(opts.IO.Out)
	p := opts.Params
	var shown int64
	for page := 0; ; page++ {
		p.Limit = opts.PageSize
		left := int64(opts.Params.Limit) - shown
		if opts.LimitSet && left < int64(p.Limit) {
			p.Limit = int(left) + 1 // one more than is shown: is there more?
		}
		res, err := svc.List(ctx, cliAs(opts.Actor), listRequest(&p))
		if err != nil {
			return flagError(err)
		}
		jobs := res.Items
		if len(jobs) == 0 && page > 0 {
			if err := anchorGone(ctx, s, &p, shown); err != nil {
				return err
			}
		}
		full := len(jobs) == p.Limit
		cut := opts.LimitSet && int64(len(jobs)) > left
		if cut {
			jobs = jobs[:left]
		}
		if err := writePage(w, opts, jobs, page == 0); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		shown += int64(len(jobs))
		switch {
		case cut:
			total, err := s.Count(ctx, &opts.Params.Filter, opts.Params.Archived)
			if err != nil {
				return err
			}
			opts.IO.Warnf("jobctl: showing %s of %s matching jobs; drop --limit to list them all\n", render.Count(shown), render.Count(total))
			return nil
		case !full || len(jobs) == 0:
			return nil
		}
		p.After = jobs[len(jobs)-1].ID
	}
}

// anchorGone tells an empty page after a full one (the matches were a
// whole number of pages) from a page cut off because the job it starts
// after was deleted or archived meanwhile: the keyset then matches nothing,
// and stopping quietly would drop every job after it.
func anchorGone(ctx context.Context, s store.Store, p *store.ListParams, shown int64) error {
	ok, err := anchorExists(ctx, s, p.After, p.Archived)
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("listing stopped after %s: %s, where the next page starts, was deleted or archived meanwhile; run the command again",
		render.CountOf(shown, "job"), p.After)
}

// writePage writes one page as -q, jsonl or csv; csv's header comes with
// the first page, even an empty one.
func writePage(w *bufio.Writer, opts *ListOptions, jobs []*store.Job, first bool) error {
	switch {
	case opts.Quiet:
		for _, j := range jobs {
			if _, err := w.WriteString(j.ID + "\n"); err != nil {
				return err
			}
		}
		return nil
	case opts.Format == render.FormatCSV:
		return render.WriteJobsCSV(w, jobs, first)
	}
	return render.WriteJobsJSONL(w, jobs)
}

// cliAs is who the CLI acts and reads as: an admin under the actor's name,
// so every job is in scope; the database's own grants still apply.
func cliAs(actor string) ops.Principal {
	return ops.Principal{Name: actor, Role: store.RoleAdmin, Via: ops.ViaCLI}
}

func listRequest(p *store.ListParams) *ops.ListRequest {
	return &ops.ListRequest{Filter: p.Filter, Sort: p.Sort, Limit: p.Limit, After: p.After, Archived: p.Archived}
}

// listUpTo reads p.Limit jobs through ops in pages of at most
// ops.MaxLimit, following each page's Next: --limit may ask for more than
// one API page.
func listUpTo(ctx context.Context, svc *ops.Ops, who ops.Principal, p *store.ListParams) ([]*store.Job, error) {
	var jobs []*store.Job
	q := *p
	for {
		q.Limit = min(p.Limit-len(jobs), ops.MaxLimit)
		res, err := svc.List(ctx, who, listRequest(&q))
		if err != nil {
			return nil, flagError(err)
		}
		jobs = append(jobs, res.Items...)
		if res.Next == "" || len(jobs) >= p.Limit {
			return jobs, nil
		}
		q.After = res.Next
	}
}
