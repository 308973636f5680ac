package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// pageSize is the job list's page; recentSize the dashboard's recent jobs.
const (
	pageSize   = 25
	recentSize = 8
)

// jobsView is /admin/jobs: the dashboard above the job list.
type jobsView struct {
	Counts []statusCount
	Recent []*store.Job
	Types  []string
	Form   listForm
	Sorts  []store.Sort
	Items  []*store.Job
	Total  int64
	// TotalEstimated: Total is above ops.ExactCountLimit and the store's
	// estimate; the confirm dialog counts exactly.
	TotalEstimated bool
	Next           string
	Bulk           []store.Action
	Confirm        *confirmView
	Events         string // the live stream's URL for this page
}

type statusCount struct {
	Status    store.Status
	Count     int64
	Estimated bool
}

// confirmView is the bulk confirm dialog: what would happen, and to how
// many jobs (ops.Service.Count).
type confirmView struct {
	Action store.Action
	Count  int64
	Form   listForm
	IDs    []string
	All    bool
	Back   string
	Open   bool // rendered in the page (no JS): shown without showModal
	CSRF   string
}

func (u *UI) jobs(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	ctx, who := r.Context(), v.Who
	q := r.URL.Query()
	f := readListForm(q)
	v.Title, v.Nav = "Jobs", "jobs"
	filter, err := f.filter(u.o.Now())
	if err != nil {
		return "", err
	}

	var confirm *confirmView
	if a := store.Action(q.Get("confirm")); a != "" {
		if confirm, err = u.confirm(r, who, a, f, filter, q.Get("back")); err != nil {
			return "", err
		}
		if r.Header.Get("HX-Request") != "" {
			// htmx asked for the dialog alone; app.js opens it.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := u.pages["partials"].ExecuteTemplate(w, "confirm", confirm); err != nil {
				u.o.Logger.Error("ui: render confirm", "err", err)
			}
			return "", nil
		}
		confirm.Open = true
	}

	sum, err := u.svc.Summary(ctx, who)
	if err != nil {
		return "", err
	}
	types, err := u.svc.Types(ctx, who)
	if err != nil {
		return "", err
	}
	recent, err := u.svc.List(ctx, who, &ops.ListRequest{Sort: store.SortCreatedDesc, Limit: recentSize})
	if err != nil {
		return "", err
	}
	sortBy := store.SortCreatedDesc
	if f.Sort != "" {
		if sortBy, err = store.ParseSort(f.Sort); err != nil {
			return "", &ops.Error{Code: ops.CodeInvalid, Message: err.Error(), Field: "sort"}
		}
	}
	page, err := u.svc.List(ctx, who, &ops.ListRequest{Filter: filter, Sort: sortBy, Limit: pageSize, After: f.After,
		Count: true, CountLimit: ops.ExactCountLimit})
	if err != nil {
		return "", err
	}
	jv := &jobsView{
		Counts:  countsOf(sum),
		Recent:  recent.Items,
		Types:   types,
		Form:    f,
		Sorts:   []store.Sort{store.SortCreatedDesc, store.SortCreatedAsc, store.SortPriority},
		Items:   page.Items,
		Next:    page.Next,
		Bulk:    bulkActions(who),
		Confirm: confirm,
	}
	if page.Total != nil {
		jv.Total, jv.TotalEstimated = *page.Total, page.TotalEstimated
	}
	ev := url.Values{"counts": {"1"}}
	for _, j := range recent.Items {
		ev.Add("recent", j.ID)
	}
	for _, j := range page.Items {
		ev.Add("row", j.ID)
	}
	jv.Events = "/admin/events?" + ev.Encode()
	v.Data = jv
	return "jobs", nil
}

// confirm counts what a bulk action would touch, for its dialog.
func (u *UI) confirm(r *http.Request, who ops.Principal, a store.Action, f listForm, filter store.Filter, back string) (*confirmView, error) {
	if !slices.Contains(rowActions, a) || !may(who, a) {
		return nil, &ops.Error{Code: ops.CodeForbidden, Message: "you may not " + string(a) + " jobs"}
	}
	req, err := actionRequest(a, f, filter)
	if err != nil {
		return nil, err
	}
	n, err := u.svc.Count(r.Context(), who, req)
	if err != nil {
		return nil, err
	}
	return &confirmView{Action: a, Count: n, Form: f, IDs: f.IDs, All: f.All && len(f.IDs) == 0,
		Back: localPath(back, f.Link()), CSRF: u.o.CSRF(r)}, nil
}

