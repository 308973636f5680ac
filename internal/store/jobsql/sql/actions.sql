-- Operator actions (retry, cancel, start, delete, purge, archive, restore),
-- run in batches: each batch locks its jobs in id order (statements.go, "Lock order"), changes
-- them and writes one audit row per job, in one transaction. Slots shared
-- by these statements:
--   /*:idArray*/   the batch's ids (idArray): one text[] parameter on
--                  Postgres, for = ANY(…) (a 5,000-element IN list costs
--                  more to bind and plan); a parameter per id on SQLite,
--                  where = ANY( becomes IN (.
--   /*:table*/     "Job", or "JobArchive" for restore (Table).
--   /*:previous*/, /*:next*/, /*:extra*/  an audit row's metadata: the
--                  status before and after, and the keys every row of the
--                  action shares (operation, filter: auditFill) as one
--                  JSON object parameter. The rows' own keys are built per
--                  row and the shared ones merged in once: building the
--                  filter's nested object on every row took a sixth of
--                  the audit insert.
-- A statement's own parameters come first; the slots' follow.

-- name: JobMaxID
-- The highest id now: a walk over a filter stops there, so it acts on the
-- jobs the operator was shown a count of and does not chase new ones.
SELECT MAX(id) FROM "Job";

-- name: ArchiveMaxID
-- JobMaxID for restore.
SELECT MAX(id) FROM "JobArchive";

-- name: ActionBatch
-- Locks and reads the next batch, at most $1 jobs of /*:table*/ that
-- /*:filter*/ keeps (actOnIDs, actOnFilter), in id order: what decides and
-- reports the change, not the JSON payloads.
SELECT id, type, status, "uniqueKey", "scheduledFor" FROM /*:table*/
WHERE /*:filter*/
ORDER BY id
LIMIT $1 FOR UPDATE;

-- name: ActionRangeEnd
-- The id of the ($1+1)th job of /*:table*/ that /*:filter*/ keeps, in id
-- order: where a range of one batch ends (actInLanes). Locks nothing.
SELECT id FROM /*:table*/
WHERE /*:filter*/
ORDER BY id
OFFSET $1 LIMIT 1;

-- name: ActionBatchPeek
-- ActionBatch for a dry run, which locks nothing.
SELECT id, type, status, "uniqueKey", "scheduledFor" FROM /*:table*/
WHERE /*:filter*/
ORDER BY id
LIMIT $1;

-- name: ArchiveBatch
-- ActionBatch for an archive that hands whole jobs to its sink.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE /*:filter*/
ORDER BY id
LIMIT $1 FOR UPDATE;

-- name: ArchiveBatchPeek
-- ArchiveBatch for a dry run, which locks nothing.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE /*:filter*/
ORDER BY id
LIMIT $1;

-- name: JobStatuses
-- The status of each of /*:idArray*/ found in /*:table*/.
SELECT id, status FROM /*:table*/ WHERE id = ANY(/*:idArray*/);

-- name: UniqueKeysHeld
-- The live jobs holding any of the unique keys /*:keys*/ (an IN list, In):
-- retrying a job whose key one of them holds would break the
-- one-live-job-per-key rule. The index's predicate, verbatim.
SELECT "uniqueKey", id FROM "Job" WHERE "uniqueKey" IN /*:keys*/ AND status IN ('PENDING', 'RUNNING', 'RETRYING');

-- name: UniqueKeysLock
-- Takes, waiting for each and holding it to the end of the transaction,
-- the advisory locks $1 (bigint[], ascending: UniqueKeyLocks) of the unique
-- keys of a retry's batch, before UniqueKeysHeld: batches that take back
-- jobs with one key (a retry's lanes, or two retries) then check and take
-- it one after the other, and the second sees the first's job live.
SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST($1 AS bigint[])) AS k;

-- name: JobsMarkCancelRequests
-- Decides, once, which of the batch's RUNNING jobs a cancel only asks to
-- stop ("cancelRequested"): those whose worker has a "Worker" row that
-- pinged at or after $1 (now less the lease, as the rescue judges it). A
-- job whose worker is gone would wait for a stop nobody carries out, so it
-- is cancelled at once. The audit rows and the update then read the same
-- decision even if a worker pings in between.
UPDATE "Job"
SET "cancelRequested" = NOT ("workerId" IS NULL OR NOT EXISTS (
      SELECT 1 FROM "Worker" w WHERE w.id = "Job"."workerId" AND w."lastPing" >= $1))
WHERE id = ANY(/*:idArray*/) AND status = 'RUNNING';

-- name: JobsOrphaned
-- The jobs of /*:idArray*/ whose worker is gone (no "Worker" row, or none
-- that pinged at or after $1), for a dry run's prediction of a cancel.
SELECT id FROM "Job"
WHERE id = ANY(/*:idArray*/)
  AND ("workerId" IS NULL OR NOT EXISTS (
      SELECT 1 FROM "Worker" w WHERE w.id = "Job"."workerId" AND w."lastPing" >= $1));

-- name: ActionAudit
-- One audit row per job of /*:idArray*/ in /*:table*/, built in SQL from
-- the rows themselves, before they change. $1 the audit action, $2 the
-- actor.
INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata)
SELECT $1, $2, 'Job', id,
       jsonb_concat(jsonb_build_object('jobType', type, 'previousStatus', /*:previous*/, 'newStatus', /*:next*/), /*:extra*/)
FROM /*:table*/ WHERE id = ANY(/*:idArray*/);

-- name: JobDependenciesDelete
-- Forgets what the jobs of /*:idArray*/ depend on, before they go.
DELETE FROM "JobDependency" WHERE "jobId" = ANY(/*:idArray*/);

-- name: JobsDeleteAudited
-- Deletes the jobs of /*:idArray*/ and writes their audit rows in one
-- statement that finds each row once, a fifth faster than three. $1 the
-- audit action, $2 the actor.
WITH moved AS (
  DELETE FROM "Job" WHERE id = ANY(/*:idArray*/)
  RETURNING id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
            attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
            "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory")
INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata)
SELECT $1, $2, 'Job', id,
       jsonb_concat(jsonb_build_object('jobType', type, 'previousStatus', /*:previous*/, 'newStatus', /*:next*/), /*:extra*/)
