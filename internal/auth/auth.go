// Package auth is who may use jobctl serve: passwords (argon2id),
// sessions kept in the store so replicas share them, API tokens, and the
// throttling of failed logins (DESIGN §9). It decides; internal/web sets
// the cookies and answers the requests.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jobctl/jobctl/internal/ops"
	"github.com/jobctl/jobctl/internal/store"
)

// CookieName is the session cookie's name.
const CookieName = "jobctl_session"

// TokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners) and a bearer that lacks it is refused without a
// store lookup.
const TokenPrefix = "jobctl_"

// prefixLen is how much of a token is kept in clear to tell tokens
// apart: "jobctl_" and five characters of the secret.
const prefixLen = 12

// touchEvery is how stale SeenAt may be before a request moves it: a
// page's burst of requests costs one write, and idle expiry is off by at
// most this much.
const touchEvery = time.Minute

// Errors of Login, Session and Token. They say no more than that: which
// part of a credential was wrong is not the caller's to learn.
var (
	ErrBadCredentials = errors.New("wrong account name or password")
	ErrNoSession      = errors.New("no session, or it expired")
	ErrBadToken       = errors.New("invalid API token")
)

// ThrottledError refuses a login after too many failures, whatever the
// password. RetryAfter is at most how long to wait.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", e.RetryAfter.Round(time.Second))
}

// Options tune a Service; zero values take the defaults.
type Options struct {
	// IdleTimeout ends a session not used for this long (default 30m);
	// AbsoluteTimeout ends one this long after login (default 12h).
	IdleTimeout, AbsoluteTimeout time.Duration
	// MaxFailures failed logins within FailureWindow, for one account
	// name or one address, refuse further logins from it until the
	// window has moved past them (defaults 5 and 15m).
	MaxFailures   int
	FailureWindow time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service checks credentials against the store's accounts.
type Service struct {
	s store.Accounts
	o Options

	// dummy is a hash of nothing, checked for a login to an account that
	// does not exist, so that one answers as slowly as a wrong password.
	dummyOnce sync.Once
	dummy     string
}

// New returns a Service over s.
func New(s store.Accounts, o Options) *Service {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.AbsoluteTimeout <= 0 {
		o.AbsoluteTimeout = 12 * time.Hour
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{s: s, o: o}
}

// Login checks name/password, throttled per account and per address.
// addr is the client's address; a port on it is dropped, so that the
// throttle counts hosts, not connections. On success it starts a session
// and returns the cookie value to set (only its hash is stored).
func (s *Service) Login(ctx context.Context, name, password, addr string) (cookie string, sess *store.Session, acct *store.Account, err error) {
	now := s.o.Now()
	since := now.Add(-s.o.FailureWindow)
	host := hostOf(addr)
	// A name is at most 64 characters (CheckName): a longer one names no
	// account, and its key is cut so that a form cannot fill the
	// failures table with megabytes.
	keys := []string{"acct:" + cut(name, 128)}
	if host != "" {
		keys = append(keys, "addr:"+host)
	}
	for _, k := range keys {
		n, err := s.s.LoginFailures(ctx, k, since)
		if err != nil {
			return "", nil, nil, err
		}
		if n >= int64(s.o.MaxFailures) {
			return "", nil, nil, &ThrottledError{RetryAfter: s.o.FailureWindow}
		}
	}

	a, err := s.s.GetAccount(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		CheckPassword(s.dummyHash(), password)
		return "", nil, nil, s.fail(ctx, keys, now, since)
	case err != nil:
		return "", nil, nil, err
	case !CheckPassword(a.PasswordHash, password):
		return "", nil, nil, s.fail(ctx, keys, now, since)
	}
	if err := s.s.ClearLoginFailures(ctx, keys[0]); err != nil {
		return "", nil, nil, err
	}
	// Logins are when sessions begin, so also when old ones are swept.
	if _, err := s.s.DeleteSessionsBefore(ctx, now.Add(-s.o.AbsoluteTimeout), now.Add(-s.o.IdleTimeout)); err != nil {
		return "", nil, nil, err
	}
	cookie = randomString()
	sess = &store.Session{IDHash: hashHex(cookie), Account: a.Name, CSRF: randomString(), CreatedAt: now, SeenAt: now, Addr: host}
	if err := s.s.CreateSession(ctx, sess); err != nil {
		return "", nil, nil, err
	}
	a.LastLoginAt = &now
	return cookie, sess, scrub(a), nil
}

// fail records a failed login under every key.
func (s *Service) fail(ctx context.Context, keys []string, now, since time.Time) error {
	for _, k := range keys {
		if _, err := s.s.RecordLoginFailure(ctx, k, now, since); err != nil {
			return err
		}
	}
	return ErrBadCredentials
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		// A hash cannot fail to be made of a short string.
		s.dummy, _ = HashPassword("jobctl: no such account")
	})
	return s.dummy
}

