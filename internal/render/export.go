package render

import (
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Time is a time in machine-readable output: RFC 3339 in UTC with exactly
// three fractional digits (2026-12-02T06:56:17.123Z), whatever the
// backend's precision or time zone. The zero time is null.
type Time time.Time

// TimeLayout is how Time writes itself.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + tt.UTC().Format(TimeLayout) + `"`), nil
}

// TimePtr is t as a Time, or nil (null) when t is nil.
func TimePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// Opt is s, or nil (null) when s is empty: an absent field is null in
// machine-readable output, never "".
func Opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// jobJSON is a job fit for machine-readable output: the schema's column
// names in store.Job's order, times as Time, absent strings as null, empty
// JSON values as null rather than an encoding error, and an empty history
// as [] so that jq never meets null where it expects an array.
type jobJSON struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Status          store.Status    `json:"status"`
	Priority        store.Priority  `json:"priority"`
	Data            json.RawMessage `json:"data"`
	Output          json.RawMessage `json:"output"`
	ErrorMessage    *string         `json:"errorMessage"`
	ErrorCode       *string         `json:"errorCode"`
	ErrorStack      *string         `json:"errorStack"`
	Attempts        int             `json:"attempts"`
	MaxAttempts     int             `json:"maxAttempts"`
	ScheduledFor    Time            `json:"scheduledFor"`
	CreatedAt       Time            `json:"createdAt"`
	StartedAt       *Time           `json:"startedAt"`
	CompletedAt     *Time           `json:"completedAt"`
	UpdatedAt       Time            `json:"updatedAt"`
	UserID          *string         `json:"userId"`
	ParentID        *string         `json:"parentId"`
	WorkerID        *string         `json:"workerId"`
	CancelRequested bool            `json:"cancelRequested"`
	UniqueKey       *string         `json:"uniqueKey"`
	DependsOn       []string        `json:"dependsOn,omitempty"` // filled by Get only
	WaitingOn       int             `json:"waitingOn"`
	History         []attemptJSON   `json:"errorHistory"`
	ArchivedAt      *Time           `json:"archivedAt,omitempty"`
}

type attemptJSON struct {
	Attempt  int     `json:"attempt"`
	At       Time    `json:"at"`
	Code     *string `json:"code"`
	Message  *string `json:"message"`
	WorkerID *string `json:"workerId"`
}

func exportJob(j *store.Job) *jobJSON {
	if j == nil {
		return nil
	}
	c := &jobJSON{
		ID: j.ID, Type: j.Type, Status: j.Status, Priority: j.Priority,
		Data: rawOrNull(j.Data), Output: rawOrNull(j.Output),
		ErrorMessage: Opt(j.ErrorMessage), ErrorCode: Opt(j.ErrorCode), ErrorStack: Opt(j.ErrorStack),
		Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		ScheduledFor: Time(j.ScheduledFor), CreatedAt: Time(j.CreatedAt),
		StartedAt: TimePtr(j.StartedAt), CompletedAt: TimePtr(j.CompletedAt), UpdatedAt: Time(j.UpdatedAt),
		UserID: Opt(j.UserID), ParentID: Opt(j.ParentID), WorkerID: Opt(j.WorkerID),
		CancelRequested: j.CancelRequested, UniqueKey: Opt(j.UniqueKey),
		DependsOn: j.DependsOn, WaitingOn: j.WaitingOn,
		History:    make([]attemptJSON, len(j.History)),
		ArchivedAt: TimePtr(j.ArchivedAt),
	}
	for i, a := range j.History {
		c.History[i] = attemptJSON{Attempt: a.Attempt, At: Time(a.At), Code: Opt(a.Code), Message: Opt(a.Message), WorkerID: Opt(a.WorkerID)}
	}
	return c
}

// exportJobs never returns nil, so an empty listing prints [] in JSON.
func exportJobs(jobs []*store.Job) []*jobJSON {
	out := make([]*jobJSON, len(jobs))
	for i, j := range jobs {
		out[i] = exportJob(j)
	}
	return out
}

type relatedJSON struct {
	Parent       *jobJSON   `json:"parent,omitempty"`
	Children     []*jobJSON `json:"children"`
	Dependencies []*jobJSON `json:"dependencies"`
	Dependents   []*jobJSON `json:"dependents"`
}

