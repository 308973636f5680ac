package store_test

import (
	"errors"
	"testing"

	"github.com/jobctl/jobctl/internal/store"
)

func TestActionsDeclarePermission(t *testing.T) {
	want := map[store.Action]store.Permission{
		store.ActRetry: store.PermWrite, store.ActCancel: store.PermWrite, store.ActStart: store.PermWrite,
		store.ActDelete: store.PermDelete, store.ActPurge: store.PermDelete, store.ActArchive: store.PermDelete,
		// Restore undoes archive and takes rows out of "JobArchive".
		store.ActRestore: store.PermDelete,
	}
	for a, p := range want {
		if a.AuditAction() == "" {
			t.Errorf("%s: not an action", a)
		}
		if got := a.Permission(); got != p {
			t.Errorf("%s needs %q; want %q", a, got, p)
		}
	}
	if p := store.Action("frobnicate").Permission(); p != "" {
		t.Errorf("an unknown action declares %q", p)
	}
}

func TestPermissionError(t *testing.T) {
	cause := errors.New("permission denied for table Job")
	for _, c := range []struct {
		err  *store.PermissionError
		want string
	}{
		{&store.PermissionError{Op: "stats", Perm: store.PermRead, Role: "alice", Err: cause},
			"permission denied: stats needs jobs:read (GRANT jobctl_read TO alice)"},
		{&store.PermissionError{Op: "restore", Perm: store.PermDelete, Role: "bob"},
			"permission denied: restore needs jobs:delete (GRANT jobctl_delete TO bob)"},
		{&store.PermissionError{Op: "enqueue", Perm: store.PermWrite},
			"permission denied: enqueue needs jobs:write (GRANT jobctl_write TO your login)"},
		{&store.PermissionError{Op: "migrate", Role: "carol", Need: `to create tables in schema "s" (CREATE on schema "s", or run it as the schema's owner)`},
			`permission denied: migrate needs to create tables in schema "s" (CREATE on schema "s", or run it as the schema's owner)`},
		{&store.PermissionError{Op: "migrate", Role: "dave", Err: errors.New("permission denied for schema s")},
			"permission denied: migrate: permission denied for schema s"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if err := error(&store.PermissionError{Op: "x", Perm: store.PermRead, Err: cause}); !errors.Is(err, cause) {
		t.Error("the database's error is not kept")
	}
}
