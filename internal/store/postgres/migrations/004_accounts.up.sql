-- Accounts, sessions and API tokens of `jobctl serve` (DESIGN §9), in the
-- store so that several serve replicas share them.
--
-- Grants. Logging in, staying logged in and using a token all write:
-- sessions are created, touched and ended, failed logins are counted, and
-- an account's last login and a token's last use are recorded. `serve`
-- needs those writes whatever its login may do to jobs, even a read-only
-- dashboard, so they go to jobctl_read (and through it to jobctl_write and
-- jobctl_delete). jobctl_read may therefore read password and token
-- hashes: they are argon2id and sha256 of 32 random bytes, useless to
-- replay. Managing accounts and tokens (`jobctl user`, `jobctl token`)
-- is the schema owner's, like `jobctl migrate`: no group role may add an
-- account, change a password or mint a token, so a jobs:delete login
-- cannot make itself a web admin.
CREATE TABLE "Account" (
  name           text PRIMARY KEY,
  role           text NOT NULL CHECK (role IN ('admin', 'manager', 'user')),
  -- The jobs' "userId" a user account sees; only user accounts have one.
  "userId"       text CHECK (("userId" IS NOT NULL AND "userId" <> '') = (role = 'user')),
  "passwordHash" text NOT NULL,
  "createdAt"    timestamptz NOT NULL DEFAULT now(),
  "updatedAt"    timestamptz NOT NULL DEFAULT now(),
  "lastLoginAt"  timestamptz
);

CREATE TABLE "Session" (
  "idHash"    text PRIMARY KEY, -- sha256 hex of the cookie value
  account     text NOT NULL REFERENCES "Account" (name) ON DELETE CASCADE,
  csrf        text NOT NULL,
  "createdAt" timestamptz NOT NULL,
  "seenAt"    timestamptz NOT NULL,
  addr        text NOT NULL DEFAULT ''
);
CREATE INDEX "Session_account_idx" ON "Session" (account);

CREATE TABLE "ApiToken" (
  name         text PRIMARY KEY,
  account      text NOT NULL REFERENCES "Account" (name) ON DELETE CASCADE,
  hash         text NOT NULL, -- sha256 hex of the secret
  prefix       text NOT NULL,
  "createdAt"  timestamptz NOT NULL DEFAULT now(),
  "lastUsedAt" timestamptz
);
CREATE UNIQUE INDEX "ApiToken_hash_idx" ON "ApiToken" (hash);
CREATE INDEX "ApiToken_account_idx" ON "ApiToken" (account);

-- One row per failed login, per key ("acct:NAME" or "addr:IP"); rows older
-- than the throttling window are pruned as new ones arrive.
CREATE TABLE "LoginFailure" (
  key text NOT NULL,
  at  timestamptz NOT NULL
);
CREATE INDEX "LoginFailure_key_at_idx" ON "LoginFailure" (key, at);

REVOKE ALL ON "Account", "Session", "ApiToken", "LoginFailure" FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jobctl_read') THEN
    GRANT SELECT ON "Account", "ApiToken" TO jobctl_read;
    GRANT UPDATE ("lastLoginAt") ON "Account" TO jobctl_read;
    GRANT UPDATE ("lastUsedAt") ON "ApiToken" TO jobctl_read;
    GRANT SELECT, INSERT, UPDATE, DELETE ON "Session", "LoginFailure" TO jobctl_read;
  END IF;
END $$;
