-- Every index that orders by "createdAt" is ascending; see Postgres's
-- 008. SQLite's b-tree packs pages when new keys land after the last
-- one, even mid-index: a status's new jobs, a million inserted in time
-- order between two other statuses' rows, made a 130 MB index half
-- empty descending and a 66 MB one ascending. That is a sixth of what
-- a bulk enqueue writes, twice over (into the WAL, then the file).
DROP INDEX "JobArchive_status_createdAt_idx";
CREATE INDEX "JobArchive_status_createdAt_idx" ON "JobArchive" (status, "createdAt", id);
DROP INDEX "JobArchive_createdAt_idx";
CREATE INDEX "JobArchive_createdAt_idx" ON "JobArchive" ("createdAt", id);
DROP INDEX "AuditLog_createdAt_idx";
CREATE INDEX "AuditLog_createdAt_idx" ON "AuditLog" ("createdAt", id);
DROP INDEX "AuditLog_resourceId_idx";
CREATE INDEX "AuditLog_resourceId_idx" ON "AuditLog" ("resourceId", "createdAt");
DROP INDEX "Job_status_createdAt_idx";
CREATE INDEX "Job_status_createdAt_idx" ON "Job" (status, "createdAt", id, type);
DROP INDEX "Job_userId_idx";
CREATE INDEX "Job_userId_idx" ON "Job" ("userId", "createdAt") WHERE "userId" IS NOT NULL;
