package jobsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jobctl/jobctl/internal/store"
)

// Accounts, sessions, API tokens and failed logins (store.Accounts), in
// sql/accounts.sql.
var (
	accountInsert        = stmt("AccountInsert")
	accountGet           = stmt("AccountGet")
	accountList          = stmt("AccountList")
	accountExists        = stmt("AccountExists")
	accountCount         = stmt("AccountCount")
	accountDelete        = stmt("AccountDelete")
	accountSetPassword   = stmt("AccountSetPassword")
	accountLoggedIn      = stmt("AccountLoggedIn")
	sessionInsert        = stmt("SessionInsert")
	sessionGet           = stmt("SessionGet")
	sessionTouch         = stmt("SessionTouch")
	sessionDelete        = stmt("SessionDelete")
	sessionDeleteAccount = stmt("SessionDeleteAccount")
	sessionDeleteBefore  = stmt("SessionDeleteBefore")
	tokenInsert          = stmt("TokenInsert")
	tokenUsed            = stmt("TokenUsed")
	tokenGetByHash       = stmt("TokenGetByHash")
	tokenList            = stmt("TokenList")
	tokenListAccount     = stmt("TokenListAccount")
	tokenDelete          = stmt("TokenDelete")
	loginFailurePrune    = stmt("LoginFailurePrune")
	loginFailureInsert   = stmt("LoginFailureInsert")
	loginFailureCount    = stmt("LoginFailureCount")
	loginFailureClear    = stmt("LoginFailureClear")
)

// checkAccount refuses an account the schema's CHECKs would, in words.
func checkAccount(a *store.Account) error {
	switch a.Role {
	case store.RoleAdmin, store.RoleManager:
		if a.UserID != "" {
			return fmt.Errorf("account %s: only a %s account has a user ID", a.Name, store.RoleUser)
		}
	case store.RoleUser:
		if a.UserID == "" {
			return fmt.Errorf("account %s: a %s account needs a user ID", a.Name, store.RoleUser)
		}
	default:
		return fmt.Errorf("account %s: unknown role %q (want admin, manager or user)", a.Name, a.Role)
	}
	if a.Name == "" || a.PasswordHash == "" {
		return errors.New("account needs a name and a password hash")
	}
	return nil
}

// AddAccount inserts a, filling its timestamps, and its audit row;
// ErrExists when the name is taken. db is one transaction.
func AddAccount(ctx context.Context, db DB, d *Dialect, a *store.Account, actor string) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	var created, updated timestamp
	err := db.QueryRow(ctx, d.SQL(accountInsert), d.Values(a.Name, string(a.Role), nullable(a.UserID), a.PasswordHash)...).Scan(&created, &updated)
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrExists
	}
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.LastLoginAt = created.value(), updated.value(), nil
	meta := map[string]any{"role": a.Role}
	if a.UserID != "" {
		meta["jobsUserId"] = a.UserID
	}
	return accountAudit(ctx, db, d, store.ActionUserAdd, actor, "Account", a.Name, meta)
}

// accountAudit writes the audit row of a change to an account or token:
// its name and what is safe to keep, never a password, hash or secret.
func accountAudit(ctx context.Context, db DB, d *Dialect, action, actor, resource, name string, meta map[string]any) error {
	return WriteAudit(ctx, db, d, []store.AuditEntry{{
		Action: action, UserID: actor, Resource: resource, ResourceID: name, Metadata: AuditMetadata(meta),
	}})
}

