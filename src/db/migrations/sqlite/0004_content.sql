-- Content (issue 4): per-site collections with a field schema, their entries, the entries' revisions, the
-- values of fields marked unique, and the full-text index. Times are epoch ms; JSON documents are TEXT.

CREATE TABLE collections (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  slug        TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  description TEXT    NOT NULL DEFAULT '',
  fields      TEXT    NOT NULL,  -- JSON array of field definitions (content_types.hpp)
  preset      TEXT,              -- "formations", "pages" or NULL
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL,
  UNIQUE (site_id, slug)
);

-- position is dense (0..n-1) within a collection: every change of it runs with the collection row locked
-- (SQLite: the single writer), so no UNIQUE constraint is needed (and shifting rows would trip one).
CREATE TABLE entries (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id       BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  collection_id BIGINT  NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  status        TEXT    NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
  position      BIGINT  NOT NULL,
  slug          TEXT,              -- data.slug when the collection has a "slug" field
  data          TEXT    NOT NULL,  -- {field: value}
  search_text   TEXT    NOT NULL DEFAULT '',  -- the entry's text, for the full-text index
  version       BIGINT  NOT NULL DEFAULT 1,   -- bumped by every change: the ETag
  publish_at    BIGINT,            -- a scheduled publication (drafts only)
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL,
  published_at  BIGINT             -- first publication
);
CREATE INDEX entries_collection_position_idx ON entries (collection_id, position);
CREATE INDEX entries_site_idx ON entries (site_id);
CREATE UNIQUE INDEX entries_slug_idx ON entries (collection_id, slug);

-- One row per (field marked unique, value): the database refuses a duplicate even between concurrent writers.
CREATE TABLE entry_unique_values (
  collection_id BIGINT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  field         TEXT   NOT NULL,
  value_key     TEXT   NOT NULL,
  entry_id      BIGINT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  PRIMARY KEY (collection_id, field, value_key)
);
CREATE INDEX entry_unique_values_entry_idx ON entry_unique_values (entry_id);

-- The last revisions of each entry (the service keeps N), newest revision = the entry's version.
CREATE TABLE entry_revisions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id       BIGINT  NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  entry_id      BIGINT  NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  revision      BIGINT  NOT NULL,
  status        TEXT    NOT NULL,
  data          TEXT    NOT NULL,
  actor_user_id BIGINT,
  created_at    BIGINT  NOT NULL,
  UNIQUE (entry_id, revision)
);

-- Full-text search: an external-content FTS5 table over entries.search_text, kept in sync by triggers, so
-- the index changes in the very transaction that changes the entry (cascading deletes included).
CREATE VIRTUAL TABLE entries_fts USING fts5 (
  search_text, content = 'entries', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
  INSERT INTO entries_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
  INSERT INTO entries_fts (entries_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF search_text ON entries BEGIN
  INSERT INTO entries_fts (entries_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO entries_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
