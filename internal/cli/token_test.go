package cli

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/internal/auth"
	"github.com/jobctl/jobctl/internal/store"
)

func TestTokenCreate(t *testing.T) {
	for _, tty := range []bool{false, true} {
		e := newAcctEnv(t, tty)
		ctx := context.Background()
		if err := e.store().AddAccount(ctx, &store.Account{Name: "bot", Role: store.RoleManager, PasswordHash: "h"}, "root"); err != nil {
			t.Fatal(err)
		}
		e.must("", "token", "create", "ci", "--user", "bot")
		// stdout is the token alone, terminal or not: what a pipe to a
		// secret store needs; the note is on stderr.
		if !regexp.MustCompile(`\Ajobctl_[A-Za-z0-9_-]{43}\n\z`).MatchString(e.out.String()) {
			t.Errorf("tty=%v: stdout %q; want the token and a newline", tty, e.out)
		}
		if e.errOut.String() != "Created token ci for bot. Copy it now: it will not be shown again.\n" {
			t.Errorf("tty=%v: stderr %q", tty, e.errOut)
		}
		secret := strings.TrimSpace(e.out.String())
		tok, a, err := auth.New(e.store(), auth.Options{}).Token(ctx, secret)
		if err != nil || tok.Name != "ci" || a.Name != "bot" {
			t.Errorf("tty=%v: the printed token does not work: %+v %+v %v", tty, tok, a, err)
		}

		e.fails(1, "token ci already exists; revoke it first with `jobctl token revoke ci`", "", "token", "create", "ci", "--user", "bot")
		e.fails(1, "no account named nobody; see `jobctl user list`", "", "token", "create", "ci2", "--user", "nobody")
		e.fails(2, "token create needs --user ACCOUNT", "", "token", "create", "ci2")
		e.fails(2, "token name \"no good\"", "", "token", "create", "no good", "--user", "bot")
		e.fails(2, "token create needs a token NAME", "", "token", "create", "--user", "bot")
		if ts, _ := e.store().ListTokens(ctx, ""); len(ts) != 1 {
			t.Errorf("tty=%v: refused creates left tokens: %+v", tty, ts)
		}
	}
}

func TestTokenListAndRevoke(t *testing.T) {
	e := newAcctEnv(t, false)
	ctx := context.Background()
	e.must("", "token", "list")
	if e.out.Len() != 0 || e.errOut.String() != "No API tokens\n" {
		t.Errorf("empty list: stdout %q stderr %q", e.out, e.errOut)
	}
	for _, a := range []string{"alice", "bot"} {
		if err := e.store().AddAccount(ctx, &store.Account{Name: a, Role: store.RoleAdmin, PasswordHash: "h"}, "root"); err != nil {
			t.Fatal(err)
		}
	}
	secrets := map[string]string{}
	for _, tc := range [][2]string{{"deploy", "bot"}, {"ci", "bot"}, {"laptop", "alice"}} {
		e.must("", "token", "create", tc[0], "--user", tc[1])
		secrets[tc[0]] = strings.TrimSpace(e.out.String())
	}
	used := time.Date(2025, 10, 25, 11, 0, 0, 0, time.UTC)
	if _, _, err := auth.New(e.store(), auth.Options{Now: func() time.Time { return used }}).Token(ctx, secrets["ci"]); err != nil {
		t.Fatal(err)
	}

	e.must("", "token", "list")
	lines := strings.Split(strings.TrimSuffix(e.out.String(), "\n"), "\n")
	want := []string{
		`^NAME\tACCOUNT\tPREFIX\tCREATED\tLAST USED$`,
		`^laptop\talice\t` + regexp.QuoteMeta(secrets["laptop"][:12]) + `\t\S+\tnever$`,
		`^ci\tbot\t` + regexp.QuoteMeta(secrets["ci"][:12]) + `\t\S+\t2025-10-25T11:00:00Z$`,
		`^deploy\tbot\t` + regexp.QuoteMeta(secrets["deploy"][:12]) + `\t\S+\tnever$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", e.out)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d %q; want %s", i, lines[i], re)
		}
	}
	for _, s := range secrets {
		if strings.Contains(e.out.String(), s[12:]) {
			t.Errorf("the list shows a secret: %s", e.out)
		}
	}

	e.must("", "token", "list", "--user", "bot", "-o", "json")
	var got []map[string]any
	if err := json.Unmarshal(e.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["name"] != "ci" || got[0]["lastUsedAt"] != "2025-10-25T11:00:00.000Z" || got[1]["lastUsedAt"] != nil ||
		got[0]["prefix"] != secrets["ci"][:12] || got[0]["account"] != "bot" {
		t.Errorf("JSON %s", e.out)
	}
	if _, ok := got[0]["hash"]; ok {
		t.Errorf("JSON shows the hash: %s", e.out)
	}
	e.fails(1, "no account named nobody", "", "token", "list", "--user", "nobody")

	e.must("", "token", "revoke", "ci")
	if e.errOut.String() != "Revoked token ci\n" || e.out.Len() != 0 {
		t.Errorf("revoke: stdout %q stderr %q", e.out, e.errOut)
	}
	svc := auth.New(e.store(), auth.Options{})
	if _, _, err := svc.Token(ctx, secrets["ci"]); !errors.Is(err, auth.ErrBadToken) {
		t.Errorf("revoked token: %v; want ErrBadToken", err)
	}
	if _, _, err := svc.Token(ctx, secrets["deploy"]); err != nil {
		t.Errorf("revoking ci revoked deploy: %v", err)
	}
	e.fails(1, "no token named ci; see `jobctl token list`", "", "token", "revoke", "ci")
	e.fails(2, "token revoke needs a token NAME", "", "token", "revoke")
}
