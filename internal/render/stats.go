package render

import (
	"bytes"
	"fmt"
	"math"
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
		return ios.Encode(f, exportStats(st))
	}
	ios.statsSummary(st.ByStatus)
	if err := ios.statsByType(st.ByType, window); err != nil {
		return err
	}
	hour := fmt.Sprintf("Last hour: %s completed, %s failed", Count(st.Completed1h), Count(st.Failed1h))
	day := fmt.Sprintf("Last 24h: %s completed, %s failed", Count(st.Completed24h), Count(st.Failed24h))
	if sep := " · "; !ios.StdoutTTY || cellWidth(hour+sep+day) <= ios.TerminalWidth() {
		ios.Printf("\n%s%s%s\n", hour, sep, day)
	} else {
		ios.Printf("\n%s\n%s\n", hour, day)
	}
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
	return ios.writeTable(headers, rows, byTypeFit)
}

// byTypeFit fits the per-type table: counts are never cut, only the
// status headers above them narrow, then the type names, which tell the
// rows apart.
var byTypeFit = Fit{
	Cut:   []string{"COMPLETED", "CANCELLED", "RETRYING", "PENDING", "RUNNING", "FAILED", "TYPE"},
	Hide:  []string{"P95", "P50", "CANCELLED", "RETRYING", "RUNNING", "PENDING", "DEAD", "FAILED", "COMPLETED"},
	Min:   map[string]int{"TYPE": 8, "PENDING": 5, "RUNNING": 5, "RETRYING": 5, "COMPLETED": 5, "FAILED": 6, "CANCELLED": 5},
	Whole: []string{"PENDING", "RUNNING", "RETRYING", "COMPLETED", "FAILED", "CANCELLED", "DEAD", "P50", "P95"},
}

// topErrorsFit lets the message take the shortfall, then the code.
var topErrorsFit = Fit{
	Keep: []string{"COUNT"},
	Cut:  []string{"MESSAGE", "CODE"},
	Hide: []string{"CODE", "MESSAGE"},
	Min:  map[string]int{"MESSAGE": 16, "CODE": 8},
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
	return ios.writeTable([]string{"COUNT", "CODE", "MESSAGE"}, rows, topErrorsFit)
}

// statsJSON is store.Stats for machine-readable output: every status
// counted, zeros included, run times to the millisecond and the time as
// Time.
type statsJSON struct {
	ByStatus     statusCounts     `json:"byStatus"`
	ByType       []typeStatsJSON  `json:"byType"`
	Completed1h  int64            `json:"completedLastHour"`
	Failed1h     int64            `json:"failedLastHour"`
	Completed24h int64            `json:"completedLast24h"`
	Failed24h    int64            `json:"failedLast24h"`
	TopErrors    []errorCountJSON `json:"topErrors"`
	Now          Time             `json:"now"`
}

type typeStatsJSON struct {
	Type      string       `json:"type"`
	Counts    statusCounts `json:"counts"`
	Completed int64        `json:"completedInWindow"`
	P50       float64      `json:"p50Seconds"`
	P95       float64      `json:"p95Seconds"`
}

type errorCountJSON struct {
	Message *string `json:"errorMessage"`
	Code    *string `json:"errorCode"`
	Count   int64   `json:"count"`
}

// statusCounts writes all seven statuses in statsOrder, zeros included,
// so a script reads .byStatus.DEAD without a default.
type statusCounts map[store.Status]int64

// MarshalJSON implements json.Marshaler.
func (c statusCounts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, s := range statsOrder {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%d", s, c[s])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func exportStats(st *store.Stats) *statsJSON {
	out := &statsJSON{
		ByStatus: statusCounts(st.ByStatus), ByType: make([]typeStatsJSON, len(st.ByType)),
		Completed1h: st.Completed1h, Failed1h: st.Failed1h, Completed24h: st.Completed24h, Failed24h: st.Failed24h,
		TopErrors: make([]errorCountJSON, len(st.TopErrors)), Now: Time(st.Now),
	}
	for i, ts := range st.ByType {
		out.ByType[i] = typeStatsJSON{Type: ts.Type, Counts: statusCounts(ts.Counts), Completed: ts.Completed,
			P50: roundMilli(ts.P50), P95: roundMilli(ts.P95)}
	}
	for i, e := range st.TopErrors {
		out.TopErrors[i] = errorCountJSON{Message: Opt(e.Message), Code: Opt(e.Code), Count: e.Count}
	}
	return out
}

// roundMilli rounds seconds to the millisecond, so that 46.926500000000004
// prints as 46.927.
func roundMilli(seconds float64) float64 {
	return math.Round(seconds*1000) / 1000
}
