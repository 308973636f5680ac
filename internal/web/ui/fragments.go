package ui

import (
	"strings"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// rowData is what a job row's and status block's templates need beyond the
// job: who looks (its actions) and the CSRF token for its forms.
type rowData struct {
	Job  *store.Job
	Who  ops.Principal
	CSRF string
}

// fragments renders a tick for one subscriber: the counts, and for each
// job it watches that is still visible, its row or status block. The
// templates are the page's own, so a pushed fragment is what a reload
// would show.
func (u *UI) fragments(who ops.Principal, csrf string, w watch, d *tickData) []event {
	t := u.pages["partials"]
	var out []event
	exec := func(name, tmpl string, data any) {
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, tmpl, data); err != nil {
			u.o.Logger.Error("ui: render fragment", "template", tmpl, "err", err)
			return
		}
		out = append(out, event{Name: name, Data: b.String()})
	}
	if w.Counts && d.Summary != nil {
		exec("counts", "counts", countsOf(d.Summary))
	}
	for _, id := range w.Rows {
		if j, ok := d.Jobs[id]; ok {
			exec("row-"+id, "rowcells", rowData{Job: j, Who: who, CSRF: csrf})
		}
	}
	for _, id := range w.Recent {
		if j, ok := d.Jobs[id]; ok {
			exec("recent-"+id, "recentcells", rowData{Job: j, Who: who, CSRF: csrf})
		}
	}
	for _, id := range w.Job {
		if j, ok := d.Jobs[id]; ok {
			exec("status-"+id, "statusblock", rowData{Job: j, Who: who, CSRF: csrf})
		}
	}
	return out
}
