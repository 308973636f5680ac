package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// flashCookie carries one action's summary across the 303 to the next page,
// so the message is ours and not something a link can put in a URL.
const flashCookie = "jobctl_flash"

func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/admin",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// takeFlash reads the flash and clears it, so it shows once.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return msg
}

// bulkAction is the confirm dialog's POST: act on the ticked jobs or on
// every job matching the filter, then 303 back with a summary.
func (u *UI) bulkAction(w http.ResponseWriter, r *http.Request) {
	who, ok := u.o.Principal(r)
	if !ok {
		toLogin(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.failAction(w, r, who, &ops.Error{Code: ops.CodeInvalid, Message: "bad form: " + err.Error()})
		return
	}
	f := readListForm(r.PostForm)
	back := localPath(r.PostForm.Get("back"), f.Link())
	a := store.Action(r.PostForm.Get("action"))
	if !may(who, a) {
		u.failAction(w, r, who, &ops.Error{Code: ops.CodeForbidden, Message: "you may not " + string(a) + " jobs"})
		return
	}
	filter, err := f.filter(u.o.Now())
	if err != nil {
		u.failAction(w, r, who, err)
		return
	}
	req, err := actionRequest(a, f, filter)
	if err != nil {
		u.failAction(w, r, who, err)
		return
	}
	res, err := u.svc.Act(r.Context(), who, req)
	if err != nil && res != nil {
		var total int64
		if len(req.IDs) > 0 {
			total = int64(len(slices.Compact(slices.Sorted(slices.Values(req.IDs)))))
		}
		if e := ops.Interrupted(a, res.Changed+res.Requested, total, req.DryRun, err); e != nil {
			// Cut short part-way: the jobs done are done. Say how many, as
			// the CLI and the API do, on the list rather than an error page.
			setFlash(w, e.Message+operation(res))
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
	}
	if err != nil {
		var oe *ops.Error
		if errors.As(err, &oe) && oe.Code != ops.CodeForbidden {
			// A refused selection is the operator's to fix: say so on the list.
			setFlash(w, oe.Message)
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		u.failAction(w, r, who, err)
		return
	}
	setFlash(w, summary(res))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// jobAction is a Job Details Page button: one action on one job.
func (u *UI) jobAction(w http.ResponseWriter, r *http.Request) {
	who, ok := u.o.Principal(r)
	if !ok {
		toLogin(w, r)
		return
	}
	id, a := r.PathValue("id"), store.Action(r.PathValue("action"))
	switch a {
	case store.ActRetry, store.ActCancel, store.ActStart, store.ActDelete:
	default:
		u.failAction(w, r, who, &ops.Error{Code: ops.CodeNotFound, Message: "no action " + string(a)})
		return
	}
	if !may(who, a) {
		u.failAction(w, r, who, &ops.Error{Code: ops.CodeForbidden, Message: "you may not " + string(a) + " jobs"})
		return
	}
	res, err := u.svc.Act(r.Context(), who, &ops.ActionRequest{Action: a, IDs: []string{id}})
	if err != nil {
		var oe *ops.Error
		if errors.As(err, &oe) && (oe.Code == ops.CodeConflict || oe.Code == ops.CodeUnprocessable) {
			setFlash(w, oe.Message)
			http.Redirect(w, r, "/admin/jobs/"+url.PathEscape(id), http.StatusSeeOther)
			return
		}
		u.failAction(w, r, who, err)
		return
	}
	setFlash(w, summary(res))
	back := "/admin/jobs/" + url.PathEscape(id)
	if a == store.ActDelete && res.Changed > 0 {
		back = "/admin/jobs"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// failAction shows an action's refusal as a page: the guide's 403 for a
// foreign job.
func (u *UI) failAction(w http.ResponseWriter, r *http.Request, who ops.Principal, err error) {
	v := &view{Who: who, CSRF: u.o.CSRF(r), Path: r.URL.RequestURI()}
	u.fail(w, r, v, err)
}

// pastTense is what the flash says an action did.
var pastTense = map[store.Action]string{
	store.ActRetry: "Retried", store.ActCancel: "Cancelled", store.ActStart: "Started", store.ActDelete: "Deleted",
}

// summary is one line about a Result, like the CLI's: "Retried 12 jobs
// (operation op_…); 1 skipped: job_x is COMPLETED: retry needs …".
func summary(res *ops.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", pastTense[res.Action], plural(res.Changed, "job"))
	if res.Requested > 0 {
		fmt.Fprintf(&b, ", asked %s to stop", plural(res.Requested, "running job"))
	}
	b.WriteString(operation(res))
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(&b, "; %d skipped", n)
		if n == 1 {
			fmt.Fprintf(&b, ": %s", res.Skipped[0].Reason)
		}
	}
	if n := len(res.NotFound); n > 0 {
		fmt.Fprintf(&b, "; %d not found", n)
	}
	return b.String()
}

// operation names the operation whose audit rows record what was done.
func operation(res *ops.Result) string {
	if res.OperationID == "" {
		return ""
	}
	return " (operation " + res.OperationID + ")"
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
