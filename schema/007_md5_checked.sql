-- Version 7: whether a blob's content_md5 was computed by the store over the bytes it holds
-- (Put Blob without x-ms-blob-content-md5, or with one equal to what the store computed),
-- rather than only given by the client (Put Block List, Set Blob Properties). The import
-- trusts a checked MD5 instead of hashing the bytes a second time.
ALTER TABLE blobs ADD COLUMN md5_checked INTEGER NOT NULL DEFAULT 0;
