-- Enqueueing one job (and, with Import, whole job rows). The columns of an
-- insert are InsertColumnNames, in their order; the rest take their
-- defaults. A job's unique key is held only while its job is live: the
-- unique-key index's predicate is status IN ('PENDING', 'RUNNING',
-- 'RETRYING'), repeated verbatim wherever a statement relies on it.

-- name: JobInsert
-- Inserts one job and returns it. $1 id, $2 type, $3 priority, $4 data
-- (JSON text), $5 max attempts, $6 when it is due (NULL: now, by the
-- database's clock, not this host's), $7 user id, $8 parent id, $9 unique
-- key (NULL here), $10 how many dependencies are not yet complete.
INSERT INTO "Job" ("id", "type", "priority", "data", "maxAttempts", "scheduledFor", "userId", "parentId", "uniqueKey", "waitingOn")
VALUES ($1, $2, $3, $4, $5, COALESCE($6, now()), $7, $8, $9, $10)
RETURNING id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
          attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
          "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory";

-- name: JobInsertUnique
-- JobInsert for a job with a unique key ($9): no row back means a live job
-- holds the key.
INSERT INTO "Job" ("id", "type", "priority", "data", "maxAttempts", "scheduledFor", "userId", "parentId", "uniqueKey", "waitingOn")
VALUES ($1, $2, $3, $4, $5, COALESCE($6, now()), $7, $8, $9, $10)
ON CONFLICT ("uniqueKey") WHERE "uniqueKey" IS NOT NULL AND status IN ('PENDING', 'RUNNING', 'RETRYING') DO NOTHING
RETURNING id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
          attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
          "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory";

-- name: JobByUniqueKey
-- The live job holding unique key $1.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE "uniqueKey" = $1 AND status IN ('PENDING', 'RUNNING', 'RETRYING');

-- name: JobsLockShared
-- Keeps the live jobs /*:ids*/ (an IN list, In) from changing until
-- commit, so a dependency counted as not complete cannot complete unseen.
-- A locking clause cannot apply to a UNION (JobsStatus): the live rows are
-- locked first, in id order like every other statement locking several.
SELECT id FROM "Job" WHERE id IN /*:ids*/ ORDER BY id FOR SHARE;

-- name: JobsStatus
-- The status of each of /*:ids*/ (an IN list, In) found live or archived.
SELECT id, status FROM "Job" WHERE id IN /*:ids*/
UNION ALL
SELECT id, status FROM "JobArchive" WHERE id IN /*:ids*/;

-- name: DependencyInsert
-- Records that job $1 depends on job $2.
INSERT INTO "JobDependency" ("jobId", "dependsOnId") VALUES ($1, $2);

-- name: JobImport
-- Inserts a whole job row as it is, in any status ("priorityRank" is
-- generated). Import repeats the VALUES tuple (manyRows) for importBatch
-- rows a statement. $1 to $23 the columns, in importValues' order.
INSERT INTO "Job" (id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
                   attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
                   "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory")
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23);
