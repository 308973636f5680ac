package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// acctEnv runs jobctl in process against a fresh SQLite store, with
// captured streams that count as terminals or not.
type acctEnv struct {
	t               *testing.T
	f               *cmdutil.Factory
	in, out, errOut *bytes.Buffer
}

func newAcctEnv(t *testing.T, tty bool) *acctEnv {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "jobs.db")
	ios, in, out, errOut := render.Test(tty, tty)
	f := cmdutil.NewFactory(ios, func(k string) string {
		if k == "JOBCTL_DATABASE_URL" {
			return dsn
		}
		return ""
	})
	t.Cleanup(f.Close)
	if _, err := f.StoreCreate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &acctEnv{t: t, f: f, in: in, out: out, errOut: errOut}
}

func (e *acctEnv) run(stdin string, args ...string) int {
	e.in.Reset()
	e.out.Reset()
	e.errOut.Reset()
	e.in.WriteString(stdin)
	root := NewCmdRoot(e.f)
	root.SetArgs(args)
	return cmdutil.HandleError(e.f.IO, root.ExecuteContext(context.Background()))
}

// must runs a command that has to succeed.
func (e *acctEnv) must(stdin string, args ...string) {
	e.t.Helper()
	if code := e.run(stdin, args...); code != 0 {
		e.t.Fatalf("%v: exit %d: %s", args, code, e.errOut)
	}
}

// fails runs a command that has to fail with code and a one-line error
// containing msg.
func (e *acctEnv) fails(code int, msg, stdin string, args ...string) {
	e.t.Helper()
	got := e.run(stdin, args...)
	stderr := e.errOut.String()
	if got != code {
		e.t.Errorf("%v: exit %d; want %d (stderr %q)", args, got, code, stderr)
	}
	last := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
	if !strings.HasPrefix(last, "jobctl: ") || !strings.Contains(last, msg) {
		e.t.Errorf("%v: stderr %q; want a last line jobctl: …%s…", args, stderr, msg)
	}
}

