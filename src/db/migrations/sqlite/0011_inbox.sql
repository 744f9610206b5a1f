-- The inbox (issue 5): IMAP accounts of a user or of a site, the messages synced from them, the messages'
-- references (for threads) and their attachments (files under <data.dir>/inbox). Times are epoch ms;
-- booleans are INTEGER 0/1; JSON documents are TEXT.

-- Exactly one owner: a user (a personal inbox) or a site (a shared inbox its admins and editors see).
-- uidvalidity / last_uid are the sync's position on the server: a changed UIDVALIDITY resyncs from UID 1.
CREATE TABLE inbox_accounts (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_user_id  BIGINT  REFERENCES users (id) ON DELETE CASCADE,
  site_id        BIGINT  REFERENCES sites (id) ON DELETE CASCADE,
  name           TEXT    NOT NULL,
  host           TEXT    NOT NULL,
  port           INTEGER NOT NULL,
  tls            TEXT    NOT NULL CHECK (tls IN ('none', 'starttls', 'implicit')),
  username       TEXT    NOT NULL,
  password       TEXT    NOT NULL DEFAULT '',  -- sealed with the master key's SecretBox
  mailbox        TEXT    NOT NULL DEFAULT 'INBOX',
  uidvalidity    BIGINT  NOT NULL DEFAULT 0,
  last_uid       BIGINT  NOT NULL DEFAULT 0,
  last_sync_at   BIGINT,
  last_error     TEXT    NOT NULL DEFAULT '',
  created_at     BIGINT  NOT NULL,
  updated_at     BIGINT  NOT NULL,
  CHECK ((owner_user_id IS NULL) <> (site_id IS NULL))
);
CREATE INDEX inbox_accounts_owner_idx ON inbox_accounts (owner_user_id);
CREATE INDEX inbox_accounts_site_idx ON inbox_accounts (site_id);

-- thread_id is the id of the thread's first message row; threads never cross accounts.
CREATE TABLE inbox_messages (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id      BIGINT  NOT NULL REFERENCES inbox_accounts (id) ON DELETE CASCADE,
  uidvalidity     BIGINT  NOT NULL,
  uid             BIGINT  NOT NULL,
  thread_id       BIGINT  NOT NULL DEFAULT 0,
  message_id      TEXT    NOT NULL DEFAULT '',  -- without <>
  in_reply_to     TEXT    NOT NULL DEFAULT '',
  refs            TEXT    NOT NULL DEFAULT '[]',  -- JSON array of Message-IDs, oldest first
  subject         TEXT    NOT NULL DEFAULT '',
  from_name       TEXT    NOT NULL DEFAULT '',
  from_email      TEXT    NOT NULL DEFAULT '',
  to_json         TEXT    NOT NULL DEFAULT '[]',  -- [{name, email}]
  cc_json         TEXT    NOT NULL DEFAULT '[]',
  reply_to_json   TEXT    NOT NULL DEFAULT '[]',
  sent_at         BIGINT,                         -- the Date header, epoch ms
  text_body       TEXT    NOT NULL DEFAULT '',
  html_body       TEXT    NOT NULL DEFAULT '',
  size            BIGINT  NOT NULL DEFAULT 0,
  truncated       INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),  -- too large: headers only
  is_read         INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1)),
  archived        INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
  attachment_count INTEGER NOT NULL DEFAULT 0,
  created_at      BIGINT  NOT NULL,
  UNIQUE (account_id, uidvalidity, uid)
);
CREATE INDEX inbox_messages_account_idx ON inbox_messages (account_id, id);
CREATE INDEX inbox_messages_msgid_idx ON inbox_messages (account_id, message_id);
CREATE INDEX inbox_messages_thread_idx ON inbox_messages (thread_id, id);

-- Every Message-ID a message names in In-Reply-To or References: a reply that arrives before its parent
-- finds its thread through these.
CREATE TABLE inbox_message_refs (
  message_row BIGINT NOT NULL REFERENCES inbox_messages (id) ON DELETE CASCADE,
  account_id  BIGINT NOT NULL,
  ref         TEXT   NOT NULL,
  PRIMARY KEY (message_row, ref)
);
CREATE INDEX inbox_message_refs_ref_idx ON inbox_message_refs (account_id, ref);

CREATE TABLE inbox_attachments (
  message_row  BIGINT  NOT NULL REFERENCES inbox_messages (id) ON DELETE CASCADE,
  position     INTEGER NOT NULL,  -- 0-based, in the message's order
  filename     TEXT    NOT NULL DEFAULT '',
  content_type TEXT    NOT NULL DEFAULT 'application/octet-stream',
  content_id   TEXT    NOT NULL DEFAULT '',
  is_inline    INTEGER NOT NULL DEFAULT 0 CHECK (is_inline IN (0, 1)),
  size         BIGINT  NOT NULL DEFAULT 0,
  path         TEXT    NOT NULL DEFAULT '',  -- under <data.dir>; '' when not kept (over the size limit)
  PRIMARY KEY (message_row, position)
);
