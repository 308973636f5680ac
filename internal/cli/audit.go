package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// auditActions are the actions the audit log records, as it names them.
var auditActions = []string{
	store.ActionRetry, store.ActionCancel, store.ActionStart, store.ActionDelete, store.ActionPurge,
	store.ActionArchive, store.ActionRestore, store.ActionScheduleAdd, store.ActionScheduleRemove,
}

// AuditOptions are `jobctl audit`'s inputs.
type AuditOptions struct {
	IO     *render.IO
	Store  func(context.Context) (store.Store, error)
	Format render.Format
	Quiet  bool

	Filter store.AuditFilter
}

// NewCmdAudit builds `jobctl audit`.
func NewCmdAudit(f *cmdutil.Factory, runF func(context.Context, *AuditOptions) error) *cobra.Command {
	opts := &AuditOptions{IO: f.IO, Store: f.Store}
	var actions []string
	var job, since string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log of operator actions, newest first",
		Long: `Show "AuditLog": one row per job an operator action touched (retry,
cancel, start, delete, purge, archive, restore) and per schedule change,
newest first. Each row has the actor (--as, else the OS user), the change
of status, and the operation ID shared by all rows of one command run.
On Postgres each row also has the database login that wrote it ("dbRole",
set by the database itself; -o wide and JSON show it). -q prints the IDs
of the jobs and schedules the rows concern.`,
		Example: `  jobctl audit
  jobctl audit --action retry --since 1h
  jobctl audit --actor alice --action delete,purge -o json
  jobctl audit --job job_12345abc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.FormatFor("audit", render.FormatTable, render.FormatWide, render.FormatJSON, render.FormatJSONL, render.FormatYAML); err != nil {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&actions, "action", nil, "action, any case: retry or JOB_RETRY, cancel, start, delete, purge, archive, restore, schedule-add, schedule-remove; repeatable")
	fl.StringVar(&opts.Filter.Actor, "actor", "", "rows recorded for this actor")
	fl.StringVar(&job, "job", "", "rows about this job ID (with or without job_)")
	fl.StringVar(&since, "since", "", "recorded at or after: 1h, 7d, today, or RFC 3339")
	fl.IntVar(&opts.Filter.Limit, "limit", 50, "at most this many rows")
	return cmd
}

// parseAuditAction accepts an action as the audit log names it
// (JOB_RETRY) or as the command does (retry), in any case.
func parseAuditAction(s string) (string, error) {
	u := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	for _, name := range []string{u, "JOB_" + u} {
		if slices.Contains(auditActions, name) {
			return name, nil
		}
	}
	return "", cmdutil.FlagErrorf("--action: unknown action %q (want retry, cancel, start, delete, purge, archive, restore, schedule-add or schedule-remove, or the log's name such as JOB_RETRY)", s)
}

func auditRun(ctx context.Context, opts *AuditOptions) error {
	s, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	entries, err := s.Audit(ctx, &opts.Filter)
	if err != nil {
		return err
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
		out := make([]*store.AuditEntry, len(entries))
		for i, e := range entries {
			c := *e
			c.CreatedAt = e.CreatedAt.UTC()
			if len(c.Metadata) == 0 {
				c.Metadata = json.RawMessage("null")
			}
			out[i] = &c
		}
		return opts.IO.Encode(opts.Format, out)
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
	opts.IO.Table(header, rows)
	return nil
}
