-- The worker's statements: claims, outcomes, the rescue's and the drain's
-- reads. Every transition a worker writes is guarded by the job still
-- being RUNNING under that worker: not rescued meanwhile and handed to
-- another.

-- name: JobsClaim
-- Marks up to a limit of due jobs RUNNING under worker $1, in one
-- statement, and returns what the worker reads of them (ClaimedColumns).
-- The slot is claimIDs's: the ids to claim, selected and locked (FOR
-- UPDATE SKIP LOCKED) one ordered range of Job_claim_idx per job type,
-- whose WHERE repeats the index's predicate verbatim
--   status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0
-- so the planner uses it, merged and cut to the limit. A claim never waits
-- for a lock, so it takes part in no deadlock, whatever order it locks in.
UPDATE "Job" SET status = 'RUNNING', attempts = attempts + 1, "startedAt" = now(), "completedAt" = NULL,
  "workerId" = $1, "updatedAt" = now()
WHERE id = ANY(ARRAY(/*:claimIDs*/))
RETURNING id, type, priority, data, attempts, "maxAttempts", "scheduledFor", "startedAt", "userId", "parentId";

-- name: JobsCompleteLock
-- A completion's first statement: locks the jobs ($1, an array of ids) and
-- the jobs waiting on them in id order, as every statement changing
-- several rows does (statements.go, "Lock order"), before JobsComplete
-- changes any. The
-- Postgres store sends both as one pipeline: one round trip, one implicit
-- transaction.
SELECT id FROM "Job" WHERE id = ANY($1) OR id = ANY(ARRAY(
  SELECT "jobId" FROM "JobDependency" WHERE "dependsOnId" = ANY($1)))
ORDER BY id FOR UPDATE;

-- name: JobsComplete
-- Marks the jobs still held by worker $3 COMPLETED with their outputs,
-- lowers their dependents' waitingOn in the same statement, and returns
-- how many it completed. $1 the ids, $2 their outputs (JSON text or NULL),
-- in the same order. Its snapshot is taken after JobsCompleteLock's locks
-- are granted, so a dependency committed while it waited for one is
-- counted. Its guard is "status = 'RUNNING'", which lets the planner walk
-- the RUNNING range of the status index: spelled IS NOT DISTINCT FROM, so
-- that only the primary key could serve it, a worker at --concurrency 2000
-- ran at half the rate (2.4 times the server's CPU per job).
WITH done AS (
  UPDATE "Job" SET status = 'COMPLETED', output = CAST(v.output AS jsonb), "completedAt" = now(), "updatedAt" = now()
  FROM unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS v(id, output)
  WHERE "Job".id = v.id AND "Job".status = 'RUNNING' AND "Job"."workerId" = $3
  RETURNING "Job".id
), released AS (
  UPDATE "Job" SET "waitingOn" = "waitingOn" - d.n, "updatedAt" = now()
  FROM (SELECT "jobId", count(*) AS n FROM "JobDependency" WHERE "dependsOnId" IN (SELECT id FROM done) GROUP BY "jobId") d
  WHERE "Job".id = d."jobId"
)
SELECT count(*) FROM done;

-- name: JobsReleaseDependents
-- Lowers each dependent's waitingOn by how many of the jobs $1 (an array
-- of ids) it waits on; at zero the claim index sees it. SQLite's second
-- completion statement: on Postgres JobsComplete does this in its CTE.
UPDATE "Job" SET "waitingOn" = "waitingOn" - (SELECT count(*) FROM "JobDependency" dep
    WHERE dep."jobId" = "Job".id AND dep."dependsOnId" = ANY(CAST($1 AS text[]))),
  "updatedAt" = now()
WHERE id IN (SELECT "jobId" FROM "JobDependency" WHERE "dependsOnId" = ANY(CAST($1 AS text[])));

-- name: JobsLock
-- Locks the jobs of a batch of failures (the slot, their ids) in id
-- order, before the failures are written one UPDATE at a time.
SELECT id FROM "Job" WHERE id = ANY(/*:idArray*/) ORDER BY id FOR UPDATE;

