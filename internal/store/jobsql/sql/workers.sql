-- Workers ("Worker"): registered at start, pinged by heartbeats, pruned
-- when silent. Their times are the database's clock, so workers on hosts
-- with skewed clocks agree on who is silent.

-- name: WorkerRegister
-- Registers a worker or, for one re-registering after being pruned,
-- refreshes its row. $1 id, $2 host, $3 pid, $4 the job types it runs (a
-- JSON array of strings), $5 concurrency, $6 jobs done so far.
INSERT INTO "Worker" (id, host, pid, types, concurrency, "jobsDone", "startedAt", "lastPing")
VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text(CAST($4 AS jsonb))), $5, $6, now(), now())
ON CONFLICT (id) DO UPDATE SET "lastPing" = now();

-- name: WorkerHeartbeat
-- Refreshes a worker's "lastPing"; no row affected means it was pruned.
-- $1 jobs done so far, $2 the worker's id.
UPDATE "Worker" SET "lastPing" = now(), "jobsDone" = $1 WHERE id = $2;

-- name: WorkerCancelRequests
-- The running jobs of worker $1 that someone asked to cancel.
SELECT id FROM "Job" WHERE "workerId" = $1 AND status = 'RUNNING' AND "cancelRequested";

-- name: WorkerDelete
-- Deregisters worker $1.
DELETE FROM "Worker" WHERE id = $1;

-- name: WorkerPrune
-- Deletes the workers silent since before $1 that hold no running job
-- (those are rescued first, so none is orphaned unseen). The rows are
-- locked in id order before any is deleted (statements.go, "Lock order").
DELETE FROM "Worker"
WHERE "lastPing" < $1
  AND NOT EXISTS (SELECT 1 FROM "Job" WHERE "Job"."workerId" = "Worker".id AND "Job".status = 'RUNNING')
  AND id = ANY(ARRAY(
    SELECT id FROM "Worker"
    WHERE "lastPing" < $1
      AND NOT EXISTS (SELECT 1 FROM "Job" WHERE "Job"."workerId" = "Worker".id AND "Job".status = 'RUNNING')
    ORDER BY id FOR UPDATE));

-- name: WorkerList
-- Every worker with the number of jobs it holds, most recently started
-- first; the types as a JSON array.
SELECT w.id, w.host, w.pid, w."startedAt", w."lastPing", to_jsonb(w.types), w.concurrency, w."jobsDone",
       (SELECT count(*) FROM "Job" j WHERE j."workerId" = w.id AND j.status = 'RUNNING')
FROM "Worker" w
ORDER BY w."startedAt" DESC, w.id;