func scanAccount(row Scanner, extra ...any) (*store.Account, error) {
	var (
		a                      store.Account
		role, userID           text
		created, updated, last timestamp
	)
	dest := append([]any{&a.Name, &role, &userID, &a.PasswordHash, &created, &updated, &last}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	a.Role, a.UserID = store.Role(role), string(userID)
	a.CreatedAt, a.UpdatedAt, a.LastLoginAt = created.value(), updated.value(), last.ptr()
	return &a, nil
}

// GetAccount returns the account called name.
func GetAccount(ctx context.Context, db DB, d *Dialect, name string) (*store.Account, error) {
	return scanAccount(db.QueryRow(ctx, d.SQL(accountGet), d.Values(name)...))
}

// ListAccounts returns every account by name.
func ListAccounts(ctx context.Context, db DB, d *Dialect) ([]*store.Account, error) {
	rows, err := db.Query(ctx, d.SQL(accountList))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RemoveAccount deletes the account, and writes its audit row; its
// sessions and tokens go with it (ON DELETE CASCADE). db is one
// transaction.
func RemoveAccount(ctx context.Context, db DB, d *Dialect, name, actor string) error {
	var role string
	err := db.QueryRow(ctx, d.SQL(accountDelete), d.Values(name)...).Scan(&role)
	if err != nil {
		return err
	}
	return accountAudit(ctx, db, d, store.ActionUserRemove, actor, "Account", name, map[string]any{"role": role})
}

// SetPassword replaces the account's hash, ends its sessions and writes
// the audit row, in one transaction (db is one): a changed password logs
// every browser out.
func SetPassword(ctx context.Context, db DB, d *Dialect, name, hash, actor string) error {
	if hash == "" {
		return errors.New("empty password hash")
	}
	n, err := db.Exec(ctx, d.SQL(accountSetPassword), d.Values(hash, name)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	ended, err := db.Exec(ctx, d.SQL(sessionDeleteAccount), d.Values(name)...)
	if err != nil {
		return err
	}
	return accountAudit(ctx, db, d, store.ActionUserPasswd, actor, "Account", name, map[string]any{"sessionsEnded": ended})
}

// CountAccounts counts the accounts.
func CountAccounts(ctx context.Context, db DB, d *Dialect) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, d.SQL(accountCount)).Scan(&n)
	return n, err
}

// CreateSession inserts s and records the login on its account, in one
// transaction: ErrNotFound for no such account, ErrExists for an IDHash in
// use.
func CreateSession(ctx context.Context, db DB, d *Dialect, s *store.Session) error {
	n, err := db.Exec(ctx, d.SQL(accountLoggedIn), d.Values(s.CreatedAt, s.Account)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	n, err = db.Exec(ctx, d.SQL(sessionInsert), d.Values(s.IDHash, s.Account, s.CSRF, s.CreatedAt, s.SeenAt, s.Addr)...)
	if err == nil && n == 0 {
		err = store.ErrExists
	}
	return err
}

// GetSession returns the session and its account.
func GetSession(ctx context.Context, db DB, d *Dialect, idHash string) (*store.Session, *store.Account, error) {
	var (
		s             store.Session
		created, seen timestamp
	)
	a, err := scanAccount(db.QueryRow(ctx, d.SQL(sessionGet), d.Values(idHash)...),
		&s.IDHash, &s.Account, &s.CSRF, &created, &seen, &s.Addr)
	if err != nil {
		return nil, nil, err
	}
	s.CreatedAt, s.SeenAt = created.value(), seen.value()
	return &s, a, nil
}

// TouchSession moves the session's SeenAt to now.
func TouchSession(ctx context.Context, db DB, d *Dialect, idHash string, now time.Time) error {
	n, err := db.Exec(ctx, d.SQL(sessionTouch), d.Values(now, idHash)...)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return err
}

// DeleteSession ends one session.
func DeleteSession(ctx context.Context, db DB, d *Dialect, idHash string) error {
	n, err := db.Exec(ctx, d.SQL(sessionDelete), d.Values(idHash)...)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return err
}

// DeleteSessionsBefore ends the sessions created before createdBefore or
// last seen before seenBefore.
func DeleteSessionsBefore(ctx context.Context, db DB, d *Dialect, createdBefore, seenBefore time.Time) (int64, error) {
	return db.Exec(ctx, d.SQL(sessionDeleteBefore), d.Values(createdBefore, seenBefore)...)
}

// needAccount is ErrNotFound when there is no account called name.
func needAccount(ctx context.Context, db DB, d *Dialect, name string) error {
	var one int
	return db.QueryRow(ctx, d.SQL(accountExists), d.Values(name)...).Scan(&one)
}

// CreateToken inserts t, filling its CreatedAt, and its audit row:
// ErrNotFound for no such account, ErrExists for a name (or, however
// unlikely, a hash) in use. db is one transaction.
func CreateToken(ctx context.Context, db DB, d *Dialect, t *store.APIToken, actor string) error {
	if t.Name == "" || t.Hash == "" {
		return errors.New("token needs a name and a hash")
	}
	if err := needAccount(ctx, db, d, t.Account); err != nil {
		return err
	}
	var created timestamp
	err := db.QueryRow(ctx, d.SQL(tokenInsert), d.Values(t.Name, t.Account, t.Hash, t.Prefix)...).Scan(&created)
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrExists
	}
	if err != nil {
		return err
	}
	t.CreatedAt, t.LastUsedAt = created.value(), nil
	return accountAudit(ctx, db, d, store.ActionTokenCreate, actor, "ApiToken", t.Name, map[string]any{"account": t.Account})
}

func scanToken(row Scanner) (*store.APIToken, error) {
	var (
		t             store.APIToken
		created, used timestamp
	)
	if err := row.Scan(&t.Name, &t.Account, &t.Hash, &t.Prefix, &created, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt = created.value(), used.ptr()
	return &t, nil
}

// TokenByHash records the use of the token with this hash at now and
// returns it with its account. db is one transaction.
func TokenByHash(ctx context.Context, db DB, d *Dialect, hash string, now time.Time) (*store.APIToken, *store.Account, error) {
	n, err := db.Exec(ctx, d.SQL(tokenUsed), d.Values(now, hash)...)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, store.ErrNotFound
	}
	t, err := scanToken(db.QueryRow(ctx, d.SQL(tokenGetByHash), d.Values(hash)...))
	if err != nil {
		return nil, nil, err
	}
	a, err := GetAccount(ctx, db, d, t.Account)
	if err != nil {
		return nil, nil, err
	}
	return t, a, nil
}

// ListTokens returns the tokens of account, or of every account when it is
// "", by account and name; ErrNotFound for no such account.
func ListTokens(ctx context.Context, db DB, d *Dialect, account string) ([]*store.APIToken, error) {
	sql, args := d.SQL(tokenList), []any(nil)
	if account != "" {
		if err := needAccount(ctx, db, d, account); err != nil {
			return nil, err
		}
		sql, args = d.SQL(tokenListAccount), d.Values(account)
	}
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*store.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken deletes the token called name and writes its audit row.
// db is one transaction.
func RevokeToken(ctx context.Context, db DB, d *Dialect, name, actor string) error {
	var account string
	err := db.QueryRow(ctx, d.SQL(tokenDelete), d.Values(name)...).Scan(&account)
	if err != nil {
		return err
	}
	return accountAudit(ctx, db, d, store.ActionTokenRevoke, actor, "ApiToken", name, map[string]any{"account": account})
}

// RecordLoginFailure notes a failure of key at at and returns key's
// failures since since. Key's failures from before since are deleted on
// the way: they no longer count, and the table stays small. db is one
// transaction.
func RecordLoginFailure(ctx context.Context, db DB, d *Dialect, key string, at, since time.Time) (int64, error) {
	if _, err := db.Exec(ctx, d.SQL(loginFailurePrune), d.Values(key, since)...); err != nil {
		return 0, err
	}
	if _, err := db.Exec(ctx, d.SQL(loginFailureInsert), d.Values(key, at)...); err != nil {
		return 0, err
	}
	return LoginFailures(ctx, db, d, key, since)
}

// LoginFailures counts key's failures since since (inclusive).
func LoginFailures(ctx context.Context, db DB, d *Dialect, key string, since time.Time) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, d.SQL(loginFailureCount), d.Values(key, since)...).Scan(&n)
	return n, err
}

