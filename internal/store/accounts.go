package store

import (
	"context"
	"time"
)

// Role is an account's role in the web admin and API (DESIGN §9).
type Role string

// The roles. admin: jobs:read, jobs:write and jobs:delete on every job;
// manager: read and write on every job; user: read, and retry, only the
// jobs whose "userId" is the account's UserID.
const (
	RoleAdmin   Role = "admin"
	RoleManager Role = "manager"
	RoleUser    Role = "user"
)

// Account is a login of the web admin and API.
type Account struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// UserID is the jobs' "userId" a RoleUser account sees; empty for
	// the other roles.
	UserID       string     `json:"userId,omitempty"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	LastLoginAt  *time.Time `json:"lastLoginAt"`
}

// Session is a logged-in browser. Only the hash of its cookie value is
// stored.
type Session struct {
	IDHash    string    // sha256 hex of the cookie value
	Account   string    // Account.Name
	CSRF      string    // the session's CSRF token
	CreatedAt time.Time // absolute expiry counts from here
	SeenAt    time.Time // idle expiry counts from here
	Addr      string    // remote address at login
}

// APIToken is a bearer token. Only the hash of its secret is stored.
type APIToken struct {
	Name       string     `json:"name"`
	Account    string     `json:"account"`
	Hash       string     `json:"-"`      // sha256 hex of the secret
	Prefix     string     `json:"prefix"` // the secret's first characters, to tell tokens apart
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// Accounts is the store's side of accounts, sessions, tokens and login
// throttling. Every method returns ErrNotFound for a name or hash that is
// not there and ErrExists for a name in use.
//
// The changes to accounts and tokens write their audit row (USER_ADD,
// USER_REMOVE, USER_PASSWD, TOKEN_CREATE, TOKEN_REVOKE) with actor as its
// "userId", in the change's transaction; never a password, hash or secret.
type Accounts interface {
	AddAccount(ctx context.Context, a *Account, actor string) error
	GetAccount(ctx context.Context, name string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	// RemoveAccount deletes the account with its sessions and tokens.
	RemoveAccount(ctx context.Context, name, actor string) error
	// SetPassword replaces the hash and ends the account's sessions.
	SetPassword(ctx context.Context, name, hash, actor string) error
	// CountAccounts is how many accounts there are (serve refuses a
	// non-loopback address with none).
	CountAccounts(ctx context.Context) (int64, error)

	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns the session and its account.
	GetSession(ctx context.Context, idHash string) (*Session, *Account, error)
	// TouchSession moves SeenAt to now.
	TouchSession(ctx context.Context, idHash string, now time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteSessionsBefore ends sessions created or seen too long ago.
	DeleteSessionsBefore(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error)

	CreateToken(ctx context.Context, t *APIToken, actor string) error
	// TokenByHash returns the token and its account, and records its use.
	TokenByHash(ctx context.Context, hash string, now time.Time) (*APIToken, *Account, error)
	ListTokens(ctx context.Context, account string) ([]*APIToken, error)
	RevokeToken(ctx context.Context, name, actor string) error

	// RecordLoginFailure notes a failed login for key (an account name or
	// an address) and returns how many failures key has since since.
	RecordLoginFailure(ctx context.Context, key string, at, since time.Time) (int64, error)
	// LoginFailures counts key's failures since since.
	LoginFailures(ctx context.Context, key string, since time.Time) (int64, error)
	// ClearLoginFailures forgets key's failures (after a good login).
	ClearLoginFailures(ctx context.Context, key string) error
}
