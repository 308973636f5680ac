// Package jobsql is the SQL both backends share: the named statements of
// sql/*.sql (statements.go), the filters, orders and lists that fill their
// slots, and reading rows back into store.Job. Placeholders are $N, which
// Postgres takes natively and the SQLite driver binds by ordinal. Every
// value is a bind parameter; no input reaches SQL as text.
package jobsql

import (
	"slices"
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

// Conditions returns the filter's conditions over "Job" or, archived,
// "JobArchive", ANDed, or "TRUE" when it has none: the /*:filter*/ slot of
// the statements that take a store.Filter.
//
// On "Job", a "createdAt" range with neither statuses nor ids names every
// status: "Job" has no index led by "createdAt" (Postgres migration 006),
// and with the statuses named the range is read from
// Job_status_createdAt_idx, one range per status, rather than from every
// row of the table. "JobArchive" keeps its "createdAt" index, and no CHECK
// holds its rows to the statuses: a range there names none.
func Conditions(a *Args, f *store.Filter, archived bool) string {
	return conditions(a, f, !archived)
}

// conditions is Conditions; allStatuses names every status for a
// "createdAt" range that names none.
func conditions(a *Args, f *store.Filter, allStatuses bool) string {
	var cs []string
	if len(f.IDs) > 0 {
		cs = append(cs, "id IN "+In(a, f.IDs))
	}
	statuses := f.Statuses
	if allStatuses && len(statuses) == 0 && len(f.IDs) == 0 && (!f.Since.IsZero() || !f.Until.IsZero()) {
		statuses = store.Statuses
	}
	if len(statuses) > 0 {
		ss := make([]string, len(statuses))
		for i, s := range statuses {
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
	statuses := mergedStatuses(p)
	var where string
	if statuses != nil {
		// The ranges name the statuses; the rest of the filter is each's.
		rest := p.Filter
		rest.Statuses = nil
		where = conditions(a, &rest, false)
	} else {
		where = Conditions(a, &p.Filter, p.Archived)
	}
	after := ""
	if p.After != "" {
		after = " AND " + afterCondition(a, Table(p.Archived), p.Sort, p.After)
	}
	order := orderBy(p.Sort)
	if statuses != nil {
		return d.SQL(jobListMerged, Fill{"ranges": listRanges(a, d, statuses, where, after, order), "order": order}), a.Values
	}
	return d.SQL(list, Fill{"filter": where, "after": after, "order": order}), a.Values
}

// mergedStatuses are the statuses whose ranges a page of live jobs in
// "createdAt" order merges (JobListMerged), or nil when one statement
// reads the page in order: one status, the archive (which has its
// "createdAt" index), ids (the primary key finds them), a user (whose
// index is in "createdAt" order), or the priority order.
func mergedStatuses(p *store.ListParams) []store.Status {
	f := &p.Filter
	if p.Archived || p.Sort == store.SortPriority || len(f.IDs) > 0 || f.UserID != "" {
		return nil
	}
	if len(f.Statuses) == 0 {
		return store.Statuses
	}
	var ss []store.Status
	for _, s := range f.Statuses {
		if !slices.Contains(ss, s) {
			ss = append(ss, s) // a status named twice is one range
		}
	}
	if len(ss) == 1 {
		return nil
	}
	return ss
}

// listRanges fills JobListMerged's /*:ranges*/: a JobList page per
// status, each with the same filter and anchor (their parameters are
// shared).
func listRanges(a *Args, d *Dialect, statuses []store.Status, where, after, order string) string {
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		r := d.SQL(jobList, Fill{"filter": "status = " + a.Add(string(s)) + " AND " + where, "after": after, "order": order})
		parts[i] = "SELECT * FROM (" + r + ") r" + strconv.Itoa(i)
	}
	return strings.Join(parts, " UNION ALL ")
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