FROM moved;

-- name: JobsMoveAudited
-- Moves the jobs of /*:idArray*/ from /*:from*/ to /*:to*/ (an archive:
-- "Job" to "JobArchive"; a restore: back) and writes their audit rows, in
-- one statement as JobsDeleteAudited. $1 the audit action, $2 the actor.
WITH moved AS (
  DELETE FROM /*:from*/ WHERE id = ANY(/*:idArray*/)
  RETURNING id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
            attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
            "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"),
copied AS (
  INSERT INTO /*:to*/ (id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
            attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
            "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory")
  SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
         attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
         "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
  FROM moved)
INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata)
SELECT $1, $2, 'Job', id,
       jsonb_concat(jsonb_build_object('jobType', type, 'previousStatus', /*:previous*/, 'newStatus', /*:next*/), /*:extra*/)
FROM moved;

-- name: JobsCopy
-- Copies the jobs of /*:idArray*/ from /*:from*/ to /*:to*/: an archive or
-- restore where the database runs no data-modifying WITH (SQLite), after
-- ActionAudit and before JobsDelete.
INSERT INTO /*:to*/ (id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
                     attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
                     "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory")
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM /*:from*/ WHERE id = ANY(/*:idArray*/);

-- name: JobsDelete
-- Deletes the jobs of /*:idArray*/ from /*:from*/, where the database
-- runs no data-modifying WITH (SQLite).
DELETE FROM /*:from*/ WHERE id = ANY(/*:idArray*/);

