-- The "AuditLog_dbRole" trigger (003) runs once per audit row, and a
-- function with a SET clause is called through a wrapper that opens a new
-- configuration level, sets search_path and undoes it, every call: 8% of
-- the server's time in an archive of a million jobs (perf, issue 11). Its
-- body names nothing search_path could resolve elsewhere: session_user is
-- a keyword, not a function, and NEW."dbRole" is the row's own column. So
-- the clause goes; what the trigger writes, and who may change it, stay.
ALTER FUNCTION "AuditLog_dbRole"() RESET search_path;
