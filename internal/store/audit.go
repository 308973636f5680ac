package store

import (
	"context"
	"encoding/json"
	"time"
)

// Audit actions, as the guide names them.
const (
	ActionRetry          = "JOB_RETRY"
	ActionCancel         = "JOB_CANCEL"
	ActionStart          = "JOB_START"
	ActionDelete         = "JOB_DELETE"
	ActionPurge          = "JOB_PURGE"
	ActionArchive        = "JOB_ARCHIVE"
	ActionRestore        = "JOB_RESTORE"
	ActionScheduleAdd    = "SCHEDULE_ADD"
	ActionScheduleRemove = "SCHEDULE_REMOVE"
	ActionUserAdd        = "USER_ADD"
	ActionUserRemove     = "USER_REMOVE"
	ActionUserPasswd     = "USER_PASSWD"
	ActionTokenCreate    = "TOKEN_CREATE"
	ActionTokenRevoke    = "TOKEN_REVOKE"
)

// AuditEntry is a row of "AuditLog".
type AuditEntry struct {
	ID         int64           `json:"id"`
	Action     string          `json:"action"`
	UserID     string          `json:"userId"`
	Resource   string          `json:"resource"`
	ResourceID string          `json:"resourceId"`
	Metadata   json.RawMessage `json:"metadata"`
	CreatedAt  time.Time       `json:"createdAt"`
	// DBRole is the Postgres login that wrote the row, set by the database
	// whatever the client sends; empty on SQLite, which has no roles, and
	// on rows older than the column.
	DBRole string `json:"dbRole,omitempty"`
}

// AuditFilter selects audit entries; empty fields match everything.
type AuditFilter struct {
	Actions    []string
	Actor      string
	ResourceID string
	Since      time.Time
	Limit      int
	// After is the ID of the last entry of the previous page (keyset
	// paging, newest first); an ID no entry has is ErrNotFound.
	After int64
}

// Schedules is the store's side of recurring jobs.
type Schedules interface {
	// AddSchedule inserts a schedule, audited as actor. A name in use is
	// ErrExists.
	AddSchedule(ctx context.Context, s *Schedule, actor string) error
	// RemoveSchedule deletes a schedule, audited as actor.
	RemoveSchedule(ctx context.Context, name, actor string) error
	ListSchedules(ctx context.Context) ([]*Schedule, error)
	// EnqueueDue enqueues one job for each schedule due at now and moves it
	// to next(schedule), exactly once however many workers call it at the
	// same time. It returns the jobs it enqueued.
	EnqueueDue(ctx context.Context, now time.Time, next func(*Schedule) (time.Time, error)) ([]*Job, error)
}
