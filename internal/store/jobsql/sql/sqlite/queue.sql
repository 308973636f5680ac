-- SQLite's spelling of the statements in ../queue.sql that differ beyond
-- the rewrites (statements.go). SQLite has one writer at a time and takes
-- no row locks: nothing is locked ahead of a change.

-- name: JobsClaim
UPDATE "Job" SET status = 'RUNNING', attempts = attempts + 1, "startedAt" = now(), "completedAt" = NULL,
  "workerId" = $1, "updatedAt" = now()
WHERE id IN (/*:claimIDs*/)
RETURNING id, type, priority, data, attempts, "maxAttempts", "scheduledFor", "startedAt", "userId", "parentId";

-- name: JobsCompleteLock
-- Not run: one writer at a time.

-- name: JobsComplete
-- Marks the jobs still held by worker $2 COMPLETED with their outputs and
-- returns their ids; JobsReleaseDependents follows in the transaction. Its
-- parameters are not Postgres's: $1 is one JSON array of [id, output]
-- pairs, the output a JSON string holding the output's JSON text, or null
-- (two arrays joined on their keys would be a nested scan: json_each has
-- no index). One value whatever the batch, so the statement's text is
-- fixed and the store prepares it once: a VALUES list of two parameters a
-- job was re-parsed for each batch, a sixth of a worker's CPU. The guard's
-- columns are written +status and +"workerId": SQLite's unary plus keeps
-- an index from serving them, so each job is found by its id, not by
-- walking every RUNNING job for each pair.
UPDATE "Job" SET status = 'COMPLETED', output = v.output, "completedAt" = now(), "updatedAt" = now()
FROM (SELECT value ->> 0 AS id, value ->> 1 AS output FROM json_each($1)) AS v
WHERE "Job".id = v.id AND +"Job".status = 'RUNNING' AND +"Job"."workerId" = $2
RETURNING "Job".id;

-- name: JobsReleaseDependents
-- $1 a JSON array of the completed jobs' ids.
UPDATE "Job" SET "waitingOn" = "waitingOn" - (SELECT count(*) FROM "JobDependency" dep
    WHERE dep."jobId" = "Job".id AND dep."dependsOnId" IN (SELECT value FROM json_each($1))),
  "updatedAt" = now()
WHERE id IN (SELECT "jobId" FROM "JobDependency" WHERE "dependsOnId" IN (SELECT value FROM json_each($1)));

-- name: JobsLock
-- Not run: one writer at a time.

-- name: JobsFailRetry
UPDATE "Job" SET status = $1, "errorMessage" = $2, "errorCode" = $3, "errorStack" = $4,
  "errorHistory" = json_insert("errorHistory", '$[#]', json($5)), "updatedAt" = now(),
  "scheduledFor" = $6
WHERE id = $7 AND status = 'RUNNING' AND "workerId" = $8;

-- name: JobsFailEnd
UPDATE "Job" SET status = $1, "errorMessage" = $2, "errorCode" = $3, "errorStack" = $4,
  "errorHistory" = json_insert("errorHistory", '$[#]', json($5)), "updatedAt" = now(),
  "completedAt" = now()
WHERE id = $6 AND status = 'RUNNING' AND "workerId" = $7;

-- name: JobsMarkCancelled
UPDATE "Job" SET status = 'CANCELLED', "completedAt" = now(), "updatedAt" = now()
WHERE id IN (/*:idArray*/) AND status = 'RUNNING' AND "workerId" = $1;

-- name: JobsRelease
UPDATE "Job" SET status = 'PENDING', attempts = attempts - 1, "startedAt" = NULL, "workerId" = NULL,
  "scheduledFor" = now(), "updatedAt" = now()
WHERE id IN (/*:idArray*/) AND status = 'RUNNING' AND "workerId" = $1;
