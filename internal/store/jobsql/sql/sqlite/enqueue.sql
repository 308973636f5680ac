-- SQLite's spelling of the statements in ../enqueue.sql that differ beyond
-- now().

-- name: JobsLockShared
-- Not run: BEGIN IMMEDIATE already keeps every other writer out.
