package render

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// errorWidth caps the wide table's ERROR column on a terminal, where a
// long message would push every row past the screen's edge.
const errorWidth = 60

// listFit fits `list` to the terminal. A row is its ID and status, so
// those are never cut; the type goes last. Times, durations and attempts
// would read wrong if cut, so only their headers narrow, and they are left
// out when the rest does not fit, the times an operator looks at least
// first.
var listFit = Fit{
	Keep:  []string{"ID", "STATUS"},
	Cut:   []string{"COMPLETED", "STARTED", "CREATED", "DURATION", "ATTEMPTS", "TYPE"},
	Hide:  []string{"STARTED", "COMPLETED", "ATTEMPTS", "DURATION", "CREATED", "TYPE"},
	Min:   map[string]int{"TYPE": 8, "CREATED": 5, "STARTED": 5, "COMPLETED": 5, "DURATION": 5, "ATTEMPTS": 5},
	Whole: []string{"CREATED", "STARTED", "COMPLETED", "DURATION", "ATTEMPTS"},
}

// wideFit fits `list -o wide`, whose point is the error: the ERROR column
// takes the whole shortfall while it can, and the columns wide adds are
// the first to go after it.
var wideFit = Fit{
	Keep: listFit.Keep,
	Cut: append([]string{"ERROR", "USER", "PARENT", "SCHEDULED", "PRIORITY"},
		listFit.Cut...),
	Hide: append([]string{"USER", "PARENT", "SCHEDULED", "PRIORITY", "STARTED", "COMPLETED", "ATTEMPTS", "DURATION", "CREATED", "ERROR"},
		"TYPE"),
	Min: map[string]int{"TYPE": 8, "CREATED": 5, "STARTED": 5, "COMPLETED": 5, "DURATION": 5, "ATTEMPTS": 5,
		"PRIORITY": 5, "SCHEDULED": 5, "USER": 6, "PARENT": 8, "ERROR": 16},
	Whole: append([]string{"PRIORITY", "SCHEDULED"}, listFit.Whole...),
	Left:  []string{"PARENT"},
}

// Jobs prints a listing of jobs, of which total match the filter.
func (ios *IO) Jobs(f Format, jobs []*store.Job, total int64) error {
	switch f {
	case "", FormatTable, FormatWide:
		return ios.jobsTable(f == FormatWide, jobs, total)
	case FormatCSV:
		return ios.jobsCSV(jobs)
	}
	return ios.Encode(f, exportJobs(jobs))
}

func (ios *IO) jobsTable(wide bool, jobs []*store.Job, total int64) error {
	if len(jobs) == 0 {
		ios.note("No jobs found\n")
		return nil
	}
	headers := []string{"ID", "TYPE", "STATUS", "CREATED", "STARTED", "COMPLETED", "DURATION", "ATTEMPTS"}
	if wide {
		headers = append(headers, "PRIORITY", "SCHEDULED", "USER", "PARENT", "ERROR")
	}
	rows := make([][]string, len(jobs))
	for i, j := range jobs {
		rows[i] = ios.jobRow(j, wide)
	}
	fit := listFit
	if wide {
		fit = wideFit
	}
	if err := ios.writeTable(headers, rows, fit); err != nil {
		return err
	}
	ios.note("Showing %s of %s jobs\n", Count(int64(len(jobs))), Count(total))
	return nil
}

// note writes a line about the output rather than of it (a footer, an
// empty result) to stderr, as gh does: a terminal still shows it, and a
// pipe gets only rows, so `| wc -l` counts jobs.
func (ios *IO) note(format string, a ...any) { fmt.Fprintf(ios.ErrOut, format, a...) }

// Note writes a line about a listing, such as its footer, where the jobs
// listing writes its own.
func (ios *IO) Note(format string, a ...any) { ios.note(format, a...) }

func (ios *IO) jobRow(j *store.Job, wide bool) []string {
	row := []string{
		Inert(j.ID),
		Inert(j.Type),
		ios.StatusText(j.Status),
		ios.cellTime(&j.CreatedAt),
		ios.cellTime(j.StartedAt),
		ios.cellTime(j.CompletedAt),
		durationCell(j),
		fmt.Sprintf("%d/%d", j.Attempts, j.MaxAttempts),
	}
	if !wide {
		return row
	}
	return append(row,
		string(j.Priority),
		ios.cellTime(&j.ScheduledFor),
		orDash(Inert(j.UserID)),
		orDash(Inert(j.ParentID)),
		ios.errorCell(j),
	)
}

// cellTime is relative for people and RFC 3339 for scripts.
func (ios *IO) cellTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	if ios.StdoutTTY {
		return RelativeTime(*t, ios.now())
	}
	return t.UTC().Format(time.RFC3339)
}

func durationCell(j *store.Job) string {
	if j.StartedAt == nil || j.CompletedAt == nil {
		return "-"
	}
	return FormatDuration(j.Duration())
}

func (ios *IO) errorCell(j *store.Job) string {
	msg := Inert(oneLine(errorSummary(j)))
	if msg == "" {
		return "-"
	}
	if ios.StdoutTTY {
		return truncate(msg, errorWidth)
	}
	return msg
}

// errorSummary is "CODE: message", or whichever half is present.
func errorSummary(j *store.Job) string {
	switch {
	case j.ErrorCode != "" && j.ErrorMessage != "":
		return j.ErrorCode + ": " + j.ErrorMessage
	case j.ErrorCode != "":
		return j.ErrorCode
	}
	return j.ErrorMessage
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// csvHeader names the CSV columns after the schema, like JSON does.
var csvHeader = []string{
	"id", "type", "status", "priority", "attempts", "maxAttempts",
	"scheduledFor", "createdAt", "startedAt", "completedAt",
	"userId", "parentId", "errorCode", "errorMessage",
}

func (ios *IO) jobsCSV(jobs []*store.Job) error { return WriteJobsCSV(ios.Out, jobs, true) }

// WriteJobsCSV writes jobs as `list -o csv` does, with the header row when
// header is set, so a listing streamed page by page has it once.
func WriteJobsCSV(out io.Writer, jobs []*store.Job, header bool) error {
	w := csv.NewWriter(out)
	if header {
		if err := w.Write(csvHeader); err != nil {
			return err
		}
	}
	for _, j := range jobs {
		if err := w.Write(csvRow(j)); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// csvRow makes stored text inert as a table does, though CSV is data: a
// CSV file is read on a terminal too (cat, column -t). Newlines and tabs,
// which CSV quotes, stay as they are.
func csvRow(j *store.Job) []string {
	return []string{
		InertBlock(j.ID), InertBlock(j.Type), string(j.Status), string(j.Priority),
		strconv.Itoa(j.Attempts), strconv.Itoa(j.MaxAttempts),
		csvTime(&j.ScheduledFor), csvTime(&j.CreatedAt),
		csvTime(j.StartedAt), csvTime(j.CompletedAt),
		InertBlock(j.UserID), InertBlock(j.ParentID), InertBlock(j.ErrorCode), InertBlock(j.ErrorMessage),
	}
}

// csvTime is written as JSON writes a time: CSV is for exporting data.
func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// TimeCell renders a time for a table cell: relative on a terminal, RFC 3339
// when piped.
func (ios *IO) TimeCell(t time.Time) string { return ios.cellTime(&t) }
