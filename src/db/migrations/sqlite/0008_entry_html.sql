-- Entries keep their markdown fields rendered (issue 4: render on write), so that reading a page of
-- entries neither renders markdown nor re-encodes the data: the public list writes the stored texts as
-- they are. html holds the compact JSON object {field: html} of the entry's markdown fields, '' when it has
-- none; NULL means "not rendered yet" (rows written before this migration, or after a change of the
-- renderer, which clears the column): readers render those on the fly and the next write stores them.
ALTER TABLE entries ADD COLUMN html TEXT;
