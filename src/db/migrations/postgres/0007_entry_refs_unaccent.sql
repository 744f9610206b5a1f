-- Entry references (issue 4): which entry's reference field points at which entry, so that deleting a
-- referenced entry is refused (409) unless forced, and a forced delete clears the references in its
-- transaction. The service writes the rows with the entry (content_store ReplaceEntryRefs); the rows of
-- entries saved before this migration are filled in below from their data.

CREATE TABLE entry_refs (
  site_id   BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  entry_id  BIGINT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,  -- the entry holding the reference
  field     TEXT   NOT NULL,                                            -- its reference field
  target_id BIGINT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,  -- the entry referred to
  PRIMARY KEY (entry_id, field)
);
CREATE INDEX entry_refs_target_idx ON entry_refs (site_id, target_id);

INSERT INTO entry_refs (site_id, entry_id, field, target_id)
SELECT x.site_id, x.entry_id, x.field, x.target_id
FROM (
  SELECT e.site_id, e.id AS entry_id, f.value ->> 'name' AS field,
         CASE WHEN jsonb_typeof(e.data::jsonb -> (f.value ->> 'name')) = 'number'
              THEN trunc((e.data::jsonb ->> (f.value ->> 'name'))::numeric)::bigint END AS target_id
  FROM entries e JOIN collections c ON c.id = e.collection_id
  CROSS JOIN LATERAL jsonb_array_elements(c.fields::jsonb) AS f(value)
  WHERE f.value ->> 'type' = 'reference'
) x
JOIN entries t ON t.id = x.target_id AND t.site_id = x.site_id;

-- Accent-insensitive full-text search, as SQLite's FTS5 index (remove_diacritics) already is: "cafe creme"
-- finds "Café crème". Rather than an immutable wrapper around unaccent() applied to the text, each language
-- gets a text search configuration whose word mapping runs the unaccent filtering dictionary before the
-- stemmer: to_tsvector(regconfig, text) stays immutable (usable in an index or a generated column), and
-- ts_headline marks the hits in the accented text itself. The unaccent extension ships with PostgreSQL's
-- contrib (Debian: postgresql-15) and is trusted, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION poste_simple (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION poste_simple ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
CREATE TEXT SEARCH CONFIGURATION poste_french (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION poste_french ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
CREATE TEXT SEARCH CONFIGURATION poste_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION poste_english ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION poste_spanish (COPY = pg_catalog.spanish);
ALTER TEXT SEARCH CONFIGURATION poste_spanish ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
CREATE TEXT SEARCH CONFIGURATION poste_german (COPY = pg_catalog.german);
ALTER TEXT SEARCH CONFIGURATION poste_german ALTER MAPPING FOR hword, hword_part, word WITH unaccent, german_stem;
CREATE TEXT SEARCH CONFIGURATION poste_italian (COPY = pg_catalog.italian);
ALTER TEXT SEARCH CONFIGURATION poste_italian ALTER MAPPING FOR hword, hword_part, word WITH unaccent, italian_stem;

-- The entries indexed before: again, under the configuration of their site's locale (the mapping of
-- content_store.cpp SearchLanguage).
UPDATE entries e SET search = to_tsvector(CAST(CASE s.locale WHEN 'fr' THEN 'poste_french' WHEN 'en' THEN 'poste_english'
  WHEN 'es' THEN 'poste_spanish' WHEN 'de' THEN 'poste_german' WHEN 'it' THEN 'poste_italian' ELSE 'poste_simple' END
  AS regconfig), e.search_text)
FROM sites s WHERE s.id = e.site_id;
