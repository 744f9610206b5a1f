-- Identity and tenancy (issue 3): sites and their domains and settings, users and their sites, sessions
-- (refresh tokens), personal API keys, TOTP recovery codes, the audit log, and a key/value table for the
-- server's own facts. Times are epoch ms; JSON documents are TEXT; booleans are INTEGER 0/1 in both
-- dialects, so the same store code reads them.

CREATE TABLE sites (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a deleted site's id is never reused
  slug            TEXT    NOT NULL UNIQUE,
  name            TEXT    NOT NULL,
  description     TEXT    NOT NULL DEFAULT '',
  locale          TEXT    NOT NULL DEFAULT 'fr',
  timezone        TEXT    NOT NULL DEFAULT 'Europe/Paris',
  logo_media_id   BIGINT,                             -- a media id; no FK until media exists
  contact_email   TEXT    NOT NULL DEFAULT '',
  contact_phone   TEXT    NOT NULL DEFAULT '',
  contact_address TEXT    NOT NULL DEFAULT '',
  social          TEXT    NOT NULL DEFAULT '{}',      -- {facebook, instagram, linkedin, x, youtube, tiktok, custom[]}
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL
);

-- A host name serves at most one site; stored normalised (lower case, no trailing dot).
CREATE TABLE site_domains (
  domain     TEXT   NOT NULL PRIMARY KEY CHECK (domain = lower(domain)),
  site_id    BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL
);
CREATE INDEX site_domains_site_idx ON site_domains (site_id);

-- Technical settings of a site. A secret value is stored sealed (AES-256-GCM, with its key id) by the caller.
CREATE TABLE site_settings (
  site_id    BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  key        TEXT    NOT NULL,
  value      TEXT    NOT NULL,
  secret     INTEGER NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),
  updated_at BIGINT  NOT NULL,
  PRIMARY KEY (site_id, key)
);

CREATE TABLE users (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  email               TEXT    NOT NULL,         -- as given, trimmed
  email_key           TEXT    NOT NULL UNIQUE,  -- the whole address lower-cased: case-insensitive uniqueness
  name                TEXT    NOT NULL,
  password_hash       TEXT    NOT NULL,
  role                TEXT    NOT NULL CHECK (role IN ('admin', 'editor')),
  active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  totp_secret         TEXT,                     -- sealed
  totp_enabled        INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1)),
  totp_last_step      BIGINT,                   -- the last accepted TOTP time step: a code is never accepted twice
  token_version       INTEGER NOT NULL DEFAULT 0,  -- bumped to revoke every access token of the user
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL,
  last_login_at       BIGINT,
  password_changed_at BIGINT  NOT NULL
);

-- The sites an editor may work on (admins see every site whatever this says).
CREATE TABLE user_sites (
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, site_id)
);
CREATE INDEX user_sites_site_idx ON user_sites (site_id);

CREATE TABLE recovery_codes (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id   BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT    NOT NULL,
  used_at   BIGINT
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

-- Rotating refresh tokens: exchanging one sets rotated_at and issues the next of the same family; presenting
-- a rotated token again revokes the whole family.
CREATE TABLE refresh_tokens (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id  TEXT    NOT NULL,
  token_hash TEXT    NOT NULL UNIQUE,
  created_at BIGINT  NOT NULL,
  expires_at BIGINT  NOT NULL,
  rotated_at BIGINT,
  revoked_at BIGINT,
  ip         TEXT    NOT NULL DEFAULT '',
  user_agent TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  prefix       TEXT    NOT NULL,         -- the first characters of the key, shown in lists
  key_hash     TEXT    NOT NULL UNIQUE,
  site_ids     TEXT    NOT NULL DEFAULT '[]',  -- JSON array of site ids; empty = every site of the user
  created_at   BIGINT  NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT,
  expires_at   BIGINT
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Who did what. No foreign keys: the log outlives the users and sites it names.
CREATE TABLE audit_log (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  at               BIGINT  NOT NULL,
  actor_user_id    BIGINT,
  actor_api_key_id BIGINT,
  action           TEXT    NOT NULL,
  object_type      TEXT    NOT NULL DEFAULT '',
  object_id        TEXT    NOT NULL DEFAULT '',
  site_id          BIGINT,
  ip               TEXT    NOT NULL DEFAULT '',
  request_id       TEXT    NOT NULL DEFAULT '',
  changes          TEXT    NOT NULL DEFAULT '{}'  -- JSON; secrets redacted by the writer
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_site_idx ON audit_log (site_id, at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, at);

-- The server's own facts, e.g. the master key's check value.
CREATE TABLE meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
