package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
	"github.com/jobctl/jobctl/internal/when"
)

// apiRoute is one endpoint of the REST API. Every route needs a login;
// what the caller's role allows, and whose jobs it sees, is the
// operations layer's to decide (the web and the CLI get the same answer).
type apiRoute struct {
	Method, Path string
	// Query is the query parameters it takes; any other is refused, so a
	// typo is not a silently wider list.
	Query  []string
	handle func(s *server, w http.ResponseWriter, r *http.Request, who ops.Principal) error
}

// apiRoutes is the REST API. The OpenAPI document lists exactly these
// (TestOpenAPIMatchesRoutes), plus the health endpoint, which needs no login.
var apiRoutes = []apiRoute{
	{Method: "GET", Path: "/api/admin/jobs", Query: listParams, handle: (*server).listJobs},
	{Method: "GET", Path: "/api/admin/jobs/{id}", handle: (*server).getJob},
	{Method: "POST", Path: "/api/admin/jobs/{id}/retry", handle: jobAction(store.ActRetry)},
	{Method: "POST", Path: "/api/admin/jobs/{id}/cancel", handle: jobAction(store.ActCancel)},
	{Method: "POST", Path: "/api/admin/jobs/{id}/start", handle: jobAction(store.ActStart)},
	{Method: "POST", Path: "/api/admin/jobs/{id}/restore", handle: jobAction(store.ActRestore)},
	{Method: "DELETE", Path: "/api/admin/jobs/{id}", handle: jobAction(store.ActDelete)},
	{Method: "POST", Path: "/api/admin/jobs/retry", handle: bulkAction(store.ActRetry)},
	{Method: "POST", Path: "/api/admin/jobs/cancel", handle: bulkAction(store.ActCancel)},
	{Method: "POST", Path: "/api/admin/jobs/delete", handle: bulkAction(store.ActDelete)},
	{Method: "POST", Path: "/api/admin/jobs/purge", handle: bulkAction(store.ActPurge)},
	{Method: "POST", Path: "/api/admin/jobs/archive", handle: bulkAction(store.ActArchive)},
	{Method: "GET", Path: "/api/admin/stats", Query: []string{"since", "type", "top"}, handle: (*server).stats},
	{Method: "GET", Path: "/api/admin/audit-logs", Query: []string{"action", "actor", "job", "since", "limit", "after"}, handle: (*server).audit},
	{Method: "GET", Path: "/api/admin/workers", handle: (*server).workers},
	{Method: "GET", Path: "/api/admin/schedules", handle: (*server).schedules},
}

// maxBody bounds a request body: a bulk action by IDs fits many thousands.
const maxBody = 4 << 20

