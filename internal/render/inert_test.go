package render

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/jobctl/jobctl/internal/health"
	"github.com/jobctl/jobctl/internal/store"
)

func TestInert(t *testing.T) {
	tests := []struct {
		name, in, cell, block string
	}{
		{"ascii", "CalendarSync: Token refresh failed", "", ""},
		{"emoji and CJK", "🎉 日本語 ünïcødé 👩‍💻 ❤️", "", ""},
		{"ESC and CSI", "a\x1b[2Jb", `a\x1b[2Jb`, ""},
		{"OSC retitle with BEL", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`, ""},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`, ""},
		{"CR overwrites a line", "ok\rFAKE", `ok\rFAKE`, ""},
		{"newline and tab", "a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"CRLF", "a\r\nb", `a\r\nb`, "a\nb"},
		{"C1 CSI and NEL", "x\u009b2J\u0085", `x\u009b2J\u0085`, ""},
		{"bidi override", "abc\u202edcba\u2066\u2069\u200f\u061c", `abc\u202edcba\u2066\u2069\u200f\u061c`, ""},
		{"line separators", "a\u2028b\u2029", `a\u2028b\u2029`, ""},
		{"not UTF-8", "a\x9b[2J\xff", `a\x9b[2J\xff`, ""},
		{"U+FFFD itself", "a\ufffdb", "", ""},
		{"backslash kept", `C:\jobs\x1b`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cell, block := tt.cell, tt.block
			if cell == "" {
				cell = tt.in
			}
			if block == "" {
				block = cell
			}
			if got := Inert(tt.in); got != cell {
				t.Errorf("Inert(%q) = %q, want %q", tt.in, got, cell)
			}
			if got := InertBlock(tt.in); got != block {
				t.Errorf("InertBlock(%q) = %q, want %q", tt.in, got, block)
			}
		})
	}
}

// TestInertCleanDoesNotAllocate keeps `list` fast: a clean cell, ASCII
// or not, is returned as it is.
func TestInertCleanDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"job_01jd8x6r3eq4v5w6x7y8z9a0bc", "CalendarSync", "日本語 🎉"} {
		if n := testing.AllocsPerRun(100, func() { _ = Inert(s) }); n != 0 {
			t.Errorf("Inert(%q) allocates %v times", s, n)
		}
	}
}

func TestInertJSONKeepsTheValue(t *testing.T) {
	in := "a\x1b]0;pwned\x07\u009b\u0085\x7f\u202e🎉 日本"
	b, err := marshalJSON(map[string]string{in: in}, "")
	if err != nil {
		t.Fatal(err)
	}
	assertInert(t, string(b), false)
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if back[in] != in {
		t.Errorf("round trip changed the value: %q", back)
	}
	// YAML too: yaml.v3 escapes the controls, inertYAML the bidi ones.
	ios, _, out, _ := Test(false, false)
	if err := ios.Encode(FormatYAML, map[string]string{in: in}); err != nil {
		t.Fatal(err)
	}
	assertInert(t, out.String(), false)
	back = nil
	if err := yaml.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if back[in] != in {
		t.Errorf("YAML round trip changed the value: %q", back)
	}
	if got := string(inertJSON([]byte("\"a\x9bb\""))); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: got %q", got)
	}
}

// hostile is the payload every text field of the hostile fixtures holds:
// an OSC that retitles the window, BEL, a CSI that clears the screen, CR,
// NUL, C1 CSI, a bidi override, DEL, and a newline and tab.
const hostile = "\x1b]0;pwned\x07\x1b[2J\rX\x00\u009b31m\u202eevil\x7f\n\tend"

// hostileJSON is hostile as a JSON string, as a handler's data or output
// would hold it.
func hostileJSON() string {
	b, _ := json.Marshal(hostile)
	return string(b)
}

// hostileJob is a job whose every text field, its data, output, error,
// stack and retry history included, carries the payload, each after the
// field's name so that the golden files show which is which.
func hostileJob() *store.Job {
	h := func(field string) string { return field + ":" + hostile }
	hj := hostileJSON()
	return &store.Job{
		ID:           h("job_id"),
		Type:         h("type"),
		Status:       store.StatusFailed,
		Priority:     store.PriorityNormal,
		Data:         json.RawMessage(`{"note":` + hj + `,` + hj + `:["x",` + hj + `]}`),
		Output:       json.RawMessage(`{"out":` + hj + `}`),
		ErrorMessage: h("message"),
		ErrorCode:    h("code"),
		ErrorStack:   "Error: " + h("stack") + "\n    at run (x.js:1:1)\r\n",
		Attempts:     2,
		MaxAttempts:  5,
		ScheduledFor: at(10, 0, 0),
		CreatedAt:    at(10, 0, 0),
		StartedAt:    ptr(at(10, 0, 5)),
		CompletedAt:  ptr(at(10, 0, 30)),
		UpdatedAt:    at(10, 0, 30),
		UserID:       h("user"),
		ParentID:     h("parent"),
		WorkerID:     h("worker"),
		UniqueKey:    h("unique"),
		History: []store.Attempt{
			{Attempt: 1, At: at(9, 59, 0), Code: h("code1"), Message: h("history1"), WorkerID: h("worker1")},
			{Attempt: 2, At: at(10, 0, 30), Code: h("code2"), Message: h("history2")},
		},
	}
}

func hostileRelated() *store.Related {
	other := &store.Job{ID: "job_rel:" + hostile, Type: "reltype:" + hostile, Status: store.StatusPending}
	return &store.Related{Parent: other, Children: []*store.Job{other}}
}

