package jobsql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/internal/store"
)

// The audit log's statements, in sql/audit.sql.
var (
	auditWrite       = stmt("AuditWrite")
	auditCount       = stmt("AuditCount")
	auditEntryExists = stmt("AuditEntryExists")
	auditList        = stmt("AuditList")
	auditListAfter   = stmt("AuditListAfter")
)

// WriteAudit inserts audit rows inside the caller's transaction, so a
// change and its record commit or roll back together.
func WriteAudit(ctx context.Context, db DB, d *Dialect, entries []store.AuditEntry) error {
	per := d.RowsPerInsert
	if per <= 0 {
		per = importBatch
	}
	for start := 0; start < len(entries); start += per {
		batch := entries[start:min(start+per, len(entries))]
		args := make([]any, 0, 5*len(batch))
		for _, e := range batch {
			meta := string(e.Metadata)
			if meta == "" {
				meta = "{}"
			}
			args = append(args, e.Action, e.UserID, e.Resource, e.ResourceID, meta)
		}
		if _, err := db.Exec(ctx, manyRows(d.SQL(auditWrite), len(batch)), d.Values(args...)...); err != nil {
			return err
		}
	}
	return nil
}

// AuditMetadata encodes metadata for an audit row.
func AuditMetadata(m map[string]any) json.RawMessage {
	b, _ := json.Marshal(m)
	return b
}

// auditConditions returns f's conditions, ANDed, without After: the
// /*:filter*/ slot of the audit statements.
func auditConditions(a *Args, f *store.AuditFilter) string {
	var cs []string
	if len(f.Actions) > 0 {
		cs = append(cs, "action IN "+In(a, f.Actions))
	}
	if f.Actor != "" {
		cs = append(cs, `"userId" = `+a.Add(f.Actor))
	}
	if f.ResourceID != "" {
		cs = append(cs, `"resourceId" = `+a.Add(f.ResourceID))
	}
	if !f.Since.IsZero() {
		cs = append(cs, `"createdAt" >= `+a.Add(f.Since))
	}
	if len(cs) == 0 {
		return "TRUE"
	}
	return strings.Join(cs, " AND ")
}

// CountAudit counts the entries f matches, ignoring After and Limit.
func CountAudit(ctx context.Context, db DB, d *Dialect, f *store.AuditFilter) (int64, error) {
	a := d.Args()
	var n int64
	err := db.QueryRow(ctx, d.SQL(auditCount, Fill{"filter": auditConditions(a, f)}), a.Values...).Scan(&n)
	return n, err
}

// Audit lists audit entries, newest first, a page after f.After when it
// is set: the anchor's keys are read in a subquery, so the boundary is
// exact even when entries share a timestamp.
func Audit(ctx context.Context, db DB, d *Dialect, f *store.AuditFilter) ([]*store.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	list, a := auditList, d.Args()
	if f.After != 0 {
		var one int
		err := db.QueryRow(ctx, d.SQL(auditEntryExists), f.After).Scan(&one)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("audit entry %d: %w", f.After, store.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		list, a = auditListAfter, d.ArgsAfter(f.After)
	}
	sql := d.SQL(list, Fill{"filter": auditConditions(a, f), "limit": strconv.Itoa(limit)})
	rows, err := db.Query(ctx, sql, a.Values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.AuditEntry{}
	for rows.Next() {
		var (
			e    store.AuditEntry
			meta rawJSON
			at   timestamp
			role text
		)
		if err := rows.Scan(&e.ID, &e.Action, &e.UserID, &e.Resource, &e.ResourceID, &meta, &at, &role); err != nil {
			return nil, err
		}
		e.Metadata, e.CreatedAt, e.DBRole = json.RawMessage(meta), at.value(), string(role)
		out = append(out, &e)
	}
	return out, rows.Err()
}
