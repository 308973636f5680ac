package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// statsOrder is the order of the status summary and the per-type columns:
// the live statuses first, then the outcomes.
var statsOrder = []store.Status{
	store.StatusPending, store.StatusRunning, store.StatusRetrying, store.StatusCompleted,
	store.StatusFailed, store.StatusCancelled, store.StatusDead,
}

// Stats prints `jobctl stats`: the status summary, the counts and run times
// per type, the last hour's and day's outcomes and the most common errors
// for people, or the stats themselves as data. window says what the run
// times and errors cover, such as "last 24h".
func (ios *IO) Stats(f Format, st *store.Stats, window string) error {
	if !f.human() {
		out := *st
		if out.ByType == nil {
			out.ByType = []*store.TypeStats{}
		}
		return ios.Encode(f, &out)
	}
	ios.statsSummary(st.ByStatus)
	if err := ios.statsByType(st.ByType, window); err != nil {
		return err
	}
	ios.Printf("\nLast hour: %s completed, %s failed · Last 24h: %s completed, %s failed\n",
		Count(st.Completed1h), Count(st.Failed1h), Count(st.Completed24h), Count(st.Failed24h))
	return ios.statsTopErrors(st.TopErrors, window)
}

func (ios *IO) statsTitle(title string) {
	ios.Printf("%s\n", ios.paint(ios.styles.label, title+":"))
}

// statsSummary lists every status with its count, the counts aligned on
// the right.
func (ios *IO) statsSummary(counts map[store.Status]int64) {
	ios.statsTitle("Status Summary")
	nameWidth, countWidth := 0, 0
	for _, s := range statsOrder {
		nameWidth = max(nameWidth, len(s))
		countWidth = max(countWidth, len(Count(counts[s])))
	}
	var b strings.Builder
	for _, s := range statsOrder {
		// StatusText adds an icon and colour but keeps the name's width
		// differences, so padding by the bare name aligns both forms.
		fmt.Fprintf(&b, "  %s%s  %*s\n", ios.StatusText(s), strings.Repeat(" ", nameWidth-len(s)), countWidth, Count(counts[s]))
	}
	ios.Printf("%s", b.String())
}

func (ios *IO) statsByType(types []*store.TypeStats, window string) error {
	ios.Printf("\n")
	ios.statsTitle("By Type (P50 and P95 run times: " + window + ")")
	if len(types) == 0 {
		ios.Printf("  No jobs\n") // a section of the report, not a note about it
		return nil
	}
	headers := []string{"TYPE"}
	for _, s := range statsOrder {
		headers = append(headers, string(s))
	}
	headers = append(headers, "P50", "P95")
	rows := make([][]string, len(types))
	for i, ts := range types {
		row := []string{Inert(ts.Type)}
		for _, s := range statsOrder {
			row = append(row, Count(ts.Counts[s]))
		}
		rows[i] = append(row, statsRunTime(ts.Completed, ts.P50), statsRunTime(ts.Completed, ts.P95))
	}
	return ios.writeTable(headers, rows)
}

// statsRunTime is a percentile in seconds as a duration, or "-" when no job
// completed in the window.
func statsRunTime(completed int64, seconds float64) string {
	if completed == 0 {
		return "-"
	}
	return FormatDuration(time.Duration(seconds * float64(time.Second)))
}

// statsTopErrors is the guide's "Find common error patterns": the most frequent
// error messages of FAILED and DEAD jobs.
func (ios *IO) statsTopErrors(errs []store.ErrorCount, window string) error {
	ios.Printf("\n")
	ios.statsTitle("Top Errors (FAILED and DEAD, " + window + ")")
	if len(errs) == 0 {
		ios.Printf("  None\n")
		return nil
	}
	rows := make([][]string, len(errs))
	for i, e := range errs {
		msg := Inert(oneLine(e.Message))
		if ios.StdoutTTY {
			msg = truncate(msg, errorWidth)
		}
		rows[i] = []string{Count(e.Count), orDash(Inert(e.Code)), msg}
	}
	return ios.writeTable([]string{"COUNT", "CODE", "MESSAGE"}, rows)
}
