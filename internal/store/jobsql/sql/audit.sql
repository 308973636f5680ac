-- The audit log: rows written inside the transaction of the change they
-- record, so the two commit or roll back together, and the log's pages.
-- On Postgres a trigger fills "dbRole": the database role is not the
-- client's to write.

-- name: AuditWrite
-- Audit rows. WriteAudit repeats the VALUES tuple, its parameters
-- renumbered (manyRows), for up to Dialect.RowsPerInsert rows a statement.
-- $1 action, $2 actor, $3 resource, $4 resource id, $5 metadata (JSON text).
INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata)
VALUES ($1, $2, $3, $4, CAST($5 AS jsonb));

-- name: AuditCount
-- Counts the entries a filter matches; the filter's conditions fill
-- /*:filter*/ (auditConditions), from $1 on.
SELECT count(*) FROM "AuditLog" WHERE /*:filter*/;

-- name: AuditEntryExists
-- A row when the entry exists. $1 its id.
SELECT 1 FROM "AuditLog" WHERE id = $1;

-- name: AuditList
-- A page of entries, newest first. /*:filter*/ is auditConditions, from $1
-- on; /*:limit*/ the page size, a literal.
SELECT id, action, "userId", resource, "resourceId", metadata, "createdAt", "dbRole"
FROM "AuditLog"
WHERE /*:filter*/
ORDER BY "createdAt" DESC, id DESC
LIMIT /*:limit*/;

-- name: AuditListAfter
-- The page after entry $1, newest first. The anchor's keys are read in a
-- subquery, so the boundary is exact even when entries share a timestamp.
-- /*:filter*/ is auditConditions, from $2 on; /*:limit*/ the page size, a
-- literal.
SELECT id, action, "userId", resource, "resourceId", metadata, "createdAt", "dbRole"
FROM "AuditLog"
WHERE /*:filter*/ AND ("createdAt", id) < (SELECT "createdAt", id FROM "AuditLog" WHERE id = $1)
ORDER BY "createdAt" DESC, id DESC
LIMIT /*:limit*/;
