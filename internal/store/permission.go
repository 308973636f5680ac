package store

import (
	"fmt"
	"strings"
)

// Permission is one of the guide's permissions. Every store operation
// declares the one it needs where it runs, so a refusal by the database's
// grants names the right one.
type Permission string

// The guide's permissions. On Postgres each is a group role, each including
// the one before: jobctl_read, jobctl_write, jobctl_delete.
const (
	PermRead   Permission = "jobs:read"
	PermWrite  Permission = "jobs:write"
	PermDelete Permission = "jobs:delete"
)

// Role is the Postgres group role that grants p: jobctl_read for jobs:read.
func (p Permission) Role() string {
	return "jobctl_" + strings.TrimPrefix(string(p), "jobs:")
}

// Permission is what the action needs. Restore is a delete-level action,
// like the archive it undoes: it takes rows out of "JobArchive".
func (a Action) Permission() Permission {
	switch a {
	case ActRetry, ActCancel, ActStart:
		return PermWrite
	case ActDelete, ActPurge, ActArchive, ActRestore:
		return PermDelete
	}
	return "" // a new action must declare one: TestActionsDeclarePermission
}

// PermissionError is an operation refused by the database's grants.
type PermissionError struct {
	Op   string     // what was attempted, e.g. "purge"
	Perm Permission // what Op declares it needs
	// Need, when set, says what Op lacks in words instead of a Perm: for
	// migrate, which needs DDL rights no jobctl role has.
	Need string
	Role string // the login role that was refused
	Err  error
}

func (e *PermissionError) Error() string {
	switch {
	case e.Need != "":
		return fmt.Sprintf("permission denied: %s needs %s", e.Op, e.Need)
	case e.Perm == "" && e.Err != nil:
		// Nothing declared: the database's own words are all there is.
		return fmt.Sprintf("permission denied: %s: %v", e.Op, e.Err)
	}
	who := e.Role
	if who == "" {
		who = "your login"
	}
	return fmt.Sprintf("permission denied: %s needs %s (GRANT %s TO %s)", e.Op, e.Perm, e.Perm.Role(), who)
}

func (e *PermissionError) Unwrap() error { return e.Err }
