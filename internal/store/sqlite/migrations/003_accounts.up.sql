-- Accounts, sessions and API tokens of `jobctl serve` (DESIGN §9); the
-- same tables as Postgres's 004, which also explains who may use them
-- there. SQLite has no grants: the file's mode is the access control.
CREATE TABLE "Account" (
  name           TEXT PRIMARY KEY NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'user')),
  "userId"       TEXT CHECK (("userId" IS NOT NULL AND "userId" <> '') = (role = 'user')),
  "passwordHash" TEXT NOT NULL,
  "createdAt"    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "updatedAt"    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "lastLoginAt"  TEXT
);

CREATE TABLE "Session" (
  "idHash"    TEXT PRIMARY KEY NOT NULL,
  account     TEXT NOT NULL REFERENCES "Account" (name) ON DELETE CASCADE,
  csrf        TEXT NOT NULL,
  "createdAt" TEXT NOT NULL,
  "seenAt"    TEXT NOT NULL,
  addr        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX "Session_account_idx" ON "Session" (account);

CREATE TABLE "ApiToken" (
  name         TEXT PRIMARY KEY NOT NULL,
  account      TEXT NOT NULL REFERENCES "Account" (name) ON DELETE CASCADE,
  hash         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  "createdAt"  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  "lastUsedAt" TEXT
);
CREATE UNIQUE INDEX "ApiToken_hash_idx" ON "ApiToken" (hash);
CREATE INDEX "ApiToken_account_idx" ON "ApiToken" (account);

CREATE TABLE "LoginFailure" (
  key TEXT NOT NULL,
  at  TEXT NOT NULL
);
CREATE INDEX "LoginFailure_key_at_idx" ON "LoginFailure" (key, at);