func exportRelated(r *store.Related) *relatedJSON {
	if r == nil {
		return nil
	}
	return &relatedJSON{
		Parent:       exportJob(r.Parent),
		Children:     exportJobs(r.Children),
		Dependencies: exportJobs(r.Dependencies),
		Dependents:   exportJobs(r.Dependents),
	}
}

// JobJSON, JobsJSON, RelatedJSON and StatsJSON are the machine-readable
// views -o json prints, for the REST API to answer with the same shapes.
func JobJSON(j *store.Job) any         { return exportJob(j) }
func JobsJSON(jobs []*store.Job) any   { return exportJobs(jobs) }
func RelatedJSON(r *store.Related) any { return exportRelated(r) }
func StatsJSON(st *store.Stats) any    { return exportStats(st) }

// rawOrNull maps an empty RawMessage, which encoding/json rejects, to nil,
// which it writes as null.
func rawOrNull(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return m
}

type auditJSON struct {
	ID         int64           `json:"id"`
	Action     string          `json:"action"`
	UserID     *string         `json:"userId"`
	Resource   string          `json:"resource"`
	ResourceID string          `json:"resourceId"`
	Metadata   json.RawMessage `json:"metadata"`
	CreatedAt  Time            `json:"createdAt"`
	DBRole     *string         `json:"dbRole"` // null on SQLite, which has no roles
}

// AuditJSON is the audit log fit for -o json, jsonl and yaml.
func AuditJSON(entries []*store.AuditEntry) any {
	out := make([]auditJSON, len(entries))
	for i, e := range entries {
		out[i] = auditJSON{ID: e.ID, Action: e.Action, UserID: Opt(e.UserID), Resource: e.Resource, ResourceID: e.ResourceID,
			Metadata: rawOrNull(e.Metadata), CreatedAt: Time(e.CreatedAt), DBRole: Opt(e.DBRole)}
	}
	return out
}

type workerJSON struct {
	ID          string   `json:"id"`
	Host        *string  `json:"host"`
	PID         int      `json:"pid"`
	StartedAt   Time     `json:"startedAt"`
	LastPing    Time     `json:"lastPing"`
	Types       []string `json:"types"`
	Concurrency int      `json:"concurrency"`
	JobsDone    int64    `json:"jobsDone"`
	Running     int64    `json:"running"`
}

// WorkersJSON is `worker list` fit for -o json, jsonl and yaml.
func WorkersJSON(ws []*store.WorkerInfo) any {
	out := make([]workerJSON, len(ws))
	for i, w := range ws {
		types := w.Types
		if types == nil {
			types = []string{}
		}
		out[i] = workerJSON{ID: w.ID, Host: Opt(w.Host), PID: w.PID, StartedAt: Time(w.StartedAt), LastPing: Time(w.LastPing),
			Types: types, Concurrency: w.Concurrency, JobsDone: w.JobsDone, Running: w.Running}
	}
	return out
}

type scheduleJSON struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Cron      string          `json:"schedule"`
	Timezone  *string         `json:"timezone"`
	Data      json.RawMessage `json:"data"`
	Priority  store.Priority  `json:"priority"`
	NextRunAt Time            `json:"nextRunAt"`
	LastRunAt *Time           `json:"lastRunAt"`
	LastJobID *string         `json:"lastJobId"`
	CreatedAt Time            `json:"createdAt"`
}

// SchedulesJSON is `schedule list` fit for -o json, jsonl and yaml.
func SchedulesJSON(ss []*store.Schedule) any {
	out := make([]scheduleJSON, len(ss))
	for i, s := range ss {
		out[i] = scheduleJSON{Name: s.Name, Type: s.Type, Cron: s.Cron, Timezone: Opt(s.Timezone), Data: rawOrNull(s.Data),
			Priority: s.Priority, NextRunAt: Time(s.NextRunAt), LastRunAt: TimePtr(s.LastRunAt), LastJobID: Opt(s.LastJobID), CreatedAt: Time(s.CreatedAt)}
	}
	return out
}

type migrationJSON struct {
	Version   int    `json:"version"`
	Name      string `json:"name"`
	AppliedAt *Time  `json:"appliedAt"`
}

// MigrationsJSON is `migrate status` fit for -o json, jsonl and yaml.
func MigrationsJSON(ms []store.Migration) any {
	out := make([]migrationJSON, len(ms))
	for i, m := range ms {
		out[i] = migrationJSON{Version: m.Version, Name: m.Name, AppliedAt: TimePtr(m.AppliedAt)}
	}
	return out
}