// sgr is the colour and weight that jobctl itself writes on a terminal.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// assertInert fails if out holds anything a terminal would obey rather
// than draw: any control character but newline and tab (and, on a
// terminal, jobctl's own colours), DEL, a C1 control, a bidi control, a
// line separator, or a byte that is not UTF-8. It also checks that the
// payload is shown rather than dropped.
func assertInert(t *testing.T, out string, tty bool) {
	t.Helper()
	if tty {
		out = sgr.ReplaceAllString(out, "")
	}
	if !utf8.ValidString(out) {
		t.Errorf("output is not UTF-8: %q", out)
	}
	for i, r := range out {
		if r == '\n' || r == '\t' {
			continue
		}
		if unsafeRune(r) {
			t.Errorf("raw %U at byte %d: %q", r, i, out[max(0, i-30):min(len(out), i+30)])
			return
		}
	}
	if !strings.Contains(out, "pwned") {
		t.Errorf("the payload is not shown at all:\n%s", out)
	}
}

// runHostile renders with fn in both modes, asserts the output inert and
// checks it against testdata/hostile_NAME_MODE.golden, for people to read.
func runHostile(t *testing.T, name string, fn func(ios *IO) error) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ios, in, out, errOut := Test(true, m.tty)
			in.WriteString("n\n")
			if err := fn(ios); err != nil {
				t.Fatal(err)
			}
			assertInert(t, out.String()+errOut.String(), m.tty)
			checkGolden(t, "hostile_"+name+"_"+m.name, out.String(), errOut.String())
		})
	}
}

// TestHostileJobIsInert is the golden test of issue 8: a job whose every
// text field holds ESC, OSC, BEL, CR, NUL, C1 and a bidi override, in
// every output format of every view, on a terminal and piped. JSON and
// YAML are covered too: they escape as their syntax does.
func TestHostileJobIsInert(t *testing.T) {
	for _, f := range Formats {
		t.Run("list_"+f, func(t *testing.T) {
			runHostile(t, "list_"+f, func(ios *IO) error {
				return ios.Jobs(Format(f), []*store.Job{hostileJob(), listJobs()[1]}, 2)
			})
		})
		t.Run("show_"+f, func(t *testing.T) {
			runHostile(t, "show_"+f, func(ios *IO) error {
				return ios.JobDetail(Format(f), hostileJob(), hostileRelated())
			})
		})
	}
	stats := func() *store.Stats {
		return &store.Stats{
			ByStatus: map[store.Status]int64{store.StatusFailed: 3},
			ByType: []*store.TypeStats{{
				Type: "type:" + hostile, Counts: map[store.Status]int64{store.StatusFailed: 3},
			}},
			TopErrors: []store.ErrorCount{{Message: "message:" + hostile, Code: "code:" + hostile, Count: 3}},
			Now:       TestNow,
		}
	}
	for _, f := range []Format{FormatTable, FormatJSON, FormatYAML} {
		t.Run("stats_"+string(f), func(t *testing.T) {
			runHostile(t, "stats_"+string(f), func(ios *IO) error {
				return ios.Stats(f, stats(), "last 24h")
			})
		})
	}
	view := func() *DashboardView {
		return &DashboardView{
			Source: "sqlite:/tmp/" + hostile + ".db",
			Counts: map[store.Status]int64{store.StatusFailed: 1},
			Jobs:   []*store.Job{hostileJob(), listJobs()[1]},
		}
	}
	t.Run("dashboard", func(t *testing.T) {
		runHostile(t, "dashboard", func(ios *IO) error {
			ios.Width = 140
			frame := ios.Dashboard(view())
			checkFits(t, frame, 140)
			ios.Printf("%s", frame)
			return nil
		})
	})
	t.Run("dashboard_watch", func(t *testing.T) {
		// A watched frame is drawn between jobctl's own screen controls,
		// which are taken out before the check.
		ios, _, out, _ := Test(false, true)
		ios.Width = 140
		v := view()
		v.Every = 2e9
		sc := ios.OpenScreen()
		sc.Draw(ios.Dashboard(v))
		sc.Close()
		got := out.String()
		for _, own := range []string{altScreenOn, altScreenOff, cursorHide, cursorShow, clearScreen} {
			if !strings.Contains(got, own) {
				t.Fatalf("the watch frame lacks %q", own)
			}
			got = strings.ReplaceAll(got, own, "")
		}
		assertInert(t, got, true)
	})
	t.Run("health", func(t *testing.T) {
		runHostile(t, "health", func(ios *IO) error {
			return ios.Health(FormatTable, &health.Report{
				Status: health.Unhealthy,
				Checks: health.Checks{Database: "unreachable: " + hostile, Worker: "unknown"},
				Problems: []health.Problem{{
					Check: "database", Severity: health.Critical, Message: hostile,
				}},
			})
		})
	})
	t.Run("table", func(t *testing.T) {
		// The table audit, worker list and schedule list print: each of
		// their stored strings goes through Inert, as here.
		runHostile(t, "table", func(ios *IO) error {
			ios.Table([]string{"ACTOR", "STATUS"}, [][]string{{Inert("actor:" + hostile), ios.StatusText(store.Status(hostile))}})
			return nil
		})
	})
	t.Run("messages", func(t *testing.T) {
		// Refusals on stderr and the question before a bulk action.
		runHostile(t, "messages", func(ios *IO) error {
			ios.Warnf("jobctl: %s is FAILED: its unique key %s is held\n", "job_x"+hostile, hostile)
			_, err := ios.Confirm(context.Background(), "Delete 3 "+hostile+" jobs?")
			return err
		})
	})
}
