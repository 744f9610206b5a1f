-- SEO (issue 4): the metadata editors give the pages of a site, and the site's defaults. A page is "home",
-- "about", "contact", "collection:<slug>" or "entry:<collection slug>/<entry id>" (seo_types.hpp); fields
-- left empty fall back to the entry, the collection, the defaults and the site. Times are epoch ms; JSON
-- documents are TEXT.

CREATE TABLE seo_pages (
  site_id             BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
  page                TEXT   NOT NULL,
  title               TEXT   NOT NULL DEFAULT '',
  description         TEXT   NOT NULL DEFAULT '',
  keywords            TEXT   NOT NULL DEFAULT '[]',  -- JSON array of strings
  canonical_url       TEXT   NOT NULL DEFAULT '',
  robots              TEXT   NOT NULL DEFAULT '',
  og_title            TEXT   NOT NULL DEFAULT '',
  og_description      TEXT   NOT NULL DEFAULT '',
  og_image            TEXT   NOT NULL DEFAULT '',
  og_type             TEXT   NOT NULL DEFAULT '',
  twitter_card        TEXT   NOT NULL DEFAULT '',
  twitter_title       TEXT   NOT NULL DEFAULT '',
  twitter_description TEXT   NOT NULL DEFAULT '',
  twitter_image       TEXT   NOT NULL DEFAULT '',
  json_ld             TEXT   NOT NULL DEFAULT '',    -- '' or a JSON object / array of objects
  created_at          BIGINT NOT NULL,
  updated_at          BIGINT NOT NULL,
  PRIMARY KEY (site_id, page)
);

-- One row per site once anything of its SEO changed. generation counts the changes that regenerate the
-- site's seo.json: the "seo.regenerate" job of each change is keyed by site and generation.
CREATE TABLE seo_defaults (
  site_id        BIGINT NOT NULL PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
  title_template TEXT   NOT NULL DEFAULT '',
  description    TEXT   NOT NULL DEFAULT '',
  og_image       TEXT   NOT NULL DEFAULT '',
  twitter_handle TEXT   NOT NULL DEFAULT '',
  generation     BIGINT NOT NULL DEFAULT 0,
  updated_at     BIGINT NOT NULL
);
