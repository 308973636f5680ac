package render

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/jobctl/jobctl/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// icons are every status icon; piped output must contain none of them.
var icons = []string{"⏳", "⚡", "✅", "❌", "🔄", "🚫", "💀"}

// modes runs a view as a colour terminal and as a pipe, as the commands'
// own tests do.
var modes = []struct {
	name string
	tty  bool
}{{"tty", true}, {"piped", false}}

// checkGolden compares stdout and stderr with testdata/NAME.golden.
func checkGolden(t *testing.T, name, stdout, stderr string) {
	t.Helper()
	got := "-- stdout --\n" + stdout + "-- stderr --\n" + stderr
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file (run go test -update to accept):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// assertPlain fails when piped or colourless output carries styling.
func assertPlain(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "\x1b[") {
		t.Errorf("output contains an ANSI escape:\n%q", s)
	}
	for _, icon := range icons {
		if strings.Contains(s, icon) {
			t.Errorf("output contains icon %s:\n%s", icon, s)
		}
	}
}

// runModes renders with fn in both modes and checks the golden files.
func runModes(t *testing.T, name string, fn func(ios *IO) error) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ios, _, out, errOut := Test(false, m.tty)
			if err := fn(ios); err != nil {
				t.Fatal(err)
			}
			if !m.tty {
				assertPlain(t, out.String()+errOut.String())
			}
			checkGolden(t, name+"_"+m.name, out.String(), errOut.String())
		})
	}
}

func TestJobs(t *testing.T) {
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			runModes(t, "jobs_"+f, func(ios *IO) error {
				return ios.Jobs(Format(f), listJobs(), 1234)
			})
		})
	}
}

func TestJobsEmpty(t *testing.T) {
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			runModes(t, "jobs_empty_"+f, func(ios *IO) error {
				return ios.Jobs(Format(f), nil, 0)
			})
		})
	}
}

func TestJobDetail(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatJSON, FormatYAML} {
		t.Run(string(f), func(t *testing.T) {
			runModes(t, "detail_"+string(f), func(ios *IO) error {
				return ios.JobDetail(f, failedJob(), related())
			})
		})
	}
}

// TestJobDetailMinimal covers the sections a fresh job leaves out.
func TestJobDetailMinimal(t *testing.T) {
	runModes(t, "detail_minimal", func(ios *IO) error {
		j := listJobs()[2]
		return ios.JobDetail(FormatTable, j, &store.Related{})
	})
}

func TestStatusText(t *testing.T) {
	runModes(t, "status_text", func(ios *IO) error {
		for _, s := range store.Statuses {
			ios.Printf("%s\n", ios.StatusText(s))
		}
		return nil
	})
}

func TestDisableColor(t *testing.T) {
	ios, _, out, _ := Test(false, true)
	ios.DisableColor()
	if ios.ColorEnabled() {
		t.Fatal("ColorEnabled after DisableColor")
	}
	if err := ios.Jobs(FormatWide, listJobs(), 7); err != nil {
		t.Fatal(err)
	}
	if err := ios.JobDetail(FormatTable, failedJob(), related()); err != nil {
		t.Fatal(err)
	}
	assertPlain(t, out.String())
	// Still a terminal: relative times stay.
	if !strings.Contains(out.String(), "ago") {
		t.Errorf("terminal output without colour lost its relative times:\n%s", out)
	}
}

func TestColorWanted(t *testing.T) {
	tests := []struct {
		tty           bool
		noColor, term string
		want          bool
	}{
		{true, "", "xterm-256color", true},
		{false, "", "xterm-256color", false},
		{true, "1", "xterm-256color", false},
		{true, "", "dumb", false},
	}
	for _, tt := range tests {
		if got := colorWanted(tt.tty, tt.noColor, tt.term); got != tt.want {
			t.Errorf("colorWanted(%v, %q, %q) = %v, want %v", tt.tty, tt.noColor, tt.term, got, tt.want)
		}
	}
}

