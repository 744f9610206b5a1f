-- Mail templates, signatures and suppression lists (issue 5). Times are epoch ms.

-- A site's templates: Mustache sources of the subject, the HTML and the text part, checked when saved.
CREATE TABLE mail_templates (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  description TEXT    NOT NULL DEFAULT '',
  subject     TEXT    NOT NULL,
  html        TEXT    NOT NULL,
  text_body   TEXT    NOT NULL DEFAULT '',  -- '' : the text part is derived from the HTML when sending
  created_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL,
  UNIQUE (site_id, name)
);
CREATE INDEX mail_templates_site_idx ON mail_templates (site_id, id);

-- One signature per user and site, stored as given (HTML and text).
CREATE TABLE mail_signatures (
  site_id    BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  html       TEXT   NOT NULL DEFAULT '',
  text_body  TEXT   NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (site_id, user_id)
);

-- The addresses a site never sends to. `email` is normalised (domain lower-cased, IDN in punycode, local
-- part as given), so that the unique index answers every send's look-up. One row per address: a stronger
-- reason replaces a weaker one (see mail_suppression_types.hpp).
CREATE TABLE mail_suppressions (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  email       TEXT    NOT NULL,
  reason      TEXT    NOT NULL CHECK (reason IN ('unsubscribe', 'hard_bounce', 'complaint', 'manual')),
  source      TEXT    NOT NULL DEFAULT '',  -- who reported it: "api", "one_click", "page", "dsn", "sendgrid"...
  detail      TEXT    NOT NULL DEFAULT '',  -- a note, a bounce's diagnostic
  campaign_id BIGINT,                       -- the campaign whose message led to it; no FK until campaigns exist
  created_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL,
  UNIQUE (site_id, email)
);
CREATE INDEX mail_suppressions_site_idx ON mail_suppressions (site_id, id);
