-- Contacts and webhooks (issue 4). Contact form submissions of each site, and the site's webhook
-- subscriptions with the log of their deliveries (one row per delivery, one per attempt). Times are epoch
-- ms; booleans are INTEGER 0/1; JSON documents are TEXT.

CREATE TABLE contacts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id       BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  name          TEXT    NOT NULL,
  email         TEXT    NOT NULL,
  subject       TEXT    NOT NULL DEFAULT '',
  message       TEXT    NOT NULL,
  page          TEXT    NOT NULL DEFAULT '',
  consent       INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)),
  ip_hash       TEXT    NOT NULL DEFAULT '',  -- HMAC-SHA256 of the client IP under a key derived from the master key
  user_agent    TEXT    NOT NULL DEFAULT '',
  is_read       INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1)),
  archived      INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
  notify_status TEXT    NOT NULL DEFAULT 'pending' CHECK (notify_status IN ('pending', 'sent', 'failed')),
  notify_error  TEXT    NOT NULL DEFAULT '',
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL
);
CREATE INDEX contacts_site_idx ON contacts (site_id, id);
CREATE INDEX contacts_site_created_idx ON contacts (site_id, created_at);

CREATE TABLE webhook_subscriptions (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id              BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  url                  TEXT    NOT NULL,
  events               TEXT    NOT NULL DEFAULT '[]',  -- JSON array of event types
  secret               TEXT    NOT NULL,               -- sealed with the master key's SecretBox
  active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,     -- deliveries failed for good since the last success
  disabled_reason      TEXT    NOT NULL DEFAULT '',
  created_at           BIGINT  NOT NULL,
  updated_at           BIGINT  NOT NULL
);
CREATE INDEX webhook_subscriptions_site_idx ON webhook_subscriptions (site_id, id);

-- One event sent to one subscription (a redelivery or a test ping is a delivery of its own). dedup_key
-- makes the fan-out safe to run twice: the event id for a fan-out, a random key for a manual delivery.
CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id         BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  subscription_id BIGINT  NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  dedup_key       TEXT    NOT NULL,
  event_id        TEXT    NOT NULL,
  event_type      TEXT    NOT NULL,
  payload         TEXT    NOT NULL,  -- the exact body POSTed (the event as JSON)
  manual          INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),  -- test ping or redelivery
  redelivery_of   BIGINT,
  status          TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'succeeded', 'failed', 'skipped')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  response_status INTEGER,           -- of the last attempt
  response_ms     BIGINT,
  response_excerpt TEXT   NOT NULL DEFAULT '',
  error           TEXT    NOT NULL DEFAULT '',
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL,
  UNIQUE (subscription_id, dedup_key)
);
CREATE INDEX webhook_deliveries_sub_idx ON webhook_deliveries (site_id, subscription_id, id);

CREATE TABLE webhook_attempts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id          BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  delivery_id      BIGINT  NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt          INTEGER NOT NULL,
  at               BIGINT  NOT NULL,
  response_status  INTEGER,          -- NULL when no HTTP answer came (refused target, timeout, connection error)
  response_ms      BIGINT  NOT NULL,
  response_excerpt TEXT    NOT NULL DEFAULT '',  -- at most 1 KiB of the answer
  error            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
