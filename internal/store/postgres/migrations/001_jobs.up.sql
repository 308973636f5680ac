-- jobctl schema v1: the job table the guide's SQL runbook runs against, and
-- the tables around it. Quoted camelCase columns and upper-case statuses are
-- the guide's (its application uses Prisma); every column but type has a
-- default so applications can enqueue with a plain INSERT.

-- job_ + a lower-case ULID (10 chars of millisecond time, 16 random), the
-- same format jobctl makes in Go, so IDs sort by creation time.
CREATE FUNCTION jobctl_job_id() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
  alphabet constant text := '0123456789abcdefghjkmnpqrstvwxyz';
  ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  id text := '';
BEGIN
  FOR i IN REVERSE 9..0 LOOP
    id := id || substr(alphabet, ((ms >> (i * 5)) & 31)::int + 1, 1);
  END LOOP;
  FOR i IN 1..16 LOOP
    id := id || substr(alphabet, floor(random() * 32)::int + 1, 1);
  END LOOP;
  RETURN 'job_' || id;
END $$;

CREATE TABLE "Job" (
  id                text PRIMARY KEY DEFAULT jobctl_job_id(),
  type              text NOT NULL,
  status            text NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING','RUNNING','COMPLETED','FAILED','RETRYING','CANCELLED','DEAD')),
  priority          text NOT NULL DEFAULT 'NORMAL'
                    CHECK (priority IN ('LOW','NORMAL','HIGH','CRITICAL')),
  -- The claim order needs a number; generated so a plain INSERT or UPDATE of
  -- priority keeps it right.
  "priorityRank"    smallint GENERATED ALWAYS AS (
                      CASE priority WHEN 'LOW' THEN 0 WHEN 'HIGH' THEN 2 WHEN 'CRITICAL' THEN 3 ELSE 1 END
                    ) STORED,
  data              jsonb NOT NULL DEFAULT '{}',
  output            jsonb,
  "errorMessage"    text,
  "errorCode"       text,
  "errorStack"      text,
  attempts          integer NOT NULL DEFAULT 0,
  "maxAttempts"     integer NOT NULL DEFAULT 5 CHECK ("maxAttempts" >= 1),
  "scheduledFor"    timestamptz NOT NULL DEFAULT now(),
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "startedAt"       timestamptz,
  "completedAt"     timestamptz,
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "userId"          text,
  "parentId"        text,
  -- What the worker needs beyond the guide's columns.
  "workerId"        text,
  "cancelRequested" boolean NOT NULL DEFAULT false,
  "uniqueKey"       text,
  -- How many of the job's dependencies are not COMPLETED yet; claiming
  -- skips jobs with waitingOn > 0 through the claim index instead of joining
  -- "JobDependency".
  "waitingOn"       integer NOT NULL DEFAULT 0,
  "errorHistory"    jsonb NOT NULL DEFAULT '[]'
);

-- Claiming: due PENDING/RETRYING jobs by priority, then scheduledFor, then
-- id. A claim reads one ordered range of this index per job type it
-- handles and merges them, so it reads only the rows it takes, whatever the
-- planner's statistics say about a type.
CREATE INDEX "Job_claim_idx" ON "Job" (type, "priorityRank" DESC, "scheduledFor", id)
  WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0;
-- list --status X [--type Y] newest first, and the runbook's per-status
-- scans. Every status change writes every index of "Job", so there is no
-- (type, status) index: --type filters along this one.
CREATE INDEX "Job_status_createdAt_idx" ON "Job" (status, "createdAt" DESC, id DESC);
-- list with no filter, and --since/--until alone.
CREATE INDEX "Job_createdAt_idx" ON "Job" ("createdAt" DESC, id DESC);
-- archive/purge --older: finished jobs by completion time.
CREATE INDEX "Job_status_completedAt_idx" ON "Job" (status, "completedAt") WHERE "completedAt" IS NOT NULL;
CREATE INDEX "Job_userId_idx" ON "Job" ("userId", "createdAt" DESC) WHERE "userId" IS NOT NULL;
CREATE INDEX "Job_parentId_idx" ON "Job" ("parentId") WHERE "parentId" IS NOT NULL;
-- One live job per unique key.
CREATE UNIQUE INDEX "Job_uniqueKey_idx" ON "Job" ("uniqueKey")
  WHERE "uniqueKey" IS NOT NULL AND status IN ('PENDING', 'RUNNING', 'RETRYING');

-- Workers LISTEN on jobctl_job (payload: the schema, so workers of other
-- schemas in the same database ignore it). Statement-level, so a bulk insert
-- sends one notification, not one per row.
CREATE FUNCTION jobctl_notify_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jobctl_job', TG_TABLE_SCHEMA);
  RETURN NULL;
