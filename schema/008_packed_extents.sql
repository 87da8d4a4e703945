-- Version 8: small extents live in pack files. A pack is an extent file shared by many
-- small extents, each a range of it: extents.file names the pack and pack_off is where the
-- range starts. pack_off is -1 for an extent that is a whole file of its own. Inline extents
-- (extent_bytes, schema 6) written before this version stay readable; new small bodies go to
-- packs, whose one write each costs far less than SQLite writing the same bytes page by page
-- into the WAL and again at the checkpoint.
ALTER TABLE extents ADD COLUMN pack_off INTEGER NOT NULL DEFAULT -1;
DROP INDEX extents_by_file;
CREATE UNIQUE INDEX extents_by_file ON extents (file, pack_off) WHERE file IS NOT NULL;
