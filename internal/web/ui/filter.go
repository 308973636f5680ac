package ui

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// listForm is the job list's query string: the filter form's fields, the
// page and the selection the bulk form posts.
type listForm struct {
	Status string // one status or "" for all
	Type   string
	Range  string // "", hour, today, 7d or custom
	Since  string // custom range, datetime-local or anything --since takes
	Until  string
	User   string
	Sort   string
	After  string
	IDs    []string
	All    bool // "select all N matching"
}

// ranges are the guide's date ranges as the --since values they mean.
var ranges = map[string]string{"hour": "1h", "today": "today", "7d": "7d"}

func readListForm(q url.Values) listForm {
	f := listForm{
		Status: strings.ToUpper(strings.TrimSpace(q.Get("status"))),
		Type:   strings.TrimSpace(q.Get("type")),
		Range:  q.Get("range"),
		Since:  strings.TrimSpace(q.Get("since")),
		Until:  strings.TrimSpace(q.Get("until")),
		User:   strings.TrimSpace(q.Get("user")),
		Sort:   q.Get("sort"),
		After:  q.Get("after"),
		All:    q.Get("all") != "",
	}
	for _, id := range q["ids"] {
		if id = strings.TrimSpace(id); id != "" {
			f.IDs = append(f.IDs, id)
		}
	}
	if f.Range != "custom" {
		f.Since, f.Until = "", ""
	}
	return f
}

// input is the form as the operations layer's FilterInput, so the page
// filters with the grammar the CLI and API use.
func (f listForm) input() ops.FilterInput {
	in := ops.FilterInput{Given: map[string]bool{}}
	if f.Status != "" {
		in.Statuses, in.Given["status"] = []string{f.Status}, true
	}
	if f.Type != "" {
		in.Types, in.Given["type"] = []string{f.Type}, true
	}
	if s, ok := ranges[f.Range]; ok {
		in.Since, in.Given["since"] = s, true
	}
	if f.Range == "custom" {
		if f.Since != "" {
			in.Since, in.Given["since"] = f.Since, true
		}
		if f.Until != "" {
			in.Until, in.Given["until"] = f.Until, true
		}
	}
	if f.User != "" {
		in.User, in.Given["user"] = f.User, true
	}
	return in
}

// filter is the store filter the form asks for, parsed by ops with the
// grammar the CLI and the API use.
func (f listForm) filter(now time.Time) (store.Filter, error) {
	return ops.ParseFilter(f.input(), now)
}

// values is the filter part of the form (no paging, no selection), for
// links and the hidden fields of the bulk and confirm forms.
func (f listForm) values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", f.Status)
	set("type", f.Type)
	set("range", f.Range)
	set("since", f.Since)
	set("until", f.Until)
	set("user", f.User)
	set("sort", f.Sort)
	return q
}

// Hidden lists the filter fields as name/value pairs for hidden inputs.
func (f listForm) Hidden() [][2]string {
	var out [][2]string
	for _, k := range []string{"status", "type", "range", "since", "until", "user", "sort"} {
		if v := f.values().Get(k); v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// Link is the list URL with the form's filters plus extra pairs.
func (f listForm) Link(kv ...string) string {
	q := f.values()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	if len(q) == 0 {
		return "/admin/jobs"
	}
	return "/admin/jobs?" + q.Encode()
}

// Filtered reports whether any filter is set.
func (f listForm) Filtered() bool {
	return f.Status != "" || f.Type != "" || f.Range != "" || f.User != ""
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n
	}
	return def
}
