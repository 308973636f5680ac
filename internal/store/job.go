// Package store defines jobctl's job store: the model, the query parameters
// and the Store interface that the Postgres and SQLite backends implement.
package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Status is a job's place in its lifecycle. Values are upper case, as in the
// guide's SQL runbook.
type Status string

// The seven statuses of the guide's "Status Definitions" table.
const (
	StatusPending   Status = "PENDING"
	StatusRunning   Status = "RUNNING"
	StatusCompleted Status = "COMPLETED"
	StatusFailed    Status = "FAILED"
	StatusRetrying  Status = "RETRYING"
	StatusCancelled Status = "CANCELLED"
	StatusDead      Status = "DEAD"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{
	StatusPending, StatusRunning, StatusCompleted, StatusFailed,
	StatusRetrying, StatusCancelled, StatusDead,
}

// ParseStatus accepts a status in any case ("failed", "Failed", "FAILED").
func ParseStatus(s string) (Status, error) {
	u := Status(strings.ToUpper(strings.TrimSpace(s)))
	for _, st := range Statuses {
		if u == st {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want one of %s)", s, joinStatuses(Statuses))
}

// Final reports whether no worker will touch a job in this status again
// without an operator acting on it.
func (s Status) Final() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusCancelled, StatusDead:
		return true
	}
	return false
}

// Live reports whether the job is still on its way to an outcome. A unique
// key is held only by a live job.
func (s Status) Live() bool {
	return s == StatusPending || s == StatusRunning || s == StatusRetrying
}

func joinStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Priority orders claimable jobs: higher first.
type Priority string

// The guide's four priorities.
const (
	PriorityLow      Priority = "LOW"
	PriorityNormal   Priority = "NORMAL"
	PriorityHigh     Priority = "HIGH"
	PriorityCritical Priority = "CRITICAL"
)

// Priorities lists every priority from lowest to highest.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityCritical}

// ParsePriority accepts a priority in any case.
func ParsePriority(s string) (Priority, error) {
	u := Priority(strings.ToUpper(strings.TrimSpace(s)))
	for _, p := range Priorities {
		if u == p {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown priority %q (want LOW, NORMAL, HIGH or CRITICAL)", s)
}

// Rank is the priority's sort key: 0 for LOW up to 3 for CRITICAL. The
// schemas store it beside the name so claiming can use an index.
func (p Priority) Rank() int {
	for i, q := range Priorities {
		if p == q {
			return i
		}
	}
	return 1
}

// Attempt is one failed attempt in a job's retry history.
type Attempt struct {
	Attempt  int       `json:"attempt"`
	At       time.Time `json:"at"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	WorkerID string    `json:"workerId,omitempty"`
}

// Job is one row of "Job" (or "JobArchive", when ArchivedAt is set). JSON and
// YAML names are the schema's column names.
type Job struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Status          Status          `json:"status"`
	Priority        Priority        `json:"priority"`
	Data            json.RawMessage `json:"data"`
	Output          json.RawMessage `json:"output"`
	ErrorMessage    string          `json:"errorMessage"`
	ErrorCode       string          `json:"errorCode"`
	ErrorStack      string          `json:"errorStack"`
	Attempts        int             `json:"attempts"`
	MaxAttempts     int             `json:"maxAttempts"`
	ScheduledFor    time.Time       `json:"scheduledFor"`
	CreatedAt       time.Time       `json:"createdAt"`
	StartedAt       *time.Time      `json:"startedAt"`
	CompletedAt     *time.Time      `json:"completedAt"`
	UpdatedAt       time.Time       `json:"updatedAt"`
	UserID          string          `json:"userId"`
	ParentID        string          `json:"parentId"`
	WorkerID        string          `json:"workerId"`
	CancelRequested bool            `json:"cancelRequested"`
	UniqueKey       string          `json:"uniqueKey"`
	DependsOn       []string        `json:"dependsOn,omitempty"` // filled by Get only
	WaitingOn       int             `json:"waitingOn"`
	History         []Attempt       `json:"errorHistory"`
	ArchivedAt      *time.Time      `json:"archivedAt,omitempty"`
}

// Duration is how long the job ran, or zero when it has not finished.
func (j *Job) Duration() time.Duration {
	if j.StartedAt == nil || j.CompletedAt == nil {
		return 0
	}
	return j.CompletedAt.Sub(*j.StartedAt)
}

// Related holds the jobs around one job: the guide's "Related jobs".
type Related struct {
	Parent       *Job   `json:"parent,omitempty"`
	Children     []*Job `json:"children"`
	Dependencies []*Job `json:"dependencies"`
	Dependents   []*Job `json:"dependents"`
}
