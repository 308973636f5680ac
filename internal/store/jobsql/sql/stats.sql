-- Health, the dashboard and `stats`: counts and figures over "Job". The
-- statuses health and the dashboard always count exactly are the live ones
-- and FAILED and DEAD (countedStatuses, in this order): the jobs an
-- operator acts on, few in a healthy queue, each an index range of
-- Job_status_createdAt_idx. A user-scoped variant adds the user's condition
-- as a bind parameter to each subquery, so the unscoped statement stays the
-- one the bench measures.

-- name: Snapshot
-- Health's figures: the database's clock, the exact counts of
-- countedStatuses, and the oldest due pending job. The last subquery
-- repeats the claim index's predicate verbatim so the planner uses it.
SELECT now(),
       (SELECT count(*) FROM "Job" WHERE status = 'PENDING'),
       (SELECT count(*) FROM "Job" WHERE status = 'RUNNING'),
       (SELECT count(*) FROM "Job" WHERE status = 'RETRYING'),
       (SELECT count(*) FROM "Job" WHERE status = 'FAILED'),
       (SELECT count(*) FROM "Job" WHERE status = 'DEAD'),
       (SELECT min("scheduledFor") FROM "Job"
        WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0 AND status = 'PENDING' AND "scheduledFor" <= now());

-- name: SnapshotUser
-- Snapshot for the jobs of user $1.
SELECT now(),
       (SELECT count(*) FROM "Job" WHERE status = 'PENDING' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'RUNNING' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'RETRYING' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'FAILED' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'DEAD' AND "userId" = $1),
       (SELECT min("scheduledFor") FROM "Job"
        WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0 AND status = 'PENDING' AND "scheduledFor" <= now() AND "userId" = $1);

-- name: SnapshotRunning
-- The running jobs, longest running first.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE status = 'RUNNING'
ORDER BY "startedAt"
LIMIT 10000;

-- name: SnapshotRunningUser
-- The running jobs of user $1, longest running first.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE status = 'RUNNING' AND "userId" = $1
ORDER BY "startedAt"
LIMIT 10000;

-- name: StatusCounts
-- The dashboard's exact counts of countedStatuses.
SELECT (SELECT count(*) FROM "Job" WHERE status = 'PENDING'),
       (SELECT count(*) FROM "Job" WHERE status = 'RUNNING'),
       (SELECT count(*) FROM "Job" WHERE status = 'RETRYING'),
       (SELECT count(*) FROM "Job" WHERE status = 'FAILED'),
       (SELECT count(*) FROM "Job" WHERE status = 'DEAD');

-- name: StatusCountsUser
-- StatusCounts for the jobs of user $1.
SELECT (SELECT count(*) FROM "Job" WHERE status = 'PENDING' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'RUNNING' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'RETRYING' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'FAILED' AND "userId" = $1),
       (SELECT count(*) FROM "Job" WHERE status = 'DEAD' AND "userId" = $1);

-- name: CountRows
-- Counts the rows of /*:table*/ ("Job" or "JobArchive") that /*:filter*/
-- keeps. The filter is Conditions, or countUpTo's caller's, from $1 on.
SELECT count(*) FROM /*:table*/ WHERE /*:filter*/;

-- name: CountRowsCapped
-- CountRows, stopped at $1 rows: the inner LIMIT ends the scan there, so
-- the cost is that of $1 rows however large the table. The filter's
-- parameters follow, from $2 on.
SELECT count(*) FROM (SELECT 1 FROM /*:table*/ WHERE /*:filter*/ LIMIT $1) capped;

-- name: CountRowsEstimate
-- The rows CountRows counts, for the planner's estimate of how many there
-- are (Dialect.Estimate EXPLAINs it; it is never run).
SELECT 1 FROM /*:table*/ WHERE /*:filter*/;

-- name: JobTypes
-- The catalog of job types, which a trigger on "Job" fills as jobs are
-- inserted (migrations: "JobType").
SELECT type FROM "JobType" ORDER BY type;

-- name: JobTypesUser
-- The distinct types among the newest jobs of user $1, along
-- Job_userId_idx: suggestions for a filter, so a bounded read rather than
-- all of a busy user's history.
SELECT DISTINCT type
FROM (SELECT type FROM "Job" WHERE "userId" = $1 ORDER BY "createdAt" DESC LIMIT 10000) newest
ORDER BY type;

-- name: Now
-- The database's clock.
SELECT now();

-- name: StatsByTypeStatus
-- Job counts by type and status. /*:scope*/ is statsScope's " AND …"
-- conditions (types, user), from $1 on.
SELECT type, status, count(*) FROM "Job" WHERE TRUE/*:scope*/ GROUP BY type, status;

-- name: StatsRecent
-- Jobs completed and failed (FAILED or DEAD) since $1 (an hour ago) and
-- since $2 (a day ago). /*:scope*/ is statsScope's " AND …" conditions
-- (types, user), from $3 on.
SELECT (SELECT count(*) FROM "Job" WHERE status = 'COMPLETED' AND "completedAt" >= $1/*:scope*/),
       (SELECT count(*) FROM "Job" WHERE status IN ('FAILED', 'DEAD') AND "completedAt" >= $1/*:scope*/),
       (SELECT count(*) FROM "Job" WHERE status = 'COMPLETED' AND "completedAt" >= $2/*:scope*/),
       (SELECT count(*) FROM "Job" WHERE status IN ('FAILED', 'DEAD') AND "completedAt" >= $2/*:scope*/);

-- name: StatsDurations
-- The start and end of completed jobs, for run-time percentiles computed
-- in Go so both backends agree. /*:scope*/ is statsScope's " AND …"
-- conditions (since, types, user), from $1 on.
SELECT type, "startedAt", "completedAt" FROM "Job"
WHERE status = 'COMPLETED' AND "startedAt" IS NOT NULL/*:scope*/;

-- name: StatsTopErrors
-- The $1 most frequent error messages of failed jobs. /*:scope*/ is
-- statsScope's " AND …" conditions (since, types, user), from $2 on.
SELECT "errorMessage", max("errorCode"), count(*) AS n FROM "Job"
WHERE status IN ('FAILED', 'DEAD') AND "errorMessage" IS NOT NULL/*:scope*/
GROUP BY "errorMessage"
ORDER BY n DESC, "errorMessage"
LIMIT $1;
