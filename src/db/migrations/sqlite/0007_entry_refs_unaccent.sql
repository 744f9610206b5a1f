-- Entry references (issue 4): which entry's reference field points at which entry, so that deleting a
-- referenced entry is refused (409) unless forced, and a forced delete clears the references in its
-- transaction. The service writes the rows with the entry (content_store ReplaceEntryRefs); the rows of
-- entries saved before this migration are filled in below from their data.
-- (PostgreSQL's migration 0007 also makes its full-text search accent-insensitive; SQLite's FTS5 index
-- already is, with unicode61 remove_diacritics 2.)

CREATE TABLE entry_refs (
  site_id   BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  entry_id  BIGINT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,  -- the entry holding the reference
  field     TEXT   NOT NULL,                                            -- its reference field
  target_id BIGINT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,  -- the entry referred to
  PRIMARY KEY (entry_id, field)
);
CREATE INDEX entry_refs_target_idx ON entry_refs (site_id, target_id);

-- Field names match ^[a-z][a-z0-9_]{0,63}$, so quoting them in a JSON path is safe.
INSERT INTO entry_refs (site_id, entry_id, field, target_id)
SELECT x.site_id, x.entry_id, x.field, x.target_id
FROM (
  SELECT e.site_id AS site_id, e.id AS entry_id, json_extract(f.value, '$.name') AS field,
         CASE WHEN json_type(e.data, '$."' || json_extract(f.value, '$.name') || '"') = 'integer'
              THEN json_extract(e.data, '$."' || json_extract(f.value, '$.name') || '"') END AS target_id
  FROM entries e JOIN collections c ON c.id = e.collection_id, json_each(c.fields) f
  WHERE json_extract(f.value, '$.type') = 'reference'
) x
JOIN entries t ON t.id = x.target_id AND t.site_id = x.site_id;