// actionRequest is the bulk form's selection: the ticked IDs, or every job
// matching the filter when "select all matching" is ticked.
func actionRequest(a store.Action, f listForm, filter store.Filter) (*ops.ActionRequest, error) {
	req := &ops.ActionRequest{Action: a}
	switch {
	case len(f.IDs) > 0:
		req.IDs = f.IDs
	case f.All:
		req.Filter, req.All = filter, true
	default:
		return nil, &ops.Error{Code: ops.CodeUnprocessable, Message: "no jobs selected: tick some, or select all matching"}
	}
	return req, nil
}

// countsOf is the dashboard's status summary in lifecycle order.
func countsOf(s *ops.Summary) []statusCount {
	out := make([]statusCount, 0, len(store.Statuses))
	for _, st := range store.Statuses {
		var t store.Tally
		if s != nil {
			t = s.Counts[st]
		}
		out = append(out, statusCount{st, t.N, t.Estimated})
	}
	return out
}

// jobView is the Job Details Page.
type jobView struct {
	*ops.JobDetail
	Events string
}

func (u *UI) job(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	id := r.PathValue("id")
	d, err := u.svc.Job(r.Context(), v.Who, id)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav = d.Job.ID, "jobs"
	v.Data = &jobView{JobDetail: d, Events: "/admin/events?" + url.Values{"job": {d.Job.ID}}.Encode()}
	return "job", nil
}

type auditView struct {
	Items                []*store.AuditEntry
	Total                int64
	Next                 string
	Actor, Action, JobID string
	Actions              []string // the action filter's choices
	NextLink             string
}

// auditActions are the actions the audit log records, as it names them.
var auditActions = []string{
	store.ActionRetry, store.ActionCancel, store.ActionStart, store.ActionDelete, store.ActionPurge,
	store.ActionArchive, store.ActionRestore, store.ActionScheduleAdd, store.ActionScheduleRemove,
}

func (u *UI) audit(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	q := r.URL.Query()
	av := &auditView{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.ToUpper(strings.TrimSpace(q.Get("action"))),
		JobID: strings.TrimSpace(q.Get("job")), Actions: auditActions}
	f := store.AuditFilter{Actor: av.Actor, ResourceID: av.JobID, Limit: 50}
	if av.Action != "" {
		if !slices.Contains(auditActions, av.Action) {
			return "", &ops.Error{Code: ops.CodeInvalid, Message: "unknown audit action " + av.Action, Field: "action"}
		}
		f.Actions = []string{av.Action}
	}
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return "", &ops.Error{Code: ops.CodeInvalid, Message: "after is not an audit entry ID: " + a, Field: "after"}
		}
		f.After = n
	}
	res, err := u.svc.Audit(r.Context(), v.Who, &ops.AuditRequest{Filter: f})
	if err != nil {
		return "", err
	}
	av.Items, av.Total, av.Next = res.Items, res.Total, res.Next
	if res.Next != "" {
		nq := url.Values{"after": {res.Next}}
		for k, val := range map[string]string{"actor": av.Actor, "action": av.Action, "job": av.JobID} {
			if val != "" {
				nq.Set(k, val)
			}
		}
		av.NextLink = "/admin/audit-logs?" + nq.Encode()
	}
	v.Title, v.Nav, v.Data = "Audit log", "audit", av
	return "audit", nil
}

func (u *UI) workers(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	ws, err := u.svc.Workers(r.Context(), v.Who)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Data = "Workers", "workers", ws
	return "workers", nil
}

func (u *UI) schedules(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	ss, err := u.svc.Schedules(r.Context(), v.Who)
	if err != nil {
		return "", err
	}
	v.Title, v.Nav, v.Data = "Schedules", "schedules", ss
	return "schedules", nil
}

type loginView struct {
	Next  string
	Error string
}

// login is the form; internal/web handles its POST.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lv := loginView{Next: localPath(q.Get("next"), "/admin/jobs")}
	switch q.Get("error") {
	case "bad":
		lv.Error = "Wrong name or password."
	case "throttled":
		lv.Error = "Too many failed logins. Wait a few minutes and try again."
	}
	v := &view{Title: "Log in", CSRF: u.o.CSRF(r), Data: lv}
	if who, ok := u.o.Principal(r); ok {
		v.Who = who
	}
	u.render(w, r, http.StatusOK, "login", v)
}

// localPath keeps redirect targets on this site: a path, never "//host" or
// a URL with a scheme.
func localPath(p, def string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return def
	}
	return p
}
