-- SQLite's spelling of the statements in ../actions.sql that differ beyond
-- the rewrites (statements.go). SQLite has one writer at a time and takes
-- no row locks: a batch needs no FOR UPDATE.

-- name: ActionBatch
SELECT id, type, status, "uniqueKey", "scheduledFor" FROM /*:table*/
WHERE /*:filter*/
ORDER BY id
LIMIT $1;

-- name: ArchiveBatch
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE /*:filter*/
ORDER BY id
LIMIT $1;

-- name: ActionRangeEnd
-- Not run: one writer at a time, so a bulk action runs in one lane.

-- name: UniqueKeysLock
-- Not run: one writer at a time already takes the keys one after the other.

-- name: JobsDeleteAudited
-- Not run: SQLite has no data-modifying WITH; ActionAudit, then JobsDelete.

-- name: JobsMoveAudited
-- Not run: ActionAudit, JobsCopy, then JobsDelete.

-- name: JobsRetryAudited
-- Not run: ActionBatch, then ActionAudit and JobsRetry.
