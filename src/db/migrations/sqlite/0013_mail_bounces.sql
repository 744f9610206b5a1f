-- Bounces and complaints (issue 5): from DSNs synced into a site's bounce mailbox, from SendGrid's Event
-- Webhook and from Amazon SES through SNS. Times are epoch ms.

-- One row per bounce or complaint of one address. message_id / campaign_id / recipient_id point at what was
-- sent when the report names it (mail_campaign_recipients.id for recipient_id; no foreign key: the campaign's
-- ON DELETE SET NULL is enough). dedupe_key makes a report delivered twice (a DSN synced again, a webhook
-- retried) one row.
CREATE TABLE mail_bounces (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id      BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  email        TEXT    NOT NULL,
  kind         TEXT    NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint')),
  source       TEXT    NOT NULL CHECK (source IN ('dsn', 'sendgrid', 'ses')),
  message_id   BIGINT  REFERENCES mail_messages (id) ON DELETE SET NULL,
  campaign_id  BIGINT  REFERENCES mail_campaigns (id) ON DELETE SET NULL,
  recipient_id BIGINT,
  status       TEXT    NOT NULL DEFAULT '',  -- the enhanced status code (5.1.1) when known
  detail       TEXT    NOT NULL DEFAULT '',
  dedupe_key   TEXT    NOT NULL,
  occurred_at  BIGINT  NOT NULL,
  created_at   BIGINT  NOT NULL,
  UNIQUE (site_id, dedupe_key)
);
CREATE INDEX mail_bounces_site_idx ON mail_bounces (site_id, created_at);
CREATE INDEX mail_bounces_campaign_idx ON mail_bounces (campaign_id);
CREATE INDEX mail_bounces_message_idx ON mail_bounces (message_id);

-- The site-owned inbox account whose messages are read as bounce reports (one per site).
CREATE TABLE mail_bounce_mailboxes (
  site_id          BIGINT NOT NULL PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  inbox_account_id BIGINT NOT NULL UNIQUE REFERENCES inbox_accounts (id) ON DELETE CASCADE,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);

-- A provider's event endpoint for one mail account: POST /api/v1/mail/events/<provider>/<token>. Only the
-- SHA-256 of the token is kept (hex): the URL is shown once. SendGrid: the verification key (base64 DER
-- public key) pasted from SendGrid. SES: the SNS topic the notifications must come from.
CREATE TABLE mail_provider_endpoints (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id          BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  account_id       BIGINT  NOT NULL UNIQUE REFERENCES mail_accounts (id) ON DELETE CASCADE,
  provider         TEXT    NOT NULL CHECK (provider IN ('sendgrid', 'ses')),
  token_hash       TEXT    NOT NULL UNIQUE,
  verification_key TEXT    NOT NULL DEFAULT '',
  topic_arn        TEXT    NOT NULL DEFAULT '',
  subscription_arn TEXT    NOT NULL DEFAULT '',
  confirmed_at     BIGINT,
  last_event_at    BIGINT,
  created_at       BIGINT  NOT NULL,
  updated_at       BIGINT  NOT NULL
);
CREATE INDEX mail_provider_endpoints_site_idx ON mail_provider_endpoints (site_id, id);

-- A bounce names the message it answers by Message-ID or by the provider's id: find it without a scan.
CREATE INDEX mail_messages_msgid_idx ON mail_messages (site_id, message_id);
CREATE INDEX mail_messages_provider_idx ON mail_messages (site_id, provider_message_id)
  WHERE provider_message_id <> '';
CREATE INDEX mail_campaign_recipients_msgid_idx ON mail_campaign_recipients (site_id, message_id)
  WHERE message_id <> '';
CREATE INDEX mail_campaign_recipients_provider_idx ON mail_campaign_recipients (site_id, provider_id)
  WHERE provider_id <> '';
