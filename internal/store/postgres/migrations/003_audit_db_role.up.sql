-- The audit trail's database role is the database's word. Until now the
-- client wrote it into metadata, so any login that may INSERT into
-- "AuditLog" could write any role there. "dbRole" is filled by a trigger
-- that overwrites whatever the INSERT says; only the table's owner can
-- disable the trigger or UPDATE the row.
--
-- It records session_user, the role that logged in, not current_user: after
-- SET ROLE jobctl_write, current_user is the group role and says nothing of
-- who acted, while session_user cannot be changed without superuser. With no
-- SET ROLE the two are the same. SECURITY INVOKER (the default, said out
-- loud) keeps the function from running as its owner.
--
-- Rows written before this migration keep their client-written
-- metadata.dbRole and have no "dbRole": they are not vouched for.
ALTER TABLE "AuditLog" ADD COLUMN "dbRole" text;

CREATE FUNCTION "AuditLog_dbRole"() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog
AS $$
BEGIN
  NEW."dbRole" := session_user;
  RETURN NEW;
END
$$;

CREATE TRIGGER "AuditLog_dbRole" BEFORE INSERT ON "AuditLog"
  FOR EACH ROW EXECUTE FUNCTION "AuditLog_dbRole"();

-- jobctl_delete restores archived jobs: the restore locks the "JobArchive"
-- rows it moves (SELECT … FOR UPDATE), which Postgres allows only with
-- UPDATE. That gives the role nothing new: it may already DELETE and
-- INSERT archived rows.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_delete') THEN
    GRANT UPDATE ON "JobArchive" TO jobctl_delete;
  END IF;
END $$;
