-- SQLite's spelling of the statements in ../workers.sql that differ beyond
-- now().

-- name: WorkerRegister
-- The types stay the JSON array they came as.
INSERT INTO "Worker" (id, host, pid, types, concurrency, "jobsDone", "startedAt", "lastPing")
VALUES ($1, $2, $3, $4, $5, $6, now(), now())
ON CONFLICT (id) DO UPDATE SET "lastPing" = now();

-- name: WorkerPrune
-- One writer at a time and no row locks: no lock order to keep.
DELETE FROM "Worker"
WHERE "lastPing" < $1
  AND NOT EXISTS (SELECT 1 FROM "Job" WHERE "Job"."workerId" = "Worker".id AND "Job".status = 'RUNNING');

-- name: WorkerList
-- The types are a JSON array already.
SELECT w.id, w.host, w.pid, w."startedAt", w."lastPing", w.types, w.concurrency, w."jobsDone",
       (SELECT count(*) FROM "Job" j WHERE j."workerId" = w.id AND j.status = 'RUNNING')
FROM "Worker" w
ORDER BY w."startedAt" DESC, w.id;
