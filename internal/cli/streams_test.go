package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

var updateStreams = flag.Bool("update-streams", false, "rewrite testdata/streams_*.golden")

// TestStreamsGolden runs commands whose notes, summaries and questions
// moved to stderr, once on a terminal and once piped, and compares each
// command's stdout, stderr and exit code with testdata/streams_MODE.golden:
// stdout holds rows, IDs and JSON only.
func TestStreamsGolden(t *testing.T) {
	for _, mode := range []struct {
		name string
		tty  bool
	}{{"tty", true}, {"piped", false}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newCLIEnv(t, mode.tty)
			now := time.Date(2025, 10, 25, 10, 0, 0, 0, time.UTC)
			var jobs []*store.Job
			for i, st := range []store.Status{store.StatusPending, store.StatusPending, store.StatusFailed, store.StatusCompleted} {
				typ := map[store.Status]string{store.StatusPending: "Pend", store.StatusFailed: "Fail", store.StatusCompleted: "Done"}[st]
				j := &store.Job{ID: fmt.Sprintf("job_01k8streams000000000000%02d", i), Type: typ, Status: st, Priority: store.PriorityNormal,
					Data: json.RawMessage(`{}`), MaxAttempts: 5, ScheduledFor: now, CreatedAt: now, UpdatedAt: now}
				if st.Final() {
					j.StartedAt, j.CompletedAt = &now, &now
				}
				jobs = append(jobs, j)
			}
			if err := e.store().Import(context.Background(), jobs); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, c := range []struct {
				stdin string
				args  []string
			}{
				{"", []string{"list", "--type", "Nothing"}},
				{"", []string{"audit", "--action", "purge"}},
				{"", []string{"worker", "list"}},
				{"", []string{"schedule", "list"}},
				{"", []string{"cancel", "--type", "Pend", "--dry-run"}},
				{"", []string{"cancel", "--type", "Pend", "--yes"}},
				{"", []string{"retry", "--type", "Pend", "--yes", "-q"}},
				{"", []string{"retry", "--type", "Pend", "--yes"}},
				{"", []string{"retry", "job_01k8streams00000000000099"}},
				{"n\n", []string{"delete", jobs[3].ID}},
				{"", []string{"delete", jobs[3].ID, "--yes"}},
				{`{"type":"Bulk"}` + "\n", []string{"enqueue", "--from", "-"}},
				{"", []string{"schedule", "add", "nightly", "--type", "Nightly", "--cron", "0 3 * * *"}},
				{"", []string{"schedule", "rm", "nightly"}},
			} {
				code := e.run(c.stdin, c.args...)
				fmt.Fprintf(&b, "$ jobctl %s\n-- stdout --\n%s-- stderr --\n%s-- exit %d --\n\n",
					strings.Join(c.args, " "), e.out, scrubNextRun(e.errOut.String()), code)
			}
			path := filepath.Join("testdata", "streams_"+mode.name+".golden")
			if *updateStreams {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update-streams to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs (run go test -update-streams to accept):\n got:\n%s\nwant:\n%s", path, b.String(), want)
			}
		})
	}
}

// scrubNextRun hides the one wall-clock time in the transcript: when a new
// schedule next runs.
func scrubNextRun(s string) string {
	if i := strings.Index(s, "next run "); i >= 0 {
		if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
			return s[:i] + "next run TIME" + s[i+j:]
		}
	}
	return s
}
