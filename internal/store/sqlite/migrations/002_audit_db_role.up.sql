-- Schema parity with Postgres, whose 003 adds the database role that wrote
-- each audit row. SQLite has no roles: the column stays NULL.
ALTER TABLE "AuditLog" ADD COLUMN "dbRole" TEXT;
