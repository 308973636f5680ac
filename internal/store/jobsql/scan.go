package jobsql

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// TimeLayout is how SQLite stores times: fixed-width UTC with milliseconds,
// so text order is time order and indexes on time columns work.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime renders t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Scanner is the Scan method of a pgx or database/sql row.
type Scanner interface{ Scan(dest ...any) error }

// ScanJob reads one row selected with JobColumns (plus "archivedAt" when
// archived). The scan targets accept both drivers' representations: Postgres
// hands over time.Time and bool, SQLite text and integers.
func ScanJob(row Scanner, archived bool) (*store.Job, error) {
	var (
		j                                         store.Job
		status, priority                          text
		errMsg, errCode, errStack                 text
		userID, parentID, workerID, uniqueKey     text
		data, output, history                     rawJSON
		scheduled, created, started, done, update timestamp
		archivedAt                                timestamp
		cancel                                    boolean
	)
	dest := []any{
		&j.ID, &j.Type, &status, &priority, &data, &output, &errMsg, &errCode, &errStack,
		&j.Attempts, &j.MaxAttempts, &scheduled, &created, &started, &done, &update,
		&userID, &parentID, &workerID, &cancel, &uniqueKey, &j.WaitingOn, &history,
	}
	if archived {
		dest = append(dest, &archivedAt)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	j.Status, j.Priority = store.Status(status), store.Priority(priority)
	j.Data, j.Output = json.RawMessage(data), json.RawMessage(output)
	j.ErrorMessage, j.ErrorCode, j.ErrorStack = string(errMsg), string(errCode), string(errStack)
	j.UserID, j.ParentID, j.WorkerID, j.UniqueKey = string(userID), string(parentID), string(workerID), string(uniqueKey)
	j.CancelRequested = bool(cancel)
	j.ScheduledFor, j.CreatedAt, j.UpdatedAt = scheduled.value(), created.value(), update.value()
	j.StartedAt, j.CompletedAt = started.ptr(), done.ptr()
	if archived {
		j.ArchivedAt = archivedAt.ptr()
	}
	if len(history) > 0 {
		if err := json.Unmarshal(history, &j.History); err != nil {
			return nil, fmt.Errorf("job %s: errorHistory: %w", j.ID, err)
		}
	}
	return &j, nil
}

// text scans a nullable text column; NULL becomes "".
type text string

func (t *text) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = ""
	case string:
		*t = text(x)
	case []byte:
		*t = text(x)
	default:
		return fmt.Errorf("text column: unexpected %T", v)
	}
	return nil
}

// rawJSON scans a json/jsonb (Postgres) or JSON text (SQLite) column; NULL
// stays nil so it encodes as null.
type rawJSON []byte

func (r *rawJSON) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*r = nil
	case string:
		*r = rawJSON(x)
	case []byte:
		*r = append(rawJSON(nil), x...)
	default:
		// pgx decodes json for database/sql scanners into Go values.
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		*r = b
	}
	return nil
}

// timestamp scans timestamptz (Postgres) or TimeLayout text (SQLite).
type timestamp struct {
	t     time.Time
	valid bool
}

func (ts *timestamp) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*ts = timestamp{}
		return nil
	case time.Time:
		*ts = timestamp{x.UTC(), true}
		return nil
	case string:
		return ts.parse(x)
	case []byte:
		return ts.parse(string(x))
	}
	return fmt.Errorf("time column: unexpected %T", v)
}

func (ts *timestamp) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("time column: %w", err)
	}
	*ts = timestamp{t.UTC(), true}
	return nil
}

func (ts timestamp) value() time.Time { return ts.t }

func (ts timestamp) ptr() *time.Time {
	if !ts.valid {
		return nil
	}
	t := ts.t
	return &t
}

// boolean scans bool (Postgres) or 0/1 (SQLite).
type boolean bool

func (b *boolean) Scan(v any) error {
	switch x := v.(type) {
	case bool:
		*b = boolean(x)
	case int64:
		*b = x != 0
	case nil:
		*b = false
	default:
		return fmt.Errorf("bool column: unexpected %T", v)
	}
	return nil
}
