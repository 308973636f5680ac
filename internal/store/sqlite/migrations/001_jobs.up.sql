-- jobctl schema v1 for the embedded store. It mirrors the Postgres schema
-- (the reference): same tables, columns and statuses. Times are fixed-width
-- UTC text ('2025-10-25T10:00:00.000Z') so text order is time order; JSON is
-- text; booleans are 0/1.

CREATE TABLE "Job" (
  id                TEXT PRIMARY KEY NOT NULL DEFAULT ('job_' ||
                      -- A lower-case ULID, as jobctl_job_id() makes on Postgres.
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 45) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 40) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 35) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 30) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 25) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 20) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 15) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 10) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', ((CAST(unixepoch('subsec') * 1000 AS INTEGER) >> 5) & 31) + 1, 1) ||
                      substr('0123456789abcdefghjkmnpqrstvwxyz', (CAST(unixepoch('subsec') * 1000 AS INTEGER) & 31) + 1, 1) ||
                      lower(substr(hex(randomblob(10)), 1, 16))),
  type              TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING','RUNNING','COMPLETED','FAILED','RETRYING','CANCELLED','DEAD')),
  priority          TEXT NOT NULL DEFAULT 'NORMAL'
                    CHECK (priority IN ('LOW','NORMAL','HIGH','CRITICAL')),
  "priorityRank"    INTEGER GENERATED ALWAYS AS (
                      CASE priority WHEN 'LOW' THEN 0 WHEN 'HIGH' THEN 2 WHEN 'CRITICAL' THEN 3 ELSE 1 END
                    ) STORED,
  data              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  output            TEXT CHECK (output IS NULL OR json_valid(output)),
  "errorMessage"    TEXT,
  "errorCode"       TEXT,
  "errorStack"      TEXT,
  attempts          INTEGER NOT NULL DEFAULT 0,
  "maxAttempts"     INTEGER NOT NULL DEFAULT 5 CHECK ("maxAttempts" >= 1),
  "scheduledFor"    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "createdAt"       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "startedAt"       TEXT,
  "completedAt"     TEXT,
  "updatedAt"       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "userId"          TEXT,
  "parentId"        TEXT,
  "workerId"        TEXT,
  "cancelRequested" INTEGER NOT NULL DEFAULT 0,
  "uniqueKey"       TEXT,
  "waitingOn"       INTEGER NOT NULL DEFAULT 0,
  "errorHistory"    TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX "Job_claim_idx" ON "Job" (type, "priorityRank" DESC, "scheduledFor", id)
  WHERE status IN ('PENDING', 'RETRYING') AND "waitingOn" = 0;
CREATE INDEX "Job_status_createdAt_idx" ON "Job" (status, "createdAt" DESC, id DESC);
CREATE INDEX "Job_createdAt_idx" ON "Job" ("createdAt" DESC, id DESC);
CREATE INDEX "Job_status_completedAt_idx" ON "Job" (status, "completedAt") WHERE "completedAt" IS NOT NULL;
CREATE INDEX "Job_userId_idx" ON "Job" ("userId", "createdAt" DESC) WHERE "userId" IS NOT NULL;
CREATE INDEX "Job_parentId_idx" ON "Job" ("parentId") WHERE "parentId" IS NOT NULL;
CREATE UNIQUE INDEX "Job_uniqueKey_idx" ON "Job" ("uniqueKey")
  WHERE "uniqueKey" IS NOT NULL AND status IN ('PENDING', 'RUNNING', 'RETRYING');

CREATE TABLE "JobDependency" (
  "jobId"       TEXT NOT NULL,
  "dependsOnId" TEXT NOT NULL,
  PRIMARY KEY ("jobId", "dependsOnId")
) WITHOUT ROWID;
CREATE INDEX "JobDependency_dependsOnId_idx" ON "JobDependency" ("dependsOnId");

CREATE TABLE "JobArchive" (
  id                TEXT PRIMARY KEY NOT NULL,
  type              TEXT NOT NULL,
  status            TEXT NOT NULL,
  priority          TEXT NOT NULL,
  "priorityRank"    INTEGER GENERATED ALWAYS AS (
                      CASE priority WHEN 'LOW' THEN 0 WHEN 'HIGH' THEN 2 WHEN 'CRITICAL' THEN 3 ELSE 1 END
                    ) STORED,
  data              TEXT NOT NULL,
  output            TEXT,
  "errorMessage"    TEXT,
  "errorCode"       TEXT,
  "errorStack"      TEXT,
  attempts          INTEGER NOT NULL,
  "maxAttempts"     INTEGER NOT NULL,
  "scheduledFor"    TEXT NOT NULL,
  "createdAt"       TEXT NOT NULL,
  "startedAt"       TEXT,
  "completedAt"     TEXT,
  "updatedAt"       TEXT NOT NULL,
  "userId"          TEXT,
  "parentId"        TEXT,
  "workerId"        TEXT,
  "cancelRequested" INTEGER NOT NULL DEFAULT 0,
  "uniqueKey"       TEXT,
  "waitingOn"       INTEGER NOT NULL DEFAULT 0,
  "errorHistory"    TEXT NOT NULL DEFAULT '[]',
  "archivedAt"      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- Archive and audit rows are written in bulk and read rarely: each index
-- here costs every archived job, so only the listings' orders are indexed.
CREATE INDEX "JobArchive_status_createdAt_idx" ON "JobArchive" (status, "createdAt" DESC, id DESC);
CREATE INDEX "JobArchive_createdAt_idx" ON "JobArchive" ("createdAt" DESC, id DESC);

CREATE TABLE "AuditLog" (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  action        TEXT NOT NULL,
  "userId"      TEXT NOT NULL,
  resource      TEXT NOT NULL,
  "resourceId"  TEXT NOT NULL,
  metadata      TEXT NOT NULL DEFAULT '{}',
  "createdAt"   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX "AuditLog_createdAt_idx" ON "AuditLog" ("createdAt" DESC, id DESC);
CREATE INDEX "AuditLog_resourceId_idx" ON "AuditLog" ("resourceId", "createdAt" DESC);

CREATE TABLE "Worker" (
  id            TEXT PRIMARY KEY NOT NULL,
  host          TEXT NOT NULL,
  pid           INTEGER NOT NULL,
  "startedAt"   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "lastPing"    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  types         TEXT NOT NULL DEFAULT '[]',
  concurrency   INTEGER NOT NULL,
  "jobsDone"    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "RecurringJob" (
  name          TEXT PRIMARY KEY NOT NULL,
  type          TEXT NOT NULL,
  schedule      TEXT NOT NULL,
  timezone      TEXT NOT NULL DEFAULT 'UTC',
  data          TEXT NOT NULL DEFAULT '{}',
  priority      TEXT NOT NULL DEFAULT 'NORMAL'
                CHECK (priority IN ('LOW','NORMAL','HIGH','CRITICAL')),
  "nextRunAt"   TEXT NOT NULL,
  "lastRunAt"   TEXT,
  "lastJobId"   TEXT,
  "createdAt"   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "updatedAt"   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
