-- Campaigns (issue 5): one message personalised per recipient, sent in batches by jobs. Each recipient row
-- is the checkpoint: a batch job claims rows (claimed_by = its job id, so the same job re-run after a crash
-- takes its own rows back first), marks a row sent right before the end of its message goes to the server,
-- and records the outcome. Times are epoch ms; JSON documents are TEXT.

CREATE TABLE mail_campaigns (
  id            INTEGER PRIMARY KEY,
  site_id       BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  name          TEXT    NOT NULL,
  account_id    BIGINT  REFERENCES mail_accounts (id) ON DELETE SET NULL,  -- NULL: the site's default account
  template_id   BIGINT  REFERENCES mail_templates (id) ON DELETE SET NULL,
  subject       TEXT    NOT NULL DEFAULT '',
  html          TEXT    NOT NULL DEFAULT '',
  text          TEXT    NOT NULL DEFAULT '',
  state         TEXT    NOT NULL DEFAULT 'draft'
                CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'finished', 'cancelled')),
  send_at       BIGINT,
  parallel      INTEGER NOT NULL DEFAULT 4,
  run           INTEGER NOT NULL DEFAULT 0,  -- bumped by each start / resume: batch jobs of an older run stop
  paused_reason TEXT    NOT NULL DEFAULT '',
  created_by    BIGINT,
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL,
  started_at    BIGINT,
  finished_at   BIGINT
);
CREATE INDEX mail_campaigns_site_idx ON mail_campaigns (site_id, id);

CREATE TABLE mail_campaign_recipients (
  id          INTEGER PRIMARY KEY,
  campaign_id BIGINT  NOT NULL REFERENCES mail_campaigns (id) ON DELETE CASCADE,
  site_id     BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  line        BIGINT  NOT NULL DEFAULT 0,
  email       TEXT    NOT NULL,
  email_key   TEXT    NOT NULL,  -- the address lower-cased: one message per address and campaign
  name        TEXT    NOT NULL DEFAULT '',
  variables   TEXT    NOT NULL DEFAULT '{}',
  state       TEXT    NOT NULL DEFAULT 'pending'
              CHECK (state IN ('pending', 'claimed', 'sent', 'failed', 'skipped')),
  claimed_by  BIGINT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  retry_at    BIGINT,  -- a temporary failure: not claimed again before this time
  message_id  TEXT    NOT NULL DEFAULT '',
  provider_id TEXT    NOT NULL DEFAULT '',
  last_error  TEXT    NOT NULL DEFAULT '',
  sent_at     BIGINT,
  UNIQUE (campaign_id, email_key)
);
CREATE INDEX mail_campaign_recipients_state_idx ON mail_campaign_recipients (campaign_id, state, id);