// ClearLoginFailures forgets key's failures.
func ClearLoginFailures(ctx context.Context, db DB, d *Dialect, key string) error {
	_, err := db.Exec(ctx, d.SQL(loginFailureClear), d.Values(key)...)
	return err
}

// The store.Accounts methods. Logging in and using a session or token
// declare jobs:read, which on Postgres is what grants them (migration
// 004); managing accounts and tokens declares nothing, as only the schema
// owner may, and a refusal quotes the database.

// AddAccount implements store.Accounts.
func (b *Base) AddAccount(ctx context.Context, a *store.Account, actor string) error {
	return b.Wrap("add account", "", b.write(ctx, func(tx DB) error { return AddAccount(ctx, tx, b.D, a, actor) }))
}

// GetAccount implements store.Accounts.
func (b *Base) GetAccount(ctx context.Context, name string) (*store.Account, error) {
	a, err := GetAccount(ctx, b.DB, b.D, name)
	return a, b.Wrap("get account", store.PermRead, err)
}

// ListAccounts implements store.Accounts.
func (b *Base) ListAccounts(ctx context.Context) ([]*store.Account, error) {
	as, err := ListAccounts(ctx, b.DB, b.D)
	return as, b.Wrap("list accounts", store.PermRead, err)
}

// RemoveAccount implements store.Accounts.
func (b *Base) RemoveAccount(ctx context.Context, name, actor string) error {
	return b.Wrap("remove account", "", b.write(ctx, func(tx DB) error { return RemoveAccount(ctx, tx, b.D, name, actor) }))
}

