package jobsql

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// The schedules' statements, in sql/schedules.sql.
var (
	scheduleInsert  = stmt("ScheduleInsert")
	scheduleDelete  = stmt("ScheduleDelete")
	scheduleList    = stmt("ScheduleList")
	scheduleDue     = stmt("ScheduleDue")
	scheduleAdvance = stmt("ScheduleAdvance")
	scheduleFired   = stmt("ScheduleFired")
)

// AddSchedule checks a schedule and inserts it and its audit row.
func AddSchedule(ctx context.Context, db DB, d *Dialect, s *store.Schedule, actor string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	data := string(s.Data)
	if data == "" {
		data = "{}"
	}
	if s.Priority == "" {
		s.Priority = store.PriorityNormal
	}
	n, err := db.Exec(ctx, d.SQL(scheduleInsert), d.Values(s.Name, s.Type, s.Cron, s.Timezone, data, s.Priority, s.NextRunAt)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrExists
	}
	return WriteAudit(ctx, db, d, []store.AuditEntry{{
		Action: store.ActionScheduleAdd, UserID: actor, Resource: "RecurringJob", ResourceID: s.Name,
		Metadata: AuditMetadata(map[string]any{"jobType": s.Type, "schedule": s.Cron, "timezone": s.Timezone, "data": json.RawMessage(data)}),
	}})
}

// RemoveSchedule deletes a schedule and writes its audit row.
func RemoveSchedule(ctx context.Context, db DB, d *Dialect, name, actor string) error {
	var typ, cron string
	err := db.QueryRow(ctx, d.SQL(scheduleDelete), d.Values(name)...).Scan(&typ, &cron)
	if err != nil {
		return err
	}
	return WriteAudit(ctx, db, d, []store.AuditEntry{{
		Action: store.ActionScheduleRemove, UserID: actor, Resource: "RecurringJob", ResourceID: name,
		Metadata: AuditMetadata(map[string]any{"jobType": typ, "schedule": cron}),
	}})
}

// ListSchedules returns every schedule by name.
func ListSchedules(ctx context.Context, db DB, d *Dialect) ([]*store.Schedule, error) {
	return querySchedules(ctx, db, d.SQL(scheduleList))
}

// DueSchedules returns schedules whose next run is at or before now.
func DueSchedules(ctx context.Context, db DB, d *Dialect, now time.Time) ([]*store.Schedule, error) {
	return querySchedules(ctx, db, d.SQL(scheduleDue), d.Values(now)...)
}

func querySchedules(ctx context.Context, db DB, sql string, args ...any) ([]*store.Schedule, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.Schedule{}
	for rows.Next() {
		var (
			s                   store.Schedule
			data                rawJSON
			prio, lastJob       text
			next, last, created timestamp
		)
		if err := rows.Scan(&s.Name, &s.Type, &s.Cron, &s.Timezone, &data, &prio, &next, &last, &lastJob, &created); err != nil {
			return nil, err
		}
		s.Data, s.Priority, s.LastJobID = json.RawMessage(data), store.Priority(prio), string(lastJob)
		s.NextRunAt, s.LastRunAt, s.CreatedAt = next.value(), last.ptr(), created.value()
		out = append(out, &s)
	}
	return out, rows.Err()
}

// FireSchedule enqueues the job for s's due tick and moves s to next, if s
// is still at that tick: of any number of workers firing it at once, one
// moves it and the rest find it moved (false). The unique key per tick
// guards the same tick twice from any other path.
func FireSchedule(ctx context.Context, db DB, d *Dialect, s *store.Schedule, next time.Time, now time.Time) (*store.Job, bool, error) {
	due := s.NextRunAt
	n, err := db.Exec(ctx, d.SQL(scheduleAdvance), d.Values(next, due, s.Name)...)
	if err != nil || n == 0 {
		return nil, false, err
	}
	res, err := Enqueue(ctx, db, d, &store.EnqueueParams{
		Type: s.Type, Data: s.Data, Priority: s.Priority,
		MaxDataBytes: store.NoDataLimit, // checked when the schedule was added
		UniqueKey:    "schedule:" + s.Name + ":" + due.UTC().Format(time.RFC3339),
	}, now)
	if err != nil {
		return nil, false, err
	}
	if res.Existing {
		return res.Job, false, nil
	}
	if _, err := db.Exec(ctx, d.SQL(scheduleFired), d.Values(res.Job.ID, s.Name)...); err != nil {
		return nil, false, err
	}
	return res.Job, true, nil
}
