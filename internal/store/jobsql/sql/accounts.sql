-- Accounts, sessions, API tokens and failed logins (store.Accounts). The
-- caller's clock, not the database's, stamps sessions, token use and
-- failures: expiry and throttling are decided in Go against that same
-- clock, and tests move it. Only "updatedAt" on a password change is the
-- database's.

-- name: AccountInsert
-- Adds an account; no row back means the name is taken.
-- $1 name, $2 role, $3 user ID (NULL but for a user account), $4 password hash.
INSERT INTO "Account" (name, role, "userId", "passwordHash")
VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO NOTHING
RETURNING "createdAt", "updatedAt";

-- name: AccountGet
-- One account. $1 its name.
SELECT a.name, a.role, a."userId", a."passwordHash", a."createdAt", a."updatedAt", a."lastLoginAt"
FROM "Account" a
WHERE a.name = $1;

-- name: AccountList
-- Every account, by name.
SELECT a.name, a.role, a."userId", a."passwordHash", a."createdAt", a."updatedAt", a."lastLoginAt"
FROM "Account" a
ORDER BY a.name;

-- name: AccountExists
-- A row when the account exists. $1 its name.
SELECT 1 FROM "Account" WHERE name = $1;

-- name: AccountCount
-- How many accounts there are.
SELECT count(*) FROM "Account";

-- name: AccountDelete
-- Removes an account; its sessions and tokens go with it (ON DELETE
-- CASCADE). $1 its name.
DELETE FROM "Account" WHERE name = $1 RETURNING role;

-- name: AccountSetPassword
-- Replaces an account's password hash. $1 the new hash, $2 the account.
UPDATE "Account" SET "passwordHash" = $1, "updatedAt" = now() WHERE name = $2;

-- name: AccountLoggedIn
-- Records a login on the account. $1 when, $2 the account.
UPDATE "Account" SET "lastLoginAt" = $1 WHERE name = $2;

-- name: SessionInsert
-- Starts a session; no row affected means the id hash is in use.
-- $1 id hash, $2 account, $3 CSRF token, $4 created at, $5 seen at, $6 client address.
INSERT INTO "Session" ("idHash", account, csrf, "createdAt", "seenAt", addr)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT ("idHash") DO NOTHING;

-- name: SessionGet
-- A session with its account: the account's columns, then the session's.
-- $1 the session's id hash.
SELECT a.name, a.role, a."userId", a."passwordHash", a."createdAt", a."updatedAt", a."lastLoginAt",
       s."idHash", s.account, s.csrf, s."createdAt", s."seenAt", s.addr
FROM "Session" s JOIN "Account" a ON a.name = s.account
WHERE s."idHash" = $1;

-- name: SessionTouch
-- Moves a session's "seenAt". $1 when, $2 the session's id hash.
UPDATE "Session" SET "seenAt" = $1 WHERE "idHash" = $2;

-- name: SessionDelete
-- Ends one session. $1 its id hash.
DELETE FROM "Session" WHERE "idHash" = $1;

-- name: SessionDeleteAccount
-- Ends every session of an account (its password changed). $1 the account.
DELETE FROM "Session" WHERE account = $1;

-- name: SessionDeleteBefore
-- Ends the sessions created before $1 or last seen before $2.
DELETE FROM "Session" WHERE "createdAt" < $1 OR "seenAt" < $2;

-- name: TokenInsert
-- Adds an API token; no row back means its name (or, however unlikely,
-- its hash) is in use. $1 name, $2 account, $3 hash, $4 the secret's
-- shown prefix.
INSERT INTO "ApiToken" (name, account, hash, prefix)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
RETURNING "createdAt";

-- name: TokenUsed
-- Records a token's use. $1 when, $2 the token's hash.
UPDATE "ApiToken" SET "lastUsedAt" = $1 WHERE hash = $2;

-- name: TokenGetByHash
-- One token. $1 its hash.
SELECT t.name, t.account, t.hash, t.prefix, t."createdAt", t."lastUsedAt"
FROM "ApiToken" t
WHERE t.hash = $1;

-- name: TokenList
-- Every token, by account and name.
SELECT t.name, t.account, t.hash, t.prefix, t."createdAt", t."lastUsedAt"
FROM "ApiToken" t
ORDER BY t.account, t.name;

-- name: TokenListAccount
-- One account's tokens, by name. $1 the account.
SELECT t.name, t.account, t.hash, t.prefix, t."createdAt", t."lastUsedAt"
FROM "ApiToken" t
WHERE t.account = $1
ORDER BY t.account, t.name;

-- name: TokenDelete
-- Revokes a token. $1 its name.
DELETE FROM "ApiToken" WHERE name = $1 RETURNING account;

-- name: LoginFailurePrune
-- Forgets a key's failures from before a time: they no longer count, and
-- the table stays small. $1 the key, $2 the time.
DELETE FROM "LoginFailure" WHERE key = $1 AND at < $2;

-- name: LoginFailureInsert
-- Notes a failed login. $1 the key (an account or an address), $2 when.
INSERT INTO "LoginFailure" (key, at) VALUES ($1, $2);

-- name: LoginFailureCount
-- Counts a key's failures since a time, inclusive. $1 the key, $2 the time.
SELECT count(*) FROM "LoginFailure" WHERE key = $1 AND at >= $2;

-- name: LoginFailureClear
-- Forgets a key's failures. $1 the key.
DELETE FROM "LoginFailure" WHERE key = $1;