END $$;

-- Updates notify only when they make a job claimable now (the runbook's
-- bulk-retry UPDATEs, jobctl retry and start); workers' own claim and
-- completion updates stay quiet.
CREATE FUNCTION jobctl_notify_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows WHERE status = 'PENDING' AND "scheduledFor" <= now()) THEN
    PERFORM pg_notify('jobctl_job', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "Job_notify_insert" AFTER INSERT ON "Job"
  FOR EACH STATEMENT EXECUTE FUNCTION jobctl_notify_insert();
CREATE TRIGGER "Job_notify_update" AFTER UPDATE ON "Job"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION jobctl_notify_update();

-- Job chains: "jobId" waits for "dependsOnId" to complete. No foreign keys,
-- so archiving either side keeps the record of the chain.
CREATE TABLE "JobDependency" (
  "jobId"       text NOT NULL,
  "dependsOnId" text NOT NULL,
  PRIMARY KEY ("jobId", "dependsOnId")
);
CREATE INDEX "JobDependency_dependsOnId_idx" ON "JobDependency" ("dependsOnId");

CREATE TABLE "JobArchive" (
  id                text PRIMARY KEY,
  type              text NOT NULL,
  status            text NOT NULL,
  priority          text NOT NULL,
  "priorityRank"    smallint GENERATED ALWAYS AS (
                      CASE priority WHEN 'LOW' THEN 0 WHEN 'HIGH' THEN 2 WHEN 'CRITICAL' THEN 3 ELSE 1 END
                    ) STORED,
  data              jsonb NOT NULL,
  output            jsonb,
  "errorMessage"    text,
  "errorCode"       text,
  "errorStack"      text,
  attempts          integer NOT NULL,
  "maxAttempts"     integer NOT NULL,
  "scheduledFor"    timestamptz NOT NULL,
  "createdAt"       timestamptz NOT NULL,
  "startedAt"       timestamptz,
  "completedAt"     timestamptz,
  "updatedAt"       timestamptz NOT NULL,
  "userId"          text,
  "parentId"        text,
  "workerId"        text,
  "cancelRequested" boolean NOT NULL DEFAULT false,
  "uniqueKey"       text,
  "waitingOn"       integer NOT NULL DEFAULT 0,
  "errorHistory"    jsonb NOT NULL DEFAULT '[]',
  "archivedAt"      timestamptz NOT NULL DEFAULT now()
);
-- Archive and audit rows are written in bulk and read rarely: each index
-- here costs every archived job, so only the listings' orders are indexed.
CREATE INDEX "JobArchive_status_createdAt_idx" ON "JobArchive" (status, "createdAt" DESC, id DESC);
CREATE INDEX "JobArchive_createdAt_idx" ON "JobArchive" ("createdAt" DESC, id DESC);

CREATE TABLE "AuditLog" (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  action        text NOT NULL,
  "userId"      text NOT NULL,
  resource      text NOT NULL,
  "resourceId"  text NOT NULL,
  metadata      jsonb NOT NULL DEFAULT '{}',
  "createdAt"   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX "AuditLog_createdAt_idx" ON "AuditLog" ("createdAt" DESC, id DESC);
CREATE INDEX "AuditLog_resourceId_idx" ON "AuditLog" ("resourceId", "createdAt" DESC);

CREATE TABLE "Worker" (
  id            text PRIMARY KEY,
  host          text NOT NULL,
  pid           integer NOT NULL,
  "startedAt"   timestamptz NOT NULL DEFAULT now(),
  "lastPing"    timestamptz NOT NULL DEFAULT now(),
  types         text[] NOT NULL DEFAULT '{}',
  concurrency   integer NOT NULL,
  "jobsDone"    bigint NOT NULL DEFAULT 0
);

CREATE TABLE "RecurringJob" (
  name          text PRIMARY KEY,
  type          text NOT NULL,
  schedule      text NOT NULL,
  timezone      text NOT NULL DEFAULT 'UTC',
  data          jsonb NOT NULL DEFAULT '{}',
  priority      text NOT NULL DEFAULT 'NORMAL'
                CHECK (priority IN ('LOW','NORMAL','HIGH','CRITICAL')),
  "nextRunAt"   timestamptz NOT NULL,
  "lastRunAt"   timestamptz,
  "lastJobId"   text,
  "createdAt"   timestamptz NOT NULL DEFAULT now(),
  "updatedAt"   timestamptz NOT NULL DEFAULT now()
);
