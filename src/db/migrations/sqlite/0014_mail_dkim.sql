-- DKIM keys per site (issue 5): each signs the mail From one domain (or its subdomains) with one selector.
-- private_key is the PEM sealed with the master key (SecretBox, bound to the site and the key's id: see
-- MailDkimService::SecretBinding; `poste keys rotate` re-seals it); public_key is the base64 DER public key
-- that the DNS record publishes. Times are epoch ms.
CREATE TABLE mail_dkim_keys (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     BIGINT   NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  domain      TEXT     NOT NULL,
  selector    TEXT     NOT NULL,
  private_key TEXT     NOT NULL DEFAULT '',
  public_key  TEXT     NOT NULL,
  bits        INTEGER  NOT NULL,
  enabled     INTEGER  NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_by  BIGINT,
  created_at  BIGINT   NOT NULL,
  updated_at  BIGINT   NOT NULL,
  UNIQUE (site_id, domain, selector)
);
CREATE INDEX mail_dkim_keys_site_idx ON mail_dkim_keys (site_id, id);
