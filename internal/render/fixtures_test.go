package render

import (
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// at is a fixed time on the test day, relative to TestNow (12:00 UTC).
func at(hour, minute, sec int) time.Time {
	return time.Date(2025, 10, 25, hour, minute, sec, 0, time.UTC)
}

func ptr(t time.Time) *time.Time { return &t }

// failedJob is the guide's example: a CalendarSync that failed for good.
func failedJob() *store.Job {
	return &store.Job{
		ID:           "job_12345abc",
		Type:         "CalendarSync",
		Status:       store.StatusFailed,
		Priority:     store.PriorityNormal,
		Data:         json.RawMessage(`{"userId":"user_123","provider":"google","calendars":["work","home"],"options":{"full":true,"since":"2025-10-01"}}`),
		ErrorMessage: "Token refresh failed: Invalid refresh token",
		ErrorCode:    "AUTH_ERROR",
		ErrorStack:   "Error: Token refresh failed\n    at refreshToken (auth.js:42:11)\n    at sync (calendar.js:10:5)\n",
		Attempts:     3,
		MaxAttempts:  5,
		ScheduledFor: at(10, 0, 0),
		// A backend may hand back local times; every output shows UTC.
		CreatedAt:   at(10, 0, 0).In(time.FixedZone("CEST", 2*60*60)),
		StartedAt:   ptr(at(10, 0, 5)),
		CompletedAt: ptr(at(10, 0, 30)),
		UpdatedAt:   at(10, 0, 30),
		UserID:      "user_123",
		WorkerID:    "worker-a:4242",
		DependsOn:   []string{"job_01jdpend"},
		History: []store.Attempt{
			{Attempt: 1, At: at(9, 58, 5), Code: "NETWORK_ERROR", Message: "Network timeout", WorkerID: "worker-a:4242"},
			{Attempt: 2, At: at(9, 59, 5), Code: "RATE_LIMIT", Message: "Too many\nrequests"},
			{Attempt: 3, At: at(10, 0, 30), Code: "AUTH_ERROR", Message: "Token refresh failed: Invalid refresh token"},
		},
	}
}

// listJobs has one job in each status, with the awkward values a listing
// must survive: no data, a long multi-line error, CSV metacharacters.
func listJobs() []*store.Job {
	return []*store.Job{
		failedJob(),
		{
			ID: "job_01jdrun", Type: "EmailSend", Status: store.StatusRunning, Priority: store.PriorityHigh,
			Data: json.RawMessage(`{"to":"a@example.com"}`), Attempts: 1, MaxAttempts: 5,
			ScheduledFor: at(11, 58, 0), CreatedAt: at(11, 58, 0), StartedAt: ptr(at(11, 59, 58)),
			UpdatedAt: at(11, 59, 58), WorkerID: "worker-b:1", ParentID: "job_12345abc",
		},
		{
			ID: "job_01jdpend", Type: "ReportBuild", Status: store.StatusPending, Priority: store.PriorityLow,
			Attempts: 0, MaxAttempts: 3, ScheduledFor: at(12, 5, 0), CreatedAt: at(11, 59, 59),
			UpdatedAt: at(11, 59, 59),
		},
		{
			ID: "job_01jddone", Type: "Thumbnail", Status: store.StatusCompleted, Priority: store.PriorityNormal,
			Data: json.RawMessage(`{}`), Output: json.RawMessage(`{"width":640,"tags":["a","b"],"meta":{"ok":true}}`),
			Attempts: 1, MaxAttempts: 5, ScheduledFor: at(7, 0, 0), CreatedAt: at(7, 0, 0),
			StartedAt: ptr(at(7, 0, 1)), CompletedAt: ptr(time.Date(2025, 10, 25, 7, 0, 1, 120e6, time.UTC)),
			UpdatedAt: at(7, 0, 1), UserID: "user_9",
		},
		{
			ID: "job_01jdretry", Type: "Webhook", Status: store.StatusRetrying, Priority: store.PriorityCritical,
			ErrorCode: "HTTP_503", ErrorMessage: "upstream unavailable", Attempts: 2, MaxAttempts: 5,
			ScheduledFor: at(12, 1, 0), CreatedAt: time.Date(2025, 10, 21, 8, 0, 0, 0, time.UTC),
			StartedAt: ptr(at(11, 0, 0)), UpdatedAt: at(11, 0, 5),
		},
		{
			ID: "job_01jdcanc", Type: `Weird, "Type"`, Status: store.StatusCancelled, Priority: store.PriorityNormal,
			Attempts: 0, MaxAttempts: 5, ScheduledFor: at(9, 0, 0), CreatedAt: at(9, 0, 0),
			CompletedAt: ptr(at(9, 30, 0)), UpdatedAt: at(9, 30, 0),
		},
		{
			ID: "job_01jddead", Type: "Import", Status: store.StatusDead, Priority: store.PriorityNormal,
			ErrorCode: "PARSE_ERROR", ErrorMessage: "row 1432:\tunexpected end of input while reading a quoted field in column \"amount\"",
			Attempts: 5, MaxAttempts: 5, ScheduledFor: at(1, 0, 0), CreatedAt: at(1, 0, 0),
			StartedAt: ptr(at(1, 0, 0)), CompletedAt: ptr(at(3, 2, 5)), UpdatedAt: at(3, 2, 5),
			ArchivedAt: ptr(at(11, 0, 0)),
		},
	}
}

// related surrounds failedJob with a parent, two children, a dependency
// and a dependent.
func related() *store.Related {
	jobs := listJobs()
	return &store.Related{
		Parent:       &store.Job{ID: "job_parent1", Type: "CalendarSyncAll", Status: store.StatusRunning},
		Children:     []*store.Job{jobs[1], jobs[3]},
		Dependencies: []*store.Job{jobs[2]},
		Dependents:   []*store.Job{jobs[6]},
	}
}
