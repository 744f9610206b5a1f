-- Media (issue 4). media_refs records which objects use which media item (entries now; site logos and mail
-- later), so that deleting an item in use needs force and an item lists its uses. Owners write their refs in
-- the transaction that changes them (media::store::ReplaceRefs).

CREATE TABLE media_refs (
  site_id    BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  media_id   BIGINT NOT NULL,
  owner_type TEXT   NOT NULL,  -- "entry", ...
  owner_id   BIGINT NOT NULL,
  PRIMARY KEY (media_id, owner_type, owner_id)
);
CREATE INDEX media_refs_owner_idx ON media_refs (owner_type, owner_id);
