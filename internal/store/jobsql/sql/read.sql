-- Reading jobs: one job, a page of a listing, the jobs around one. Every
-- statement selects the columns ScanJob reads, in its order (JobColumns);
-- the archive's add "archivedAt".

-- name: JobGet
-- A live job. $1 its id.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE id = $1;

-- name: ArchiveGet
-- An archived job. $1 its id.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory", "archivedAt"
FROM "JobArchive"
WHERE id = $1;

-- name: JobDependsOn
-- The ids job $1 depends on.
SELECT "dependsOnId" FROM "JobDependency" WHERE "jobId" = $1 ORDER BY "dependsOnId";

-- name: JobList
-- A page of $1 live jobs. /*:filter*/ is the filter's conditions
-- (Conditions); /*:after*/ is "" for the first page, else " AND …" keeping
-- the rows that sort after the anchor row (afterCondition); /*:order*/ the
-- listing's order (orderBy). Their parameters number from $2 on. Paging by
-- keyset: each page is an index range, however deep.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE /*:filter*//*:after*/
ORDER BY /*:order*/
LIMIT $1;

-- name: JobListMerged
-- JobList in "createdAt" order for a filter that names several statuses
-- or none. "Job" has no index led by "createdAt" (Postgres migration 006),
-- so the page merges one ordered range of Job_status_createdAt_idx per
-- status (/*:ranges*/: a JobList page for each, its filter led by the
-- status, joined by UNION ALL in listRanges), each cut to the page, and
-- cuts the merge: the page reads about as many index entries as it shows,
-- however many jobs match.
-- /*:order*/ as JobList's; $1 the page size.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM (/*:ranges*/) m
ORDER BY /*:order*/
LIMIT $1;

-- name: ArchiveList
-- JobList for archived jobs.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory", "archivedAt"
FROM "JobArchive"
WHERE /*:filter*//*:after*/
ORDER BY /*:order*/
LIMIT $1;

-- name: JobChildren
-- The live jobs whose parent is job $1, oldest first: the first 100, as
-- `show` lists.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE "parentId" = $1
ORDER BY "createdAt", id
LIMIT 100;

-- name: JobDependencies
-- The live jobs job $1 depends on, oldest first, the first 100.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE id IN (SELECT "dependsOnId" FROM "JobDependency" WHERE "jobId" = $1)
ORDER BY "createdAt", id
LIMIT 100;

-- name: JobDependents
-- The live jobs that depend on job $1, oldest first, the first 100.
SELECT id, type, status, priority, data, output, "errorMessage", "errorCode", "errorStack",
       attempts, "maxAttempts", "scheduledFor", "createdAt", "startedAt", "completedAt", "updatedAt",
       "userId", "parentId", "workerId", "cancelRequested", "uniqueKey", "waitingOn", "errorHistory"
FROM "Job"
WHERE id IN (SELECT "jobId" FROM "JobDependency" WHERE "dependsOnId" = $1)
ORDER BY "createdAt", id
LIMIT 100;