// Session returns the live session for a cookie value; ErrNoSession when
// missing or expired (idle or absolute). An expired session is deleted
// as it is found. SeenAt moves at most once a minute.
func (s *Service) Session(ctx context.Context, cookie string) (*store.Session, *store.Account, error) {
	if cookie == "" {
		return nil, nil, ErrNoSession
	}
	sess, a, err := s.s.GetSession(ctx, hashHex(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.o.Now()
	if now.Sub(sess.CreatedAt) >= s.o.AbsoluteTimeout || now.Sub(sess.SeenAt) >= s.o.IdleTimeout {
		if err := s.s.DeleteSession(ctx, sess.IDHash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, ErrNoSession
	}
	if now.Sub(sess.SeenAt) >= touchEvery {
		err := s.s.TouchSession(ctx, sess.IDHash, now)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrNoSession // logged out meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		sess.SeenAt = now
	}
	return sess, scrub(a), nil
}

// Logout ends the cookie's session. A session already gone is no error.
func (s *Service) Logout(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	err := s.s.DeleteSession(ctx, hashHex(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// Token returns the API token whose secret is bearer (the value after
// "Authorization: Bearer "), with its account, and records its use;
// ErrBadToken when there is none.
func (s *Service) Token(ctx context.Context, bearer string) (*store.APIToken, *store.Account, error) {
	if !strings.HasPrefix(bearer, TokenPrefix) || len(bearer) != len(TokenPrefix)+secretLen {
		return nil, nil, ErrBadToken
	}
	t, a, err := s.s.TokenByHash(ctx, hashHex(bearer), s.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	return t, scrub(a), nil
}

// CreateToken makes an API token called name for account and returns its
// secret, which is shown this once: only its hash is stored. The store's
// ErrNotFound (no such account) and ErrExists (name taken) come through
// for errors.Is. The audit row names actor.
func (s *Service) CreateToken(ctx context.Context, name, account, actor string) (secret string, t *store.APIToken, err error) {
	if err := CheckName(name); err != nil {
		return "", nil, fmt.Errorf("token %w", err)
	}
	secret = TokenPrefix + randomString()
	t = &store.APIToken{Name: name, Account: account, Hash: hashHex(secret), Prefix: secret[:prefixLen]}
	if err := s.s.CreateToken(ctx, t, actor); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Principal is the ops layer's view of an account acting through via.
// Only a user account carries a UserID: it is what scopes its jobs.
func Principal(a *store.Account, via ops.Channel) ops.Principal {
	p := ops.Principal{Name: a.Name, Role: a.Role, Via: via}
	if a.Role == store.RoleUser {
		p.UserID = a.UserID
	}
	return p
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// CheckName refuses an account or token name that is empty, longer than
// 64 characters or has characters beyond A-Z a-z 0-9 _ . @ -: names are
// typed in shells and shown in tables and audit rows.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("name %q: want 1 to 64 of A-Z a-z 0-9 _ . @ -", name)
	}
	return nil
}

// secretLen is the length of a 32-byte random value in unpadded base64url.
var secretLen = base64.RawURLEncoding.EncodedLen(32)

// randomString is 32 random bytes, base64url: a cookie value, a CSRF
// token or a token's secret.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashHex is what the store keeps of a cookie or a token: the secrets are
// 256 random bits, so a fast hash is enough and lookups stay indexed.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// scrub drops the password hash from an account handed out of this
// package: nothing past here needs it, and it should not reach a log.
func scrub(a *store.Account) *store.Account {
	a.PasswordHash = ""
	return a
}