-- name: JobsRetry
-- Puts the jobs of /*:idArray*/ back to PENDING, due at $1 (NULL: now),
-- and returns their new state. With $2 (--reset-attempts) their attempt
-- count goes back to 0; without, they keep it and, if the budget is
-- spent, get one more attempt.
UPDATE "Job"
SET status = 'PENDING', "scheduledFor" = COALESCE($1, now()), "completedAt" = NULL, "workerId" = NULL,
    "cancelRequested" = FALSE,
    attempts = CASE WHEN $2 THEN 0 ELSE attempts END,
    "maxAttempts" = CASE WHEN $2 THEN "maxAttempts" ELSE GREATEST("maxAttempts", attempts + 1) END,
    "updatedAt" = now()
WHERE id = ANY(/*:idArray*/)
RETURNING id, status, "scheduledFor", "cancelRequested";

-- name: JobsRetryAudited
-- A retry's batch in one statement, where the engine runs it (a
-- data-modifying WITH, on Postgres): locks the next batch of at most $3
-- jobs that /*:filter*/ keeps, in id order (as ActionBatch), puts those
-- with no unique key back to PENDING (as JobsRetry: due at $4, NULL for
-- now; attempts reset to 0 when $5) and writes their audit rows. Returns
-- every locked row, and its new "scheduledFor" where it was retried (NULL
-- where not). A job with a unique key is left to its caller, which checks
-- the key's holder first (withoutHeldKeys). As three statements (lock,
-- audit, update) each row was found three times, and the round trips
-- between them kept a lane's backend idle. $1 the audit action, $2 the
-- actor.
WITH locked AS (
  SELECT id, type, status, "uniqueKey", "scheduledFor" FROM "Job"
  WHERE /*:filter*/
  ORDER BY id
  LIMIT $3 FOR UPDATE),
retried AS (
  UPDATE "Job"
  SET status = 'PENDING', "scheduledFor" = COALESCE($4, now()), "completedAt" = NULL, "workerId" = NULL,
      "cancelRequested" = FALSE,
      attempts = CASE WHEN $5 THEN 0 ELSE attempts END,
      "maxAttempts" = CASE WHEN $5 THEN "maxAttempts" ELSE GREATEST("maxAttempts", attempts + 1) END,
      "updatedAt" = now()
  WHERE id = ANY(ARRAY(SELECT id FROM locked WHERE "uniqueKey" IS NULL))
  RETURNING id, "scheduledFor"),
audited AS (
  INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata)
  SELECT $1, $2, 'Job', id,
         jsonb_concat(jsonb_build_object('jobType', type, 'previousStatus', /*:previous*/, 'newStatus', /*:next*/), /*:extra*/)
  FROM locked WHERE "uniqueKey" IS NULL)
SELECT l.id, l.type, l.status, l."uniqueKey", l."scheduledFor", r."scheduledFor"
FROM locked l LEFT JOIN retried r ON r.id = l.id
ORDER BY l.id;

-- name: JobsCancel
-- Cancels the jobs of /*:idArray*/, but for the RUNNING ones with a live
-- worker (JobsMarkCancelRequests), which are only asked to stop: the
-- worker sees the request at its next heartbeat, stops the handler and
-- ends the job CANCELLED. Returns their new state.
UPDATE "Job"
SET status = CASE WHEN (status = 'RUNNING' AND "cancelRequested") THEN status ELSE 'CANCELLED' END,
    "completedAt" = CASE WHEN (status = 'RUNNING' AND "cancelRequested") THEN "completedAt" ELSE now() END,
    "updatedAt" = now()
WHERE id = ANY(/*:idArray*/)
RETURNING id, status, "scheduledFor", "cancelRequested";

-- name: JobsStart
-- Makes the jobs of /*:idArray*/ due now; returns their new state.
UPDATE "Job" SET "scheduledFor" = now(), "updatedAt" = now()
WHERE id = ANY(/*:idArray*/)
RETURNING id, status, "scheduledFor", "cancelRequested";