func (e *acctEnv) store() store.Store {
	e.t.Helper()
	s, err := e.f.Store(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *acctEnv) account(name string) *store.Account {
	e.t.Helper()
	a, err := e.store().GetAccount(context.Background(), name)
	if err != nil {
		e.t.Fatalf("account %s: %v", name, err)
	}
	return a
}

func TestNewCmdUserAdd(t *testing.T) {
	tests := []struct {
		args    []string
		tty     bool
		want    UserAddOptions
		wantErr string
	}{
		{args: []string{"alice", "--role", "admin"}, tty: true, want: UserAddOptions{Name: "alice", Role: store.RoleAdmin}},
		{args: []string{"bob", "--role", "user", "--user-id", "user_123", "--password-stdin"},
			want: UserAddOptions{Name: "bob", Role: store.RoleUser, UserID: "user_123", PasswordStdin: true}},
		{args: []string{"ops@example.com", "--role", "manager", "--password-stdin"}, want: UserAddOptions{Name: "ops@example.com", Role: store.RoleManager, PasswordStdin: true}},
		{args: []string{"alice"}, tty: true, wantErr: "user add needs --role admin, manager or user"},
		{args: []string{"alice", "--role", "root"}, tty: true, wantErr: `unknown role "root"`},
		{args: []string{"bob", "--role", "user"}, tty: true, wantErr: "a user account needs --user-id"},
		{args: []string{"alice", "--role", "admin", "--user-id", "u1"}, tty: true, wantErr: "--user-id is for user accounts"},
		{args: []string{"bad name", "--role", "admin"}, tty: true, wantErr: "want 1 to 64 of"},
		{args: []string{strings.Repeat("a", 65), "--role", "admin"}, tty: true, wantErr: "want 1 to 64 of"},
		{args: []string{"alice", "--role", "admin"}, wantErr: "without one, pass --password-stdin"},
		{args: []string{}, tty: true, wantErr: "needs an account NAME"},
	}
	for _, tt := range tests {
		ios, _, _, _ := render.Test(tt.tty, tt.tty)
		f := cmdutil.NewFactory(ios, func(string) string { return "" })
		var got *UserAddOptions
		cmd := NewCmdUserAdd(f, func(_ context.Context, o *UserAddOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !cmdutil.IsUsageError(err) {
				t.Errorf("%v: err %v; want a usage error with %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if got.Name != tt.want.Name || got.Role != tt.want.Role || got.UserID != tt.want.UserID || got.PasswordStdin != tt.want.PasswordStdin {
			t.Errorf("%v: options %+v; want %+v", tt.args, got, tt.want)
		}
	}
}

func TestUserAddPasswordStdin(t *testing.T) {
	e := newAcctEnv(t, false)
	e.must("correct horse\n", "user", "add", "bob", "--role", "user", "--user-id", "user_123", "--password-stdin")
	if e.out.Len() != 0 || e.errOut.String() != "Added account bob (user, user ID user_123)\n" {
		t.Errorf("stdout %q stderr %q", e.out, e.errOut)
	}
	a := e.account("bob")
	if a.Role != store.RoleUser || a.UserID != "user_123" || !auth.CheckPassword(a.PasswordHash, "correct horse") {
		t.Errorf("stored %+v", a)
	}
	if !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
		t.Errorf("hash %q is not argon2id", a.PasswordHash)
	}
	// One line: what follows the first newline is not the password; no
	// newline at all is fine; a CRLF loses its CR.
	e.must("first line\nsecond line\n", "user", "add", "a1", "--role", "admin", "--password-stdin")
	e.must("no newline", "user", "add", "a2", "--role", "admin", "--password-stdin")
	e.must("windows!\r\n", "user", "add", "a3", "--role", "admin", "--password-stdin")
	for name, pw := range map[string]string{"a1": "first line", "a2": "no newline", "a3": "windows!"} {
		if !auth.CheckPassword(e.account(name).PasswordHash, pw) {
			t.Errorf("%s's password is not %q", name, pw)
		}
	}

	e.fails(1, "password too short: at least 8 characters; nothing changed", "short\n", "user", "add", "c", "--role", "admin", "--password-stdin")
	e.fails(1, "empty password", "", "user", "add", "c", "--role", "admin", "--password-stdin")
	e.fails(1, "empty password", "\n", "user", "add", "c", "--role", "admin", "--password-stdin")
	if _, err := e.store().GetAccount(context.Background(), "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused password added the account: %v", err)
	}
	e.fails(1, "account bob already exists; change its password with `jobctl user passwd bob`", "another pw\n",
		"user", "add", "bob", "--role", "admin", "--password-stdin")
	if a := e.account("bob"); a.Role != store.RoleUser || !auth.CheckPassword(a.PasswordHash, "correct horse") {
		t.Errorf("adding bob again changed him: %+v", a)
	}
}

func TestUserAddPrompt(t *testing.T) {
	e := newAcctEnv(t, true)
	e.must("correct horse\ncorrect horse\n", "user", "add", "alice", "--role", "admin")
	if e.errOut.String() != "Password: \nPassword (again): \nAdded account alice (admin)\n" || e.out.Len() != 0 {
		t.Errorf("stdout %q stderr %q", e.out, e.errOut)
	}
	if !auth.CheckPassword(e.account("alice").PasswordHash, "correct horse") {
		t.Error("alice's password is not the one typed")
	}
	e.fails(1, "the passwords do not match; nothing changed", "correct horse\ncorrect h0rse\n", "user", "add", "bob", "--role", "manager")
	// A short password is refused before it is asked for again.
	e.fails(1, "password too short", "short\nshort\n", "user", "add", "bob", "--role", "manager")
	if strings.Contains(e.errOut.String(), "again") {
		t.Errorf("asked again for a password already refused: %q", e.errOut)
	}
	e.fails(1, "no password given; nothing changed", "", "user", "add", "bob", "--role", "manager")
	// An existing account is refused before any password is asked for.
	e.fails(1, "account alice already exists", "x\n", "user", "add", "alice", "--role", "admin")
	if strings.Contains(e.errOut.String(), "Password") {
		t.Errorf("asked for a password for an account that exists: %q", e.errOut)
	}
	if n, _ := e.store().CountAccounts(context.Background()); n != 1 {
		t.Errorf("%d accounts; want only alice", n)
	}
}

func TestUserList(t *testing.T) {
	for _, tty := range []bool{false, true} {
		e := newAcctEnv(t, tty)
		e.must("", "user", "list")
		if e.out.Len() != 0 || e.errOut.String() != "No accounts; add one with `jobctl user add NAME --role admin`\n" {
			t.Errorf("tty=%v: empty list: stdout %q stderr %q", tty, e.out, e.errOut)
		}
		e.must("", "user", "list", "-o", "json")
		if e.out.String() != "[]\n" {
			t.Errorf("tty=%v: empty JSON list %q", tty, e.out)
		}
		ctx := context.Background()
		for _, a := range []*store.Account{
			{Name: "bob", Role: store.RoleUser, UserID: "user_123", PasswordHash: "h"},
			{Name: "alice", Role: store.RoleAdmin, PasswordHash: "h"},
		} {
			if err := e.store().AddAccount(ctx, a, "root"); err != nil {
				t.Fatal(err)
			}
		}
		login := time.Date(2025, 10, 25, 11, 0, 0, 0, time.UTC)
		if err := e.store().CreateSession(ctx, &store.Session{IDHash: "x", Account: "bob", CSRF: "c", CreatedAt: login, SeenAt: login}); err != nil {
			t.Fatal(err)
		}
		e.must("", "user", "list")
		lines := strings.Split(strings.TrimSuffix(e.out.String(), "\n"), "\n")
		sep := `\t`
		if tty {
			sep = `\s+`
		}
		want := []*regexp.Regexp{
			regexp.MustCompile(`^NAME` + sep + `ROLE` + sep + `USER ID` + sep + `CREATED` + sep + `LAST LOGIN\s*$`),
			regexp.MustCompile(`^alice` + sep + `admin` + sep + `-` + sep + `\S.*` + sep + `never\s*$`),
			regexp.MustCompile(`^bob` + sep + `user` + sep + `user_123` + sep + `\S.*` + sep + `(2025-10-25T11:00:00Z|1h ago)\s*$`),
		}
		if len(lines) != len(want) {
			t.Fatalf("tty=%v: table\n%s", tty, e.out)
		}
		for i, re := range want {
			if !re.MatchString(ansiEscape.ReplaceAllString(lines[i], "")) {
				t.Errorf("tty=%v: line %d %q; want %s", tty, i, lines[i], re)
			}
		}

		e.must("", "user", "list", "-o", "json")
		var got []map[string]any
		if err := json.Unmarshal(e.out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0]["name"] != "alice" || got[0]["userId"] != nil || got[1]["userId"] != "user_123" ||
			got[1]["lastLoginAt"] != "2025-10-25T11:00:00.000Z" || got[0]["lastLoginAt"] != nil {
			t.Errorf("tty=%v: JSON %s", tty, e.out)
		}
		if strings.Contains(e.out.String(), "assword") || strings.Contains(e.out.String(), `"h"`) {
			t.Errorf("the JSON shows the password hash: %s", e.out)
		}
		e.must("", "user", "list", "-o", "yaml")
		if !strings.Contains(e.out.String(), "- name: alice\n") {
			t.Errorf("YAML %s", e.out)
		}
		e.fails(2, `user list prints table, wide, json, jsonl or yaml, not "csv"`, "", "user", "list", "-o", "csv")
	}
}

func TestUserRemove(t *testing.T) {
	e := newAcctEnv(t, true)
	ctx := context.Background()
	e.must("correct horse\n", "user", "add", "bob", "--role", "user", "--user-id", "u1", "--password-stdin")
	for _, name := range []string{"t1", "t2"} {
		e.must("", "token", "create", name, "--user", "bob")
	}
	// No, Enter and the end of input each keep the account.
	for _, answer := range []string{"n\n", "\n", ""} {
		code := e.run(answer, "user", "rm", "bob")
		if code != 1 || !strings.Contains(e.errOut.String(), "Remove account bob (user)? Its sessions end and its 2 API tokens are revoked. [y/N] ") ||
			!strings.HasSuffix(e.errOut.String(), "Aborted; nothing changed.\n") {
			t.Errorf("answer %q: exit %d, stderr %q", answer, code, e.errOut)
		}
		e.account("bob")
	}
	e.must("y\n", "user", "rm", "bob")
	if !strings.HasSuffix(e.errOut.String(), "Removed account bob\n") {
		t.Errorf("stderr %q", e.errOut)
	}
	if _, err := e.store().GetAccount(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob after rm: %v", err)
	}
	if ts, _ := e.store().ListTokens(ctx, ""); len(ts) != 0 {
		t.Errorf("bob's tokens outlived him: %+v", ts)
	}
	e.fails(1, "no account named bob; see `jobctl user list`", "y\n", "user", "rm", "bob")

	// Without a terminal it takes --yes.
	p := newAcctEnv(t, false)
	p.must("correct horse\n", "user", "add", "alice", "--role", "admin", "--password-stdin")
	p.fails(2, "user rm cannot be undone: pass --yes to run it without a terminal", "", "user", "rm", "alice")
	p.account("alice")
	p.must("", "user", "rm", "alice", "--yes")
	if p.errOut.String() != "Removed account alice\n" {
		t.Errorf("stderr %q", p.errOut)
	}
	p.fails(1, "no account named alice", "", "user", "rm", "alice", "-y")
}

func TestUserPasswd(t *testing.T) {
	e := newAcctEnv(t, false)
	ctx := context.Background()
	e.must("correct horse\n", "user", "add", "bob", "--role", "manager", "--password-stdin")
	now := time.Now()
	if err := e.store().CreateSession(ctx, &store.Session{IDHash: "s", Account: "bob", CSRF: "c", CreatedAt: now, SeenAt: now}); err != nil {
		t.Fatal(err)
	}
	e.must("", "token", "create", "ci", "--user", "bob")
	secret := strings.TrimSpace(e.out.String())

	e.fails(2, "user passwd asks for the password on a terminal; without one, pass --password-stdin", "", "user", "passwd", "bob")
	e.fails(1, "password too short", "short\n", "user", "passwd", "bob", "--password-stdin")
	e.must("battery staple\n", "user", "passwd", "bob", "--password-stdin")
	if e.errOut.String() != "Changed the password of bob; its sessions have ended\n" {
		t.Errorf("stderr %q", e.errOut)
	}
	if h := e.account("bob").PasswordHash; !auth.CheckPassword(h, "battery staple") || auth.CheckPassword(h, "correct horse") {
		t.Error("the password did not change")
	}
	if _, _, err := e.store().GetSession(ctx, "s"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob's session outlived his password: %v", err)
	}
	// Tokens are not sessions: they keep working.
	if _, _, err := auth.New(e.store(), auth.Options{}).Token(ctx, secret); err != nil {
		t.Errorf("bob's token stopped working: %v", err)
	}
	e.fails(1, "no account named nobody", "battery staple\n", "user", "passwd", "nobody", "--password-stdin")

	tty := newAcctEnv(t, true)
	tty.must("correct horse\n", "user", "add", "bob", "--role", "admin", "--password-stdin")
	tty.must("new password\nnew password\n", "user", "passwd", "bob")
	if !auth.CheckPassword(tty.account("bob").PasswordHash, "new password") {
		t.Error("the prompted password was not set")
	}
	// The account is checked before the password is asked for.
	tty.fails(1, "no account named nobody", "new password\nnew password\n", "user", "passwd", "nobody")
	if strings.Contains(tty.errOut.String(), "Password") {
		t.Errorf("asked a password for no account: %q", tty.errOut)
	}
}

// Ctrl-C at the password prompt exits 130 and changes nothing.
func TestUserAddInterrupted(t *testing.T) {
	ios, _, _, errOut := render.Test(true, true)
	r, w := io.Pipe() // a terminal nobody types at
	defer w.Close()
	ios.In = r
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := readNewPassword(ctx, ios, false)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != 130 {
		t.Errorf("err %v; want exit 130", err)
	}
	if !strings.HasPrefix(errOut.String(), "Password: ") {
		t.Errorf("stderr %q", errOut)
	}
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestAccountChangesAudited: user add, passwd and rm and token create and
// revoke each write an audit row with the actor (--as) as "userId", which
// `jobctl audit --action` finds by its word; none holds the password or
// the token.
func TestAccountChangesAudited(t *testing.T) {
	e := newAcctEnv(t, false)
	e.must("correct horse\n", "--as", "ada", "user", "add", "sam", "--role", "user", "--user-id", "user_9", "--password-stdin")
	e.must("", "--as", "ada", "token", "create", "ci", "--user", "sam")
	secret := strings.TrimSpace(e.out.String())
	e.must("battery staple\n", "--as", "ada", "user", "passwd", "sam", "--password-stdin")
	e.must("", "--as", "bob", "token", "revoke", "ci")
	e.must("", "--as", "bob", "user", "rm", "sam", "--yes")

	e.must("", "audit", "--action", "user-add,user-rm,user.passwd,TOKEN_CREATE,token-revoke", "-o", "json")
	var rows []struct {
		Action, UserID, Resource, ResourceID string
		Metadata                             json.RawMessage
	}
	if err := json.Unmarshal(e.out.Bytes(), &rows); err != nil {
		t.Fatalf("%v: %s", err, e.out)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Action+" "+r.UserID+" "+r.Resource+" "+r.ResourceID)
		for _, secret := range []string{"correct horse", "battery staple", secret, "argon2id"} {
			if strings.Contains(string(r.Metadata), secret) {
				t.Errorf("%s row holds a secret: %s", r.Action, r.Metadata)
			}
		}
	}
	want := []string{"USER_REMOVE bob Account sam", "TOKEN_REVOKE bob ApiToken ci", "USER_PASSWD ada Account sam",
		"TOKEN_CREATE ada ApiToken ci", "USER_ADD ada Account sam"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	e.must("", "audit", "--action", "user-add")
	if !strings.Contains(e.out.String(), "USER_ADD") || !strings.Contains(e.out.String(), "Account sam") {
		t.Errorf("audit table:\n%s", e.out)
	}
}
