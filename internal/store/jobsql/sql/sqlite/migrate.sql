-- SQLite's spelling of the statements in ../migrate.sql that differ beyond
-- the rewrites (statements.go).

-- name: MigrationTableCreate
-- Times are TimeLayout text; the insert always gives one.
CREATE TABLE IF NOT EXISTS "SchemaMigration" (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    "appliedAt" TEXT NOT NULL
);
