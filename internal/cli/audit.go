package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// AuditOptions are `jobctl audit`'s inputs.
type AuditOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Format render.Format
	Quiet  bool

	Filter store.AuditFilter

	// Actor is who ops reads as (an admin: every job is in scope).
	Actor string
}

// NewCmdAudit builds `jobctl audit`.
func NewCmdAudit(f *cmdutil.Factory, runF func(context.Context, *AuditOptions) error) *cobra.Command {
	opts := &AuditOptions{IO: f.IO, Store: f.Store}
	var actions []string
	var job, since, after string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log of operator actions, newest first",
		Long: `Show "AuditLog": one row per job an operator action touched (retry,
cancel, start, delete, purge, archive, restore), per schedule change and
per account or API token change (user add, rm and passwd; token create
and revoke; never a password or token), newest first. Each row has the actor (--as, else the OS user), the change
of status, and the operation ID shared by all rows of one command run.
On Postgres each row also has the database login that wrote it ("dbRole",
set by the database itself; -o wide and JSON show it). -q prints the IDs
of the jobs and schedules the rows concern.

A table ends with "Showing 50 of 1,234 entries" and, when more follow,
the --after that shows the next page.`,
		Example: `  jobctl audit
  jobctl audit --action retry --since 1h
  jobctl audit --actor alice --action delete,purge -o json
  jobctl audit --job job_12345abc
  jobctl audit --limit 100 --after 1184`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			opts.Actor = f.ActorName()
			if opts.Format, err = f.Format(); err != nil {
				return err
			}
			opts.Quiet = f.Quiet
			for _, a := range actions {
				name, err := parseAuditAction(a)
				if err != nil {
					return err
				}
				if !slices.Contains(opts.Filter.Actions, name) {
					opts.Filter.Actions = append(opts.Filter.Actions, name)
				}
			}
			opts.Filter.ResourceID = store.NormalizeID(job)
			if since != "" {
				if opts.Filter.Since, err = when.ParseTime(since, f.Now()); err != nil {
					return cmdutil.FlagErrorf("--since: %v", err)
				}
			}
			if opts.Filter.Limit < 1 {
				return cmdutil.FlagErrorf("--limit must be at least 1")
			}
			if after != "" {
				if opts.Filter.After, err = strconv.ParseInt(strings.TrimSpace(after), 10, 64); err != nil || opts.Filter.After < 1 {
					return cmdutil.FlagErrorf("--after: %q is not an audit entry ID (the \"id\" of -o json, or the one the footer names)", after)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&actions, "action", nil, "action, any case: "+auditActionWords()+"; or the log's name such as JOB_RETRY; repeatable")
	fl.StringVar(&opts.Filter.Actor, "actor", "", "rows recorded for this actor")
	fl.StringVar(&job, "job", "", "rows about this job ID (with or without job_)")
	fl.StringVar(&since, "since", "", "recorded at or after: 1h, 7d, today, or RFC 3339")
	fl.IntVar(&opts.Filter.Limit, "limit", 50, "at most this many rows")
	fl.StringVar(&after, "after", "", "start after this audit entry ID (keyset paging: the footer names the next page's)")
	cmdutil.SetFormats(cmd, cmdutil.DataFormats...)
	return cmd
}

// auditActionWords lists the --action words.
func auditActionWords() string {
	words := make([]string, len(ops.AuditActions))
	for i, a := range ops.AuditActions {
		words[i] = a.Word
	}
	return strings.Join(words, ", ")
}

// parseAuditAction accepts an action as the audit log names it
// (JOB_RETRY) or as the command does (retry), in any case.
func parseAuditAction(s string) (string, error) {
	name, err := ops.ParseAuditAction(s)
	return name, flagError(err)
}

func auditRun(ctx context.Context, opts *AuditOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	entries, total, nextID, err := auditUpTo(ctx, ops.New(s, ops.Options{}), cliAs(opts.Actor), opts.Filter)
	var oe *ops.Error
	if errors.As(err, &oe) && oe.Code == ops.CodeNotFound && opts.Filter.After != 0 {
		return fmt.Errorf("--after %d: no such audit entry", opts.Filter.After)
	}
	if err != nil {
		return flagError(err)
	}
	more := nextID != ""
	next := ""
	if more {
		next = "--after " + nextID
	}
	human := !opts.Quiet && (opts.Format == render.FormatTable || opts.Format == render.FormatWide)
	if more && !human {
		defer opts.IO.Warnf("jobctl: showing %s of %s matching entries; the next page is %s\n",
			render.Count(int64(len(entries))), render.Count(total), next)
	}
	switch {
	case opts.Quiet:
		var ids []string
		for _, e := range entries {
			if !slices.Contains(ids, e.ResourceID) {
				ids = append(ids, e.ResourceID)
			}
		}
		opts.IO.IDs(ids)
		return nil
	case opts.Format == render.FormatJSON, opts.Format == render.FormatJSONL, opts.Format == render.FormatYAML:
		return opts.IO.Encode(opts.Format, render.AuditJSON(entries))
	}
	if len(entries) == 0 {
		opts.IO.Warnf("No audit entries found\n") // a note, not a row: stderr
		return nil
	}
	rows := make([][]string, len(entries))
	for i, e := range entries {
		var meta struct {
			PreviousStatus string `json:"previousStatus"`
			NewStatus      string `json:"newStatus"`
			OperationID    string `json:"operationId"`
		}
		_ = json.Unmarshal(e.Metadata, &meta) // a row without these shows "-"
		resource := e.ResourceID
		if e.Resource != "Job" {
			resource = e.Resource + " " + e.ResourceID
		}
		if e.Action == store.ActionRestore && meta.NewStatus != "" {
			// Rows written before restores recorded ARCHIVED named the
			// status the job kept in the archive; a restore always
			// brings a job back from there.
			meta.PreviousStatus = "ARCHIVED"
		}
		change := "-"
		if meta.PreviousStatus != "" || meta.NewStatus != "" {
			change = orDash(meta.PreviousStatus) + " → " + orDash(meta.NewStatus)
		}
		// Every cell is the row's word, which any client could have written.
		rows[i] = []string{opts.IO.TimeCell(e.CreatedAt), render.Inert(e.Action), render.Inert(e.UserID),
			render.Inert(resource), render.Inert(change), orDash(render.Inert(meta.OperationID))}
		if opts.Format == render.FormatWide {
			rows[i] = append(rows[i], orDash(render.Inert(e.DBRole)))
		}
	}
	header := []string{"TIME", "ACTION", "ACTOR", "JOB/RESOURCE", "CHANGE", "OPERATION"}
	if opts.Format == render.FormatWide {
		header = append(header, "DB ROLE")
	}
	opts.IO.FitTable(header, rows, auditFit)
	noun := "entries"
	if total == 1 {
		noun = "entry"
	}
	footer := fmt.Sprintf("Showing %s of %s %s", render.Count(int64(len(entries))), render.Count(total), noun)
	if more {
		footer += "; next page: " + next
	}
	opts.IO.Note("%s\n", footer)
	return nil
}

// auditFit fits the audit log to the terminal: the action and what it
// touched are the row; operation IDs, cut at their start since their
// ends tell them apart, and the database role give way first, then the
// actor. Times and changes are whole or absent.
var auditFit = render.Fit{
	Keep:  []string{"ACTION"},
	Cut:   []string{"OPERATION", "DB ROLE", "ACTOR", "CHANGE", "TIME", "JOB/RESOURCE"},
	Hide:  []string{"DB ROLE", "OPERATION", "ACTOR", "TIME", "CHANGE", "JOB/RESOURCE"},
	Min:   map[string]int{"OPERATION": 10, "ACTOR": 6, "JOB/RESOURCE": 14, "CHANGE": 6},
	Whole: []string{"TIME", "CHANGE"},
	Left:  []string{"OPERATION", "JOB/RESOURCE"},
}

// auditUpTo reads f.Limit entries through ops in pages of at most
// ops.MaxLimit: --limit may ask for more than one API page. It returns
// the entries, how many match, and the cursor of the page after, if any.
func auditUpTo(ctx context.Context, svc *ops.Ops, who ops.Principal, f store.AuditFilter) ([]*store.AuditEntry, int64, string, error) {
	var entries []*store.AuditEntry
	q := f
	for {
		q.Limit = min(f.Limit-len(entries), ops.MaxLimit)
		res, err := svc.Audit(ctx, who, &ops.AuditRequest{Filter: q})
		if err != nil {
			return nil, 0, "", err
		}
		entries = append(entries, res.Items...)
		if res.Next == "" || len(entries) >= f.Limit {
			return entries, res.Total, res.Next, nil
		}
		if q.After, err = strconv.ParseInt(res.Next, 10, 64); err != nil {
			return nil, 0, "", err
		}
	}
}
