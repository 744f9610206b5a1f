-- Mail accounts, outgoing messages and per-account send limits (issue 5). Times are epoch ms; booleans are
-- INTEGER 0/1; JSON documents are TEXT.

-- A site's ways of sending: SMTP, SendGrid, SES, Gmail, Outlook or the local outbox. `settings` holds the
-- plain settings (host, port...); `secrets` the sealed JSON of the secret ones (passwords, API keys, tokens),
-- sealed with the master key's SecretBox and bound to the account; never returned by the API.
CREATE TABLE mail_accounts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  type        TEXT    NOT NULL CHECK (type IN ('smtp', 'sendgrid', 'ses', 'gmail', 'outlook', 'outbox')),
  from_email  TEXT    NOT NULL,
  from_name   TEXT    NOT NULL DEFAULT '',
  settings    TEXT    NOT NULL DEFAULT '{}',
  secrets     TEXT    NOT NULL DEFAULT '',
  is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  per_second  INTEGER NOT NULL DEFAULT 0,  -- 0: no limit
  per_hour    INTEGER NOT NULL DEFAULT 0,
  per_day     INTEGER NOT NULL DEFAULT 0,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL
);
CREATE INDEX mail_accounts_site_idx ON mail_accounts (site_id, id);
CREATE UNIQUE INDEX mail_accounts_one_default ON mail_accounts (site_id) WHERE is_default = 1;

-- One row per message handed to an account, for the sliding-window limits; rows older than a day are pruned
-- as sends are reserved. Shared by every instance through the database.
CREATE TABLE mail_send_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id  BIGINT  NOT NULL REFERENCES mail_accounts (id) ON DELETE CASCADE,
  sent_at     BIGINT  NOT NULL
);
CREATE INDEX mail_send_log_account_idx ON mail_send_log (account_id, sent_at);

-- Single messages (POST .../mail/messages): the request as given, its state, and the delivery's outcome.
-- account_id NULL: the site's implicit outbox. message_id is fixed at creation, so retries keep it.
CREATE TABLE mail_messages (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id             BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  account_id          BIGINT,
  state               TEXT    NOT NULL DEFAULT 'queued'
                              CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
  request             TEXT    NOT NULL,  -- JSON: recipients, subject, bodies, headers, attachments
  subject             TEXT    NOT NULL DEFAULT '',
  message_id          TEXT    NOT NULL,
  send_at             BIGINT,
  idempotency_key     TEXT,
  attempts            INTEGER NOT NULL DEFAULT 0,
  provider_message_id TEXT    NOT NULL DEFAULT '',
  last_error          TEXT    NOT NULL DEFAULT '',
  refused_recipients  TEXT    NOT NULL DEFAULT '[]',
  created_by          BIGINT,
  sent_at             BIGINT,
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL,
  UNIQUE (site_id, idempotency_key)
);
CREATE INDEX mail_messages_site_idx ON mail_messages (site_id, id);