// api wraps a route: a login, a role that allows the route's action, then
// the handler, whose error becomes the API's error body.
func (s *server) api(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := stateOf(r).auth
		switch {
		case a.err != nil:
			s.internal(w, r, a.err)
			return
		case a.noRole:
			writeError(w, &ops.Error{Code: ops.CodeForbidden, Message: "your groups give no role in jobctl"})
			return
		case !a.ok:
			msg := "log in, or send Authorization: Bearer <token> (jobctl token create)"
			if a.badToken {
				msg = "the bearer token is not valid: it was revoked or never existed"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="jobctl"`)
			writeError(w, &ops.Error{Code: ops.CodeUnauthorized, Message: msg})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		err := checkParams(r, rt.Query)
		if err == nil {
			err = rt.handle(s, w, r, a.who)
		}
		if err != nil {
			if canceled(r, err) {
				return
			}
			if _, _, ok := apiError(err); !ok {
				s.internal(w, r, err)
				return
			}
			writeError(w, err)
		}
	})
}

func invalid(field, format string, a ...any) error {
	return &ops.Error{Code: ops.CodeInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, a...)}
}

// checkParams refuses query parameters the route does not take.
func checkParams(r *http.Request, known []string) error {
	for k := range r.URL.Query() {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return invalid(k, "unknown query parameter (this endpoint takes none)")
			}
			return invalid(k, "unknown query parameter (want %s)", strings.Join(known, ", "))
		}
	}
	return nil
}

// filterParams are the `list` filters as query parameters.
var filterParams = []string{"status", "type", "since", "until", "older", "user"}

// listParams are GET /api/admin/jobs's: the filters and paging.
var listParams = append([]string{"sort", "limit", "after", "archived", "count"}, filterParams...)

func (s *server) listJobs(w http.ResponseWriter, r *http.Request, who ops.Principal) error {
	q := r.URL.Query()
	f, err := ops.ParseFilter(ops.FilterFromQuery(q), s.cfg.Now())
	if err != nil {
		return err
	}
	req := &ops.ListRequest{Filter: f, Count: true, CountLimit: ops.ExactCountLimit, After: store.NormalizeID(q.Get("after"))}
	switch v := q.Get("count"); v {
	case "", "estimated":
	case "exact":
		req.CountLimit = 0
	default:
		return invalid("count", "want estimated or exact, got %q", v)
	}
	if v := q.Get("sort"); v != "" {
		if req.Sort, err = store.ParseSort(v); err != nil {
			return invalid("sort", "%v", err)
		}
	}
	if v := q.Get("limit"); v != "" {
		if req.Limit, err = strconv.Atoi(v); err != nil || req.Limit < 1 || req.Limit > 1000 {
			return invalid("limit", "want a number from 1 to 1000, got %q", v)
		}
	}
	if v := q.Get("archived"); v != "" {
		if req.Archived, err = strconv.ParseBool(v); err != nil {
			return invalid("archived", "want true or false, got %q", v)
		}
	}
	res, err := s.cfg.Ops.List(r.Context(), who, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, jobPageBody{pageBody: pageBody{Items: render.JobsJSON(res.Items), Total: res.Total, Next: res.Next},
		TotalEstimated: res.TotalEstimated})
	return nil
}

// jobPageBody is a page of jobs: its total may be an estimate.
type jobPageBody struct {
	pageBody
	TotalEstimated bool `json:"totalEstimated"`
}

// pageBody is a page of a listing, its items in the shapes -o json prints
// (times to the millisecond, absent values null).
type pageBody struct {
	Items any    `json:"items"`
	Total *int64 `json:"total,omitempty"`
	Next  string `json:"next"`
}

func (s *server) getJob(w http.ResponseWriter, r *http.Request, who ops.Principal) error {
	d, err := s.cfg.Ops.Job(r.Context(), who, store.NormalizeID(r.PathValue("id")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Job     any `json:"job"`
		Related any `json:"related"`
	}{render.JobJSON(d.Job), render.RelatedJSON(d.Related)})
	return nil
}

// retryBody is what a retry may carry: {"delay":"10m","resetAttempts":true}.
type retryBody struct {
	Delay         string `json:"delay"`
	ResetAttempts bool   `json:"resetAttempts"`
}

func (b retryBody) apply(req *ops.ActionRequest) error {
	if b.Delay != "" {
		d, err := when.ParseDuration(b.Delay)
		if err != nil || d < 0 {
			return invalid("delay", "want a duration such as 60s or 10m, got %q", b.Delay)
		}
		req.Delay = d
	}
	req.ResetAttempts = b.ResetAttempts
	return nil
}

// decodeBody reads a JSON body into v; an empty body leaves v as it is.
// Unknown fields are refused, so a misspelt option is not ignored.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &mbe):
		return &ops.Error{Code: ops.CodeInvalid, Message: fmt.Sprintf("body: larger than %d bytes", maxBody)}
	case err != nil:
		return &ops.Error{Code: ops.CodeInvalid, Message: "body: " + err.Error()}
	}
	if dec.More() {
		return &ops.Error{Code: ops.CodeInvalid, Message: "body: more than one JSON value"}
	}
	return nil
}

// jobAction acts on the job the path names and answers the guide's
// response; a job whose status the action does not apply to is 409.
func jobAction(action store.Action) func(*server, http.ResponseWriter, *http.Request, ops.Principal) error {
	return func(s *server, w http.ResponseWriter, r *http.Request, who ops.Principal) error {
		id := store.NormalizeID(r.PathValue("id"))
		req := &ops.ActionRequest{Action: action, IDs: []string{id}, KeepJobs: true}
		if action == store.ActRetry {
			var b retryBody
			if err := decodeBody(r, &b); err != nil {
				return err
			}
			if err := b.apply(req); err != nil {
				return err
			}
		} else if err := decodeBody(r, &struct{}{}); err != nil {
			return err
		}
		res, err := s.cfg.Ops.Act(r.Context(), who, req)
		if err != nil {
			return err
		}
		switch {
		case len(res.NotFound) > 0:
			return &ops.Error{Code: ops.CodeNotFound, Message: fmt.Sprintf("no job %s", id)}
		case len(res.Skipped) > 0:
			return &ops.Error{Code: ops.CodeConflict, Message: res.Skipped[0].Reason}
		}
		for _, j := range res.Jobs {
			if j.JobID == id {
				writeJSON(w, http.StatusOK, j)
				return nil
			}
		}
		return fmt.Errorf("%s %s: the operations layer reported no outcome for the job", action, id)
	}
}

// bulkBody chooses jobs by ids, or by filter (with all to act on every job
// the action applies to).
type bulkBody struct {
	IDs    []string                   `json:"ids"`
	Filter map[string]json.RawMessage `json:"filter"`
	All    bool                       `json:"all"`
	DryRun bool                       `json:"dryRun"`
	// Retry only.
	Delay         string `json:"delay"`
	ResetAttempts bool   `json:"resetAttempts"`
}

// filterInput reads a body's filter: the query parameters' names, each a
// string or, for status and type, a list of them.
func (b *bulkBody) filterInput() (ops.FilterInput, error) {
	in := ops.FilterInput{Given: map[string]bool{}}
	for k, raw := range b.Filter {
		field := "filter." + k
		var list []string
		switch k {
		case "status", "type":
			var one string
			if err := json.Unmarshal(raw, &one); err == nil {
				list = strings.Split(one, ",")
			} else if err := json.Unmarshal(raw, &list); err != nil {
				return in, invalid(field, "want a string or a list of strings")
			}
			if len(list) == 0 || slices.Contains(list, "") {
				return in, invalid(field, "was given an empty value: give one, or leave it out")
			}
			if k == "status" {
				in.Statuses = list
			} else {
				in.Types = list
			}
		case "since", "until", "older", "user":
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return in, invalid(field, "want a string")
			}
			if strings.TrimSpace(v) == "" {
				return in, invalid(field, "was given an empty value: give one, or leave it out")
			}
			switch k {
			case "since":
				in.Since = v
			case "until":
				in.Until = v
			case "older":
				in.Older = v
			case "user":
				in.User = v
			}
		default:
			return in, invalid(field, "unknown filter (want %s)", strings.Join(filterParams, ", "))
		}
		in.Given[k] = true
	}
	return in, nil
}

// bulkAction acts on the jobs the body chooses and answers the counts per
// outcome and the operation ID.
func bulkAction(action store.Action) func(*server, http.ResponseWriter, *http.Request, ops.Principal) error {
	return func(s *server, w http.ResponseWriter, r *http.Request, who ops.Principal) error {
		var b bulkBody
		if err := decodeBody(r, &b); err != nil {
			return err
		}
		if len(b.IDs) > 0 && b.Filter != nil {
			return &ops.Error{Code: ops.CodeInvalid, Message: "give ids or filter, not both"}
		}
		req := &ops.ActionRequest{Action: action, All: b.All, DryRun: b.DryRun}
		for _, id := range b.IDs {
			req.IDs = append(req.IDs, store.NormalizeID(id))
		}
		in, err := b.filterInput()
		if err != nil {
			return err
		}
		if req.Filter, err = ops.ParseFilter(in, s.cfg.Now()); err != nil {
			return err
		}
		if action == store.ActRetry {
			if err := (retryBody{Delay: b.Delay, ResetAttempts: b.ResetAttempts}).apply(req); err != nil {
				return err
			}
		} else if b.Delay != "" || b.ResetAttempts {
			return invalid("delay", "only retry takes delay and resetAttempts")
		}
		res, err := s.cfg.Ops.Act(r.Context(), who, req)
		if err != nil {
			return err
		}
		if res.Skipped == nil {
			res.Skipped = []store.Skipped{}
		}
		if res.NotFound == nil {
			res.NotFound = []string{}
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	}
}

func (s *server) stats(w http.ResponseWriter, r *http.Request, who ops.Principal) error {
	q := r.URL.Query()
	// The window of run times and top errors is jobctl stats's: the last
	// 24h unless since says otherwise, "all" for all time (which reads
	// every COMPLETED job's times).
	p := &store.StatsParams{Since: s.cfg.Now().Add(-24 * time.Hour)}
	var err error
	if v, ok := q["since"]; ok {
		switch v[0] {
		case "all":
			p.Since = time.Time{}
		default:
			if p.Since, err = when.ParseTime(v[0], s.cfg.Now()); err != nil {
				return invalid("since", "%v", err)
			}
		}
	}
	for _, v := range q["type"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t == "" {
				return invalid("type", "was given an empty value: give one, or leave it out")
			}
			p.Types = append(p.Types, t)
		}
	}
	if v := q.Get("top"); v != "" {
		if p.TopErrors, err = strconv.Atoi(v); err != nil || p.TopErrors < 1 || p.TopErrors > 100 {
			return invalid("top", "want a number from 1 to 100, got %q", v)
		}
	}
	st, err := s.statsCache.get(r.Context(), statsKey(who, q), func(ctx context.Context) (*store.Stats, error) {
		return s.cfg.Ops.Stats(ctx, who, p)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, render.StatsJSON(st))
	return nil
}

// statsKey names what a stats answer depends on: whose jobs it counts
// (every job, for admins and managers; one user ID for a user) and the
// query, in canonical order. The default window is "the last 24h from
// now", so the query, not the time it works out to, is the key.
func statsKey(who ops.Principal, q url.Values) string {
	scope := "all"
	if who.Role == store.RoleUser {
		scope = "user:" + who.UserID
	} else if who.Role != store.RoleAdmin && who.Role != store.RoleManager {
		scope = "role:" + string(who.Role)
	}
	return scope + "?" + q.Encode()
}

// auditActions are the audit log's actions, as it names them.
var auditActions = []string{
	store.ActionRetry, store.ActionCancel, store.ActionStart, store.ActionDelete, store.ActionPurge,
	store.ActionArchive, store.ActionRestore, store.ActionScheduleAdd, store.ActionScheduleRemove,
}

func (s *server) audit(w http.ResponseWriter, r *http.Request, who ops.Principal) error {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), ResourceID: store.NormalizeID(q.Get("job")), Limit: 50}
	for _, v := range q["action"] {
		for _, a := range strings.Split(v, ",") {
			u := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(a), "-", "_"))
			switch {
			case slices.Contains(auditActions, u):
			case slices.Contains(auditActions, "JOB_"+u):
				u = "JOB_" + u
			default:
				return invalid("action", "unknown action %q (want retry, cancel, start, delete, purge, archive, restore, schedule-add or schedule-remove, or the log's name such as JOB_RETRY)", a)
			}
			if !slices.Contains(f.Actions, u) {
				f.Actions = append(f.Actions, u)
			}
		}
	}
	var err error
	if v, ok := q["since"]; ok {
		if f.Since, err = when.ParseTime(v[0], s.cfg.Now()); err != nil {
			return invalid("since", "%v", err)
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 1000 {
			return invalid("limit", "want a number from 1 to 1000, got %q", v)
		}
	}
	if v := q.Get("after"); v != "" {
		if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After < 1 {
			return invalid("after", "want an audit entry ID (the previous page's next), got %q", v)
		}
	}
	res, err := s.cfg.Ops.Audit(r.Context(), who, &ops.AuditRequest{Filter: f})
	if err != nil {
		return err
	}
	total := res.Total
	writeJSON(w, http.StatusOK, pageBody{Items: render.AuditJSON(res.Items), Total: &total, Next: res.Next})
	return nil
}

// itemsBody wraps a list, leaving room for paging later.
type itemsBody struct {
	Items any `json:"items"`
}

func (s *server) workers(w http.ResponseWriter, r *http.Request, who ops.Principal) error {
	ws, err := s.cfg.Ops.Workers(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsBody{render.WorkersJSON(ws)})
	return nil
}

func (s *server) schedules(w http.ResponseWriter, r *http.Request, who ops.Principal) error {
	ss, err := s.cfg.Ops.Schedules(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsBody{render.SchedulesJSON(ss)})
	return nil
}
