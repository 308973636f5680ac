-- SQLite's spelling of the statements in ../audit.sql that differ beyond
-- now().

-- name: AuditWrite
-- SQLite keeps JSON as text; json() checks and minifies it.
INSERT INTO "AuditLog" (action, "userId", resource, "resourceId", metadata)
VALUES ($1, $2, $3, $4, json($5));