// SetPassword implements store.Accounts.
func (b *Base) SetPassword(ctx context.Context, name, hash, actor string) error {
	return b.Wrap("set password", "", b.write(ctx, func(tx DB) error { return SetPassword(ctx, tx, b.D, name, hash, actor) }))
}

// CountAccounts implements store.Accounts.
func (b *Base) CountAccounts(ctx context.Context) (int64, error) {
	n, err := CountAccounts(ctx, b.DB, b.D)
	return n, b.Wrap("count accounts", store.PermRead, err)
}

// CreateSession implements store.Accounts.
func (b *Base) CreateSession(ctx context.Context, s *store.Session) error {
	return b.Wrap("create session", store.PermRead, b.write(ctx, func(tx DB) error { return CreateSession(ctx, tx, b.D, s) }))
}

// GetSession implements store.Accounts.
func (b *Base) GetSession(ctx context.Context, idHash string) (*store.Session, *store.Account, error) {
	s, a, err := GetSession(ctx, b.DB, b.D, idHash)
	return s, a, b.Wrap("get session", store.PermRead, err)
}

// TouchSession implements store.Accounts.
func (b *Base) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	return b.Wrap("touch session", store.PermRead, b.retry(ctx, func() error { return TouchSession(ctx, b.DB, b.D, idHash, now) }))
}

// DeleteSession implements store.Accounts.
func (b *Base) DeleteSession(ctx context.Context, idHash string) error {
	return b.Wrap("delete session", store.PermRead, b.retry(ctx, func() error { return DeleteSession(ctx, b.DB, b.D, idHash) }))
}

// DeleteSessionsBefore implements store.Accounts.
func (b *Base) DeleteSessionsBefore(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	var n int64
	err := b.retry(ctx, func() (err error) {
		n, err = DeleteSessionsBefore(ctx, b.DB, b.D, createdBefore, seenBefore)
		return err
	})
	return n, b.Wrap("delete sessions", store.PermRead, err)
}

// CreateToken implements store.Accounts.
func (b *Base) CreateToken(ctx context.Context, t *store.APIToken, actor string) error {
	return b.Wrap("create token", "", b.write(ctx, func(tx DB) error { return CreateToken(ctx, tx, b.D, t, actor) }))
}

// TokenByHash implements store.Accounts.
func (b *Base) TokenByHash(ctx context.Context, hash string, now time.Time) (*store.APIToken, *store.Account, error) {
	var (
		t *store.APIToken
		a *store.Account
	)
	err := b.write(ctx, func(tx DB) (err error) {
		t, a, err = TokenByHash(ctx, tx, b.D, hash, now)
		return err
	})
	return t, a, b.Wrap("use token", store.PermRead, err)
}

// ListTokens implements store.Accounts.
func (b *Base) ListTokens(ctx context.Context, account string) ([]*store.APIToken, error) {
	ts, err := ListTokens(ctx, b.DB, b.D, account)
	return ts, b.Wrap("list tokens", store.PermRead, err)
}

// RevokeToken implements store.Accounts.
func (b *Base) RevokeToken(ctx context.Context, name, actor string) error {
	return b.Wrap("revoke token", "", b.write(ctx, func(tx DB) error { return RevokeToken(ctx, tx, b.D, name, actor) }))
}

// RecordLoginFailure implements store.Accounts.
func (b *Base) RecordLoginFailure(ctx context.Context, key string, at, since time.Time) (int64, error) {
	var n int64
	err := b.write(ctx, func(tx DB) (err error) {
		n, err = RecordLoginFailure(ctx, tx, b.D, key, at, since)
		return err
	})
	return n, b.Wrap("record login failure", store.PermRead, err)
}

// LoginFailures implements store.Accounts.
func (b *Base) LoginFailures(ctx context.Context, key string, since time.Time) (int64, error) {
	n, err := LoginFailures(ctx, b.DB, b.D, key, since)
	return n, b.Wrap("count login failures", store.PermRead, err)
}

// ClearLoginFailures implements store.Accounts.
func (b *Base) ClearLoginFailures(ctx context.Context, key string) error {
	return b.Wrap("clear login failures", store.PermRead, b.retry(ctx, func() error { return ClearLoginFailures(ctx, b.DB, b.D, key) }))
}
