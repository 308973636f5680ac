// Package jobsql is the SQL both backends share: the named statements of
// sql/*.sql (statements.go), the filters, orders and lists that fill their
// slots, and reading rows back into store.Job. Placeholders are $N, which
// Postgres takes natively and the SQLite driver binds by ordinal. Every
// value is a bind parameter; no input reaches SQL as text.
package jobsql

import (
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/internal/store"
)

// JobColumns is the select list for "Job" and "JobArchive", in the order
// the backends scan it. The archive adds "archivedAt" after these.
const JobColumns = `id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
	attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
	"userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"`

// Args collects bind parameters. Conv turns Go values into what the driver
// stores (SQLite keeps times as fixed-width RFC 3339 text).
type Args struct {
	Values []any
	Conv   func(any) any
}

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	if a.Conv != nil {
		v = a.Conv(v)
	}
	a.Values = append(a.Values, v)
	return "$" + strconv.Itoa(len(a.Values))
}

// In returns "(p1, p2, …)" for the values.
func In[T any](a *Args, vs []T) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = a.Add(v)
	}
	return "(" + strings.Join(ps, ", ") + ")"
}

// Conditions returns the filter's conditions, ANDed, or "TRUE" when it has
// none: the /*:filter*/ slot of the statements that take a store.Filter.
func Conditions(a *Args, f *store.Filter) string {
	var cs []string
	if len(f.IDs) > 0 {
		cs = append(cs, "id IN "+In(a, f.IDs))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ss[i] = string(s)
		}
		cs = append(cs, "status IN "+In(a, ss))
	}
	if len(f.Types) > 0 {
		cs = append(cs, "type IN "+In(a, f.Types))
	}
	if !f.Since.IsZero() {
		cs = append(cs, `"createdAt" >= `+a.Add(f.Since))
	}
	if !f.Until.IsZero() {
		cs = append(cs, `"createdAt" < `+a.Add(f.Until))
	}
	if !f.FinishedBefore.IsZero() {
		cs = append(cs, `"completedAt" < `+a.Add(f.FinishedBefore))
	}
	if f.UserID != "" {
		cs = append(cs, `"userId" = `+a.Add(f.UserID))
	}
	if len(cs) == 0 {
		return "TRUE"
	}
	return strings.Join(cs, " AND ")
}

// Table is "Job", or "JobArchive" for archived listings.
func Table(archived bool) string {
	if archived {
		return `"JobArchive"`
	}
	return `"Job"`
}

// listQuery returns the statement and arguments for one page of jobs
// (JobList or ArchiveList). Paging is by keyset: the page starts after the
// row whose id is p.After, in the listing's order.
func listQuery(d *Dialect, p *store.ListParams) (string, []any) {
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	list := jobList
	if p.Archived {
		list = archiveList
	}
	a := d.ArgsAfter(limit)
	where := Conditions(a, &p.Filter)
	after := ""
	if p.After != "" {
		after = " AND " + afterCondition(a, Table(p.Archived), p.Sort, p.After)
	}
	return d.SQL(list, Fill{"filter": where, "after": after, "order": orderBy(p.Sort)}), a.Values
}

// orderBy fills the listing's /*:order*/ slot.
func orderBy(s store.Sort) string {
	switch s {
	case store.SortCreatedAsc:
		return `"createdAt" ASC, id ASC`
	case store.SortPriority:
		return `"priorityRank" DESC, "scheduledFor" ASC, id ASC`
	default:
		return `"createdAt" DESC, id DESC`
	}
}

// afterCondition keeps the rows that sort after the anchor row. The
// anchor's keys are read in a subquery, so the page boundary is exact even
// when many jobs share a timestamp.
func afterCondition(a *Args, table string, s store.Sort, after string) string {
	anchor := func(col string) string {
		return "(SELECT " + col + " FROM " + table + " WHERE id = " + a.Add(after) + ")"
	}
	switch s {
	case store.SortCreatedAsc:
		return `("createdAt", id) > ` + anchor(`"createdAt", id`)
	case store.SortPriority:
		r, sf, id := anchor(`"priorityRank"`), anchor(`"scheduledFor"`), a.Add(after)
		return `("priorityRank" < ` + r + ` OR ("priorityRank" = ` + r +
			` AND ("scheduledFor" > ` + sf + ` OR ("scheduledFor" = ` + sf + ` AND id > ` + id + `))))`
	default:
		return `("createdAt", id) < ` + anchor(`"createdAt", id`)
	}
}
