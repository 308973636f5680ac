-- The catalog of job types, for the web admin's type filter: reading the
-- distinct types of "Job" is a scan of the whole table (there is no index
-- led by type, see 001), while this is as long as the list of types. A
-- trigger fills it from every INSERT into "Job", so jobs enqueued by the
-- runbook's SQL or restored from the archive count too. Types are never
-- removed: a type whose jobs have all been archived is still a type.
CREATE TABLE "JobType" (
  type text PRIMARY KEY
);

INSERT INTO "JobType" (type)
  SELECT type FROM "Job" UNION SELECT type FROM "JobArchive";

-- One statement per INSERT statement, whatever its row count (COPY of a
-- million rows included). The common case, every type known, inserts
-- nothing and takes no lock. New types go in in order, so two statements
-- adding the same new types wait for each other rather than deadlock.
-- search_path is the schema's, as at migration time, so an INSERT from a
-- session whose search_path is elsewhere (psql, the runbook) still finds
-- "JobType".
CREATE FUNCTION jobctl_job_types() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO "JobType" (type)
    SELECT DISTINCT n.type FROM new_jobs n
    WHERE NOT EXISTS (SELECT 1 FROM "JobType" t WHERE t.type = n.type)
    ORDER BY n.type
    ON CONFLICT (type) DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER "Job_types" AFTER INSERT ON "Job"
  REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION jobctl_job_types();

-- COMPLETED and CANCELLED counts above the web admin's exact limit are
-- the planner's estimates (jobsql.countUpTo); with the joint statistics
-- of type and status, an estimate for `type = X AND status = Y` is read
-- from their most common pairs rather than multiplied as if independent.
CREATE STATISTICS "Job_type_status_stats" (mcv) ON type, status FROM "Job";

REVOKE ALL ON "JobType" FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_read') THEN
    GRANT SELECT ON "JobType" TO jobctl_read;
  END IF;
  -- Every INSERT into "Job" runs the trigger as the inserting role.
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_write') THEN
    GRANT INSERT ON "JobType" TO jobctl_write;
  END IF;
END $$;

-- The web admin's filters by status and type (its list, its counts, the
-- dashboard's counts by type) read the type from this index rather than
-- from every matching row of the table: with type as a trailing key
-- column, `status = X AND type = Y` is checked on the index entries, and a
-- count of it is an index-only scan. Lists by status in "createdAt" order
-- use the index as before. Rebuilding it blocks writes to "Job" for the
-- build (about 3 s per million jobs).
DROP INDEX "Job_status_createdAt_idx";
CREATE INDEX "Job_status_createdAt_idx" ON "Job" (status, "createdAt" DESC, id DESC, type);
