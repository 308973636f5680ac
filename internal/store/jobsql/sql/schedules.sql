-- Recurring jobs ("RecurringJob"): added and removed by an operator, fired
-- by the workers.

-- name: ScheduleInsert
-- Adds a schedule; no row affected means the name is taken.
-- $1 name, $2 job type, $3 cron expression, $4 time zone, $5 the jobs'
-- data (JSON text), $6 their priority, $7 the first run.
INSERT INTO "RecurringJob" (name, type, schedule, timezone, data, priority, "nextRunAt")
VALUES ($1, $2, $3, $4, CAST($5 AS jsonb), $6, $7)
ON CONFLICT (name) DO NOTHING;

-- name: ScheduleDelete
-- Removes a schedule. $1 its name.
DELETE FROM "RecurringJob" WHERE name = $1 RETURNING type, schedule;

-- name: ScheduleList
-- Every schedule, by name.
SELECT name, type, schedule, timezone, data, priority, "nextRunAt", "lastRunAt", "lastJobId", "createdAt"
FROM "RecurringJob"
ORDER BY name;

-- name: ScheduleDue
-- The schedules whose next run is at or before $1, soonest first.
SELECT name, type, schedule, timezone, data, priority, "nextRunAt", "lastRunAt", "lastJobId", "createdAt"
FROM "RecurringJob"
WHERE "nextRunAt" <= $1
ORDER BY "nextRunAt";

-- name: ScheduleAdvance
-- Moves a schedule from its due tick to the next, if it is still at that
-- tick: of any number of workers firing it at once, one moves it (a row
-- affected) and the rest find it moved. $1 the next run, $2 the due tick,
-- $3 the schedule's name.
UPDATE "RecurringJob" SET "nextRunAt" = $1, "lastRunAt" = $2, "updatedAt" = now()
WHERE name = $3 AND "nextRunAt" = $2;

-- name: ScheduleFired
-- Records the job a schedule's tick enqueued. $1 the job's id, $2 the
-- schedule's name.
UPDATE "RecurringJob" SET "lastJobId" = $1 WHERE name = $2;
