-- The guide's permissions as Postgres roles: jobctl_read (jobs:read),
-- jobctl_write (jobs:write: enqueue, retry, cancel, start, run workers,
-- schedules) and jobctl_delete (jobs:delete: delete, purge, archive,
-- restore). Each includes the one before. "AuditLog" is append-only for all
-- of them: only its owner may UPDATE or DELETE it.
--
-- Roles belong to the cluster, grants to this schema. A user who may not
-- create roles (no CREATEROLE) still migrates: the grants are made to the
-- roles that exist, and `jobctl migrate` can be run again by one who may.
DO $$
DECLARE
  schema_name text := current_schema();
  may_create boolean := (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user);
  r text;
BEGIN
  -- Two schemas migrating at once would race to create the same roles.
  PERFORM pg_advisory_xact_lock(hashtext('jobctl_roles'));
  FOREACH r IN ARRAY ARRAY['jobctl_read', 'jobctl_write', 'jobctl_delete'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) AND may_create THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;

  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_read') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO jobctl_read', schema_name);
    GRANT SELECT ON "Job", "JobDependency", "JobArchive", "AuditLog", "Worker", "RecurringJob", "SchemaMigration" TO jobctl_read;
  END IF;

  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_write') THEN
    IF may_create AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_read')
       AND NOT pg_has_role('jobctl_write', 'jobctl_read', 'MEMBER') THEN
      GRANT jobctl_read TO jobctl_write;
    END IF;
    GRANT INSERT, UPDATE ON "Job", "JobDependency" TO jobctl_write;
    GRANT INSERT, UPDATE, DELETE ON "Worker", "RecurringJob" TO jobctl_write;
    GRANT INSERT ON "AuditLog" TO jobctl_write;
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO jobctl_write', schema_name);
  END IF;

  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_delete') THEN
    IF may_create AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_write')
       AND NOT pg_has_role('jobctl_delete', 'jobctl_write', 'MEMBER') THEN
      GRANT jobctl_write TO jobctl_delete;
    END IF;
    GRANT DELETE ON "Job", "JobDependency" TO jobctl_delete;
    GRANT INSERT, DELETE ON "JobArchive" TO jobctl_delete;
  END IF;
END $$;

REVOKE UPDATE, DELETE, TRUNCATE ON "AuditLog" FROM PUBLIC;
