-- Media (issue 4). An item is one uploaded file of a site, stored once per site and content (sha256), under
-- data/media/{site_id}/{id}-{first 32 hex digits of sha256}.{ext}; its responsive WebP sizes (made by the
-- media.derive job) are media_variants. media_refs records which objects use which media item (entries now;
-- site logos and mail later), so that deleting an item in use needs force and an item lists its uses. Owners
-- write their refs in the transaction that changes them (media::store::ReplaceRefs).

CREATE TABLE media (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a deleted item's id is never reused
  site_id       BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  sha256        TEXT    NOT NULL,             -- hex of the content's SHA-256
  ext           TEXT    NOT NULL,             -- the stored file's extension: the sniffed type's, never the client's
  content_type  TEXT    NOT NULL,             -- as sniffed by libmagic and allowed
  family        TEXT    NOT NULL,             -- image | document | audio | video
  size_bytes    BIGINT  NOT NULL,
  filename      TEXT    NOT NULL,             -- the client's name, sanitised: metadata only, never a path
  width         INTEGER,                      -- images only
  height        INTEGER,
  alt           TEXT    NOT NULL DEFAULT '',
  caption       TEXT    NOT NULL DEFAULT '',
  created_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL,
  UNIQUE (site_id, sha256)                    -- de-duplication per site
);
CREATE INDEX media_site_family_idx ON media (site_id, family, id);

CREATE TABLE media_variants (
  media_id   BIGINT  NOT NULL REFERENCES media (id) ON DELETE CASCADE,
  width      INTEGER NOT NULL,                -- 320 | 768 | 1280, only below the original's width
  height     INTEGER NOT NULL,
  size_bytes BIGINT  NOT NULL,
  PRIMARY KEY (media_id, width)
);

CREATE TABLE media_refs (
  site_id    BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  media_id   BIGINT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
  owner_type TEXT   NOT NULL,  -- "entry", ...
  owner_id   BIGINT NOT NULL,
  PRIMARY KEY (media_id, owner_type, owner_id)
);
CREATE INDEX media_refs_owner_idx ON media_refs (owner_type, owner_id);
