package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// pageNames are the templates under templates/ that render a whole page in
// layout.html; each is parsed with the layout and partials.html.
var pageNames = []string{"jobs", "job", "audit", "workers", "schedules", "error", "login"}

func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames)+1)
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: templates: %w", err)
		}
		pages[name] = t
	}
	// The partials alone render the stream's fragments and the confirm
	// dialog that htmx swaps in.
	t, err := template.New("partials").Funcs(funcs).ParseFS(assets, "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	pages["partials"] = t
	return pages, nil
}

// rowActions are the actions the job list and the details page offer, in
// the guide's order ("Start, Cancel, Delete"; "Retry, View Logs, Delete").
var rowActions = []store.Action{store.ActStart, store.ActRetry, store.ActCancel, store.ActDelete}

// may reports whether who's role has the permission a needs: admin every
// one, manager jobs:write, user retry only (ops narrows it to its own jobs).
func may(who ops.Principal, a store.Action) bool {
	switch who.Role {
	case store.RoleAdmin:
		return true
	case store.RoleManager:
		return a.Permission() == store.PermWrite
	case store.RoleUser:
		return a == store.ActRetry
	}
	return false
}

// actionsFor lists what who may do to a job in status st: the guide's
// status table (store.Allowed) crossed with the role.
func actionsFor(who ops.Principal, st store.Status) []store.Action {
	var out []store.Action
	for _, a := range rowActions {
		if may(who, a) && slices.Contains(store.Allowed[a], st) {
			out = append(out, a)
		}
	}
	return out
}

// bulkActions are the list's bulk buttons who may use.
func bulkActions(who ops.Principal) []store.Action {
	var out []store.Action
	for _, a := range []store.Action{store.ActRetry, store.ActCancel, store.ActDelete} {
		if may(who, a) {
			out = append(out, a)
		}
	}
	return out
}

func (u *UI) funcs() template.FuncMap {
	return template.FuncMap{
		"icon":        func(s store.Status) string { return render.StatusIcon(s) },
		"statusClass": func(s store.Status) string { return "st-" + strings.ToLower(string(s)) },
		"title":       titleCase,
		"ago": func(t any) string {
			tm, ok := timeOf(t)
			if !ok {
				return "—"
			}
			return render.RelativeTime(tm, u.o.Now())
		},
		"ts": func(t any) string {
			tm, ok := timeOf(t)
			if !ok {
				return "—"
			}
			return tm.UTC().Format(time.RFC3339)
		},
		"duration": func(j *store.Job) string {
			if d := j.Duration(); d > 0 {
				return render.FormatDuration(d)
			}
			return "—"
		},
		"actions": actionsFor,
		"row": func(j *store.Job, who ops.Principal, csrf string) rowData {
			return rowData{Job: j, Who: who, CSRF: csrf}
		},
		"shortID":  shortID,
		"pretty":   prettyJSON,
		"verb":     verb,
		"statuses": func() []store.Status { return store.Statuses },
		"join":     strings.Join,
		"itoa":     strconv.Itoa,
	}
}

// shortID is a job ID as the list shows it: its prefix and its last
// characters, which tell jobs apart (an ID's start is its creation time,
// alike for jobs made together). The link's title has the whole ID, and
// the details page shows it.
func shortID(id string) string {
	const tail = 8
	p := strings.IndexByte(id, '_') + 1
	if len(id)-p <= tail+2 {
		return id
	}
	return id[:p] + "…" + id[len(id)-tail:]
}

// timeOf accepts a time.Time or *time.Time; a zero or nil one is absent.
func timeOf(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v == nil || v.IsZero() {
			return time.Time{}, false
		}
		return *v, true
	}
	return time.Time{}, false
}

// titleCase is "FAILED" as "Failed", the guide's spelling in its tables.
func titleCase(s any) string {
	str := fmt.Sprint(s)
	if str == "" {
		return ""
	}
	return strings.ToUpper(str[:1]) + strings.ToLower(str[1:])
}

// verb is an action's button label.
func verb(a store.Action) string { return titleCase(string(a)) }

// prettyJSON indents a job's data or output; "" for none.
func prettyJSON(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// statusCSS is the status chips' stylesheet, made from render's palette so
// the pages and the terminal show the guide's colours alike. Each chip has
// its colour as background and black or white text, whichever reads.
func statusCSS() []byte {
	var b bytes.Buffer
	b.WriteString("/* Made by internal/web/ui from internal/render's palette. */\n")
	for _, s := range store.Statuses {
		code, _ := strconv.Atoi(render.StatusColor256(s))
		r, g, bl := xterm256(code)
		fg := "#000"
		if (299*r+587*g+114*bl)/1000 < 140 {
			fg = "#fff"
		}
		fmt.Fprintf(&b, ".st-%s{background:#%02x%02x%02x;color:%s}\n", strings.ToLower(string(s)), r, g, bl, fg)
	}
	return b.Bytes()
}

// xterm256 is the RGB of an xterm 256-colour code.
func xterm256(c int) (r, g, b int) {
	basic := [16][3]int{{0, 0, 0}, {128, 0, 0}, {0, 128, 0}, {128, 128, 0}, {0, 0, 128}, {128, 0, 128}, {0, 128, 128}, {192, 192, 192},
		{128, 128, 128}, {255, 0, 0}, {0, 255, 0}, {255, 255, 0}, {0, 0, 255}, {255, 0, 255}, {0, 255, 255}, {255, 255, 255}}
	switch {
	case c < 16:
		return basic[c][0], basic[c][1], basic[c][2]
	case c < 232:
		c -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return level(c / 36), level(c / 6 % 6), level(c % 6)
	default:
		v := 8 + 10*(c-232)
		return v, v, v
	}
}

func (u *UI) statusCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(u.css)
}

// staticFS is for tests that check every asset a page names exists.
func staticFS() fs.FS {
	sub, _ := fs.Sub(assets, "static")
	return sub
}
