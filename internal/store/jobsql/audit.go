package jobsql

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/internal/store"
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
		a := d.Args()
		rows := make([]string, len(batch))
		for i, e := range batch {
			meta := string(e.Metadata)
			if meta == "" {
				meta = "{}"
			}
			rows[i] = "(" + a.Add(e.Action) + ", " + a.Add(e.UserID) + ", " + a.Add(e.Resource) + ", " +
				a.Add(e.ResourceID) + ", " + d.AuditMeta(a.Add(meta)) + ")"
		}
		if _, err := db.Exec(ctx, `INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata) VALUES `+
			strings.Join(rows, ", "), a.Values...); err != nil {
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

// Audit lists audit entries, newest first.
func Audit(ctx context.Context, db DB, d *Dialect, f *store.AuditFilter) ([]*store.AuditEntry, error) {
	a := d.Args()
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
	where := "TRUE"
	if len(cs) > 0 {
		where = strings.Join(cs, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.Query(ctx, `SELECT id, action, "userId", resource, "resourceId", metadata, "createdAt", "dbRole" FROM "AuditLog" WHERE `+
		where+` ORDER BY "createdAt" DESC, id DESC LIMIT `+strconv.Itoa(limit), a.Values...)
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