// TestTableAlignment checks that colour codes and wide icons do not shift
// columns: every line's last column starts at the same screen column.
func TestTableAlignment(t *testing.T) {
	ios, _, out, _ := Test(false, true)
	rows := [][]string{}
	for _, s := range store.Statuses {
		rows = append(rows, []string{"job_" + string(s), ios.StatusText(s), "end"})
	}
	ios.Table([]string{"ID", "STATUS", "LAST"}, rows)

	lastCol := regexp.MustCompile(`(LAST|end)$`)
	want := -1
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		plain := ansi.Strip(line)
		loc := lastCol.FindStringIndex(plain)
		if loc == nil {
			t.Fatalf("line %q has no last column", plain)
		}
		col := ansi.StringWidth(plain[:loc[0]])
		if want == -1 {
			want = col
		}
		if col != want {
			t.Errorf("line %q: last column at %d, want %d\n%s", plain, col, want, out)
		}
	}
}

func TestTablePipedIsTSV(t *testing.T) {
	ios, _, out, _ := Test(false, false)
	ios.Table([]string{"VERSION", "NAME"}, [][]string{{"1", "init\tschema"}, {"2", "multi\nline"}})
	want := "VERSION\tNAME\n1\tinit schema\n2\tmulti line\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestIDs(t *testing.T) {
	ios, _, out, _ := Test(false, true)
	ios.IDs([]string{"job_1", "job_2"})
	if out.String() != "job_1\njob_2\n" {
		t.Errorf("got %q", out)
	}
}

func TestEncodeJSONL(t *testing.T) {
	ios, _, out, _ := Test(false, false)
	if err := ios.Encode(FormatJSONL, []map[string]any{{"a": 1}, {"b": "<x>"}}); err != nil {
		t.Fatal(err)
	}
	if err := ios.Encode(FormatJSONL, map[string]int{"c": 3}); err != nil {
		t.Fatal(err)
	}
	want := "{\"a\":1}\n{\"b\":\"<x>\"}\n{\"c\":3}\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestEncodeYAMLQuotesAmbiguousStrings(t *testing.T) {
	ios, _, out, _ := Test(false, false)
	v := map[string]any{"s": "123", "b": "true", "n": nil, "list": []int{}, "text": "a\nb\n"}
	if err := ios.Encode(FormatYAML, v); err != nil {
		t.Fatal(err)
	}
	want := "b: \"true\"\nlist: []\nn: null\ns: \"123\"\ntext: |\n  a\n  b\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestEncodeRejectsTableFormats(t *testing.T) {
	ios, _, _, _ := Test(false, false)
	if err := ios.Encode(FormatCSV, 1); err == nil {
		t.Error("Encode(csv) did not fail")
	}
}

func TestStartProgressIsSilentOffTerminal(t *testing.T) {
	for _, m := range modes {
		ios, _, out, errOut := Test(false, m.tty)
		p := ios.StartProgress("archived")
		p.Update(10, 100)
		p.Stop()
		if out.Len()+errOut.Len() != 0 {
			t.Errorf("%s: progress wrote %q / %q", m.name, out, errOut)
		}
	}
}

// TestJobWriter: jobs written one at a time read exactly as the whole
// slice does through -o json and -o jsonl, empty included.
func TestJobWriter(t *testing.T) {
	all := listJobs()
	for _, f := range []Format{FormatJSON, FormatJSONL} {
		for _, n := range []int{0, 1, len(all)} {
			ios, _, want, _ := Test(false, false)
			if err := ios.Jobs(f, all[:n], int64(n)); err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			jw := NewJobWriter(&got, f)
			for _, j := range all[:n] {
				if err := jw.Write(j); err != nil {
					t.Fatal(err)
				}
			}
			if err := jw.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s, %d jobs: JobWriter wrote\n%s\nlist writes\n%s", f, n, got.String(), want)
			}
		}
	}
}