-- name: JobsFailRetry
-- Records a failed attempt that will be retried: status $1 (RETRYING),
-- the error $2 message, $3 code, $4 stack, the attempt $5 (a JSON object)
-- appended to "errorHistory", due again at $6. $7 the job, $8 the worker.
UPDATE "Job" SET status = $1, "errorMessage" = $2, "errorCode" = $3, "errorStack" = $4,
  "errorHistory" = "errorHistory" || jsonb_build_array(CAST($5 AS jsonb)), "updatedAt" = now(),
  "scheduledFor" = $6
WHERE id = $7 AND status = 'RUNNING' AND "workerId" = $8;

-- name: JobsFailEnd
-- Records a failed attempt that ends the job: status $1 (FAILED or DEAD),
-- the error $2 message, $3 code, $4 stack, the attempt $5 (a JSON object)
-- appended to "errorHistory". $6 the job, $7 the worker.
UPDATE "Job" SET status = $1, "errorMessage" = $2, "errorCode" = $3, "errorStack" = $4,
  "errorHistory" = "errorHistory" || jsonb_build_array(CAST($5 AS jsonb)), "updatedAt" = now(),
  "completedAt" = now()
WHERE id = $6 AND status = 'RUNNING' AND "workerId" = $7;

-- name: JobsMarkCancelled
-- Ends running jobs (the slot, their ids) that worker $1 stopped at an
-- operator's request; they are never retried. Locked in id order first.
UPDATE "Job" SET status = 'CANCELLED', "completedAt" = now(), "updatedAt" = now()
WHERE id = ANY(/*:idArray*/) AND status = 'RUNNING' AND "workerId" = $1
  AND id = ANY(ARRAY(SELECT id FROM "Job" WHERE id = ANY(/*:idArray*/) AND status = 'RUNNING' AND "workerId" = $1
    ORDER BY id FOR UPDATE));

-- name: JobsRelease
-- Hands jobs (the slot, their ids) worker $1 holds back as PENDING, due
-- now, and takes back the attempt the claim counted: a shutdown is not the
-- job's failure. Locked in id order first.
UPDATE "Job" SET status = 'PENDING', attempts = attempts - 1, "startedAt" = NULL, "workerId" = NULL,
  "scheduledFor" = now(), "updatedAt" = now()
WHERE id = ANY(/*:idArray*/) AND status = 'RUNNING' AND "workerId" = $1
  AND id = ANY(ARRAY(SELECT id FROM "Job" WHERE id = ANY(/*:idArray*/) AND status = 'RUNNING' AND "workerId" = $1
    ORDER BY id FOR UPDATE));

-- name: JobsExpired
-- Up to $2 RUNNING jobs whose worker row is gone or silent since before
-- $1: the rescue's work.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE status = 'RUNNING' AND ("workerId" IS NULL OR NOT EXISTS (
  SELECT 1 FROM "Worker" w WHERE w.id = "Job"."workerId" AND w."lastPing" >= $1))
LIMIT $2;

-- name: JobsDrain
-- What a draining worker waits for, of every type: due jobs, running
-- ones, and ones waiting to retry.
SELECT
  (SELECT count(*) FROM "Job" WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0 AND "scheduledFor" <= now()),
  (SELECT count(*) FROM "Job" WHERE status = 'RUNNING'),
  (SELECT count(*) FROM "Job" WHERE status = 'RETRYING');

-- name: JobsDrainTypes
-- JobsDrain of the job types in the slot.
SELECT
  (SELECT count(*) FROM "Job" WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0 AND "scheduledFor" <= now()
     AND type = ANY(/*:idArray*/)),
  (SELECT count(*) FROM "Job" WHERE status = 'RUNNING' AND type = ANY(/*:idArray*/)),
  (SELECT count(*) FROM "Job" WHERE status = 'RETRYING' AND type = ANY(/*:idArray*/));
