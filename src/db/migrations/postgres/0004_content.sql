-- Content (issue 4): per-site collections with a field schema, their entries, the entries' revisions, the
-- values of fields marked unique, and the full-text index. Times are epoch ms; JSON documents are TEXT.

CREATE TABLE collections (
  id          BIGSERIAL PRIMARY KEY,
  site_id     BIGINT    NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  slug        TEXT      NOT NULL,
  name        TEXT      NOT NULL,
  description TEXT      NOT NULL DEFAULT '',
  fields      TEXT      NOT NULL,  -- JSON array of field definitions (content_types.hpp)
  preset      TEXT,                -- "formations", "pages" or NULL
  created_at  BIGINT    NOT NULL,
  updated_at  BIGINT    NOT NULL,
  UNIQUE (site_id, slug)
);

-- position is dense (0..n-1) within a collection: every change of it runs with the collection row locked
-- (SELECT ... FOR UPDATE), so no UNIQUE constraint is needed (and shifting rows would trip one).
CREATE TABLE entries (
  id            BIGSERIAL PRIMARY KEY,
  site_id       BIGINT    NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  collection_id BIGINT    NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  status        TEXT      NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
  position      BIGINT    NOT NULL,
  slug          TEXT,                -- data.slug when the collection has a "slug" field
  data          TEXT      NOT NULL,  -- {field: value}
  search_text   TEXT      NOT NULL DEFAULT '',  -- the entry's text, for the full-text index
  search        TSVECTOR  NOT NULL DEFAULT ''::tsvector,  -- search_text in the site's language, set by the store
  version       BIGINT    NOT NULL DEFAULT 1,   -- bumped by every change: the ETag
  publish_at    BIGINT,              -- a scheduled publication (drafts only)
  created_at    BIGINT    NOT NULL,
  updated_at    BIGINT    NOT NULL,
  published_at  BIGINT               -- first publication
);
CREATE INDEX entries_collection_position_idx ON entries (collection_id, position);
CREATE INDEX entries_site_idx ON entries (site_id);
CREATE UNIQUE INDEX entries_slug_idx ON entries (collection_id, slug);
CREATE INDEX entries_search_idx ON entries USING GIN (search);

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
  id            BIGSERIAL PRIMARY KEY,
  site_id       BIGINT    NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  entry_id      BIGINT    NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  revision      BIGINT    NOT NULL,
  status        TEXT      NOT NULL,
  data          TEXT      NOT NULL,
  actor_user_id BIGINT,
  created_at    BIGINT    NOT NULL,
  UNIQUE (entry_id, revision)
);
