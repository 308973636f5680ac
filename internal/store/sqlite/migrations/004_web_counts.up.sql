-- The catalog of job types; see Postgres's 005 for why. A row trigger
-- whose WHEN clause is one lookup in this small table: for a known type
-- (nearly every row) its body, a statement of its own, never runs.
CREATE TABLE "JobType" (
  type TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

INSERT OR IGNORE INTO "JobType" (type)
  SELECT type FROM "Job" UNION SELECT type FROM "JobArchive";

CREATE TRIGGER "Job_types" AFTER INSERT ON "Job"
WHEN NOT EXISTS (SELECT 1 FROM "JobType" WHERE type = NEW.type)
BEGIN
  INSERT OR IGNORE INTO "JobType" (type) VALUES (NEW.type);
END;

-- The status index carries the type too; see Postgres's 005.
DROP INDEX "Job_status_createdAt_idx";
CREATE INDEX "Job_status_createdAt_idx" ON "Job" (status, "createdAt" DESC, id DESC, type);
