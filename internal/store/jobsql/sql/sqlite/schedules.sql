-- SQLite's spelling of the statements in ../schedules.sql that differ
-- beyond now().

-- name: ScheduleInsert
-- SQLite keeps JSON as text, as given.
INSERT INTO "RecurringJob" (name, type, schedule, timezone, data, priority, "nextRunAt")
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (name) DO NOTHING;
