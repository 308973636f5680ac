-- The record of applied migrations. The migrations themselves are the
-- numbered files in each backend's migrations/ directory; the catalog
-- queries and locks only one backend has are named constants in its
-- migrate.go.

-- name: MigrationTableCreate
-- Makes the record of applied migrations, before the first migration.
CREATE TABLE IF NOT EXISTS "SchemaMigration" (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    "appliedAt" timestamptz NOT NULL DEFAULT now()
);

-- name: MigrationsApplied
-- Each applied migration's version and when it was applied.
SELECT version, "appliedAt" FROM "SchemaMigration";

-- name: MigrationRecord
-- Records a migration as applied, in its transaction. $1 version, $2 name,
-- $3 when.
INSERT INTO "SchemaMigration" (version, name, "appliedAt") VALUES ($1, $2, $3);
