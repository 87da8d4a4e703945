/*
 * blob_store.h: containers, block blobs, uncommitted blocks, snapshots and metadata. Rows in
 * SQLite, bytes in extents: files (store_files) or, for bodies up to LIMIT_INLINE_BYTES,
 * small extents in packs (extents.h). A blob is an ordered list of whole extents, so committing a
 * block list or taking a snapshot copies no bytes. Conditional headers are evaluated here, inside
 * the transaction that acts on them. It knows nothing about HTTP.
 */
#ifndef SPMIG_BLOB_STORE_H
#define SPMIG_BLOB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "extents.h"
#include "store_files.h"

enum blob_store_err {
    BLOB_STORE_OK = 0,
    BLOB_STORE_NO_CONTAINER,      /* 404 ContainerNotFound */
    BLOB_STORE_CONTAINER_EXISTS,  /* 409 ContainerAlreadyExists */
    BLOB_STORE_NO_BLOB,           /* 404 BlobNotFound */
    BLOB_STORE_BLOB_EXISTS,       /* 409 BlobAlreadyExists (If-None-Match: * on a write) */
    BLOB_STORE_COND_FAILED,       /* 412 ConditionNotMet */
    BLOB_STORE_NOT_MODIFIED,      /* 304 */
    BLOB_STORE_BAD_BLOCK_LIST,    /* 400 InvalidBlockList */
    BLOB_STORE_BLOCK_ID_LENGTH,   /* 400 InvalidBlobOrBlock: ids of mixed length */
    BLOB_STORE_TOO_MANY_BLOCKS,   /* 409 BlockCountExceedsLimit */
    BLOB_STORE_SNAPSHOTS_PRESENT, /* 409 SnapshotsPresent */
    BLOB_STORE_INTERNAL,          /* 500 */
    BLOB_STORE_NO_SNAPSHOT,       /* the blob exists but has no snapshot (the import needs one) */
};

#define BLOB_STORE_ETAG_LEN     24 /* "0x..." quoted, NUL included */
#define BLOB_STORE_SNAPSHOT_LEN 32 /* 2026-11-22T12:55:53.1234567Z */

/* Conditional headers of a request (NULL/false where absent). */
struct blob_store_cond {
    const char *if_match;
    const char *if_none_match;
    bool has_ims, has_ius;
    int64_t ims, ius; /* If-Modified-Since, If-Unmodified-Since */
};

struct blob_store_container {
    int64_t id;
    int64_t created_ms, modified_ms;
    char etag[BLOB_STORE_ETAG_LEN];
    char *metadata; /* JSON object text; owned */
};
void blob_store_container_finish(struct blob_store_container *c);

struct blob_store_props {
    int64_t id;
    char *name;                             /* owned */
    char snapshot[BLOB_STORE_SNAPSHOT_LEN]; /* "" for the base blob */
    uint64_t size;
    int64_t created_ms, modified_ms;
    char etag[BLOB_STORE_ETAG_LEN];
    char *content_type, *content_encoding, *content_language, *content_disposition;
    char *cache_control; /* each owned, NULL if unset */
    bool has_md5;
    bool md5_checked; /* md5 was computed by the store over these bytes, not only given */
    unsigned char md5[CRYPTO_MD5_LEN];
    char *metadata; /* JSON object text; owned; NULL = {} */
};
void blob_store_props_finish(struct blob_store_props *p);

struct blob_store_segment {
    struct extents_location loc; /* the extent and where its bytes are */
    uint64_t size;
};

struct blob_store_blob {
    struct blob_store_props props;
    struct blob_store_segment *segs; /* owned */
    size_t nsegs;
    /* The bytes (props.size of them) when the blob is one small extent, read in the same
     * transaction as props; owned, never NULL then (also for an empty blob). NULL otherwise:
     * read the segments through a blob_store_reader. */
    unsigned char *data;
    /* The store_files_hold taken before the segments were read: their files stay until
     * blob_store_blob_finish (or the reader that took the segments ends). */
    uint64_t hold;
};
void blob_store_blob_finish(struct blob_store_blob *b);

/* Containers. metadata is a JSON object text or NULL. */
int blob_store_container_create(const char *account, const char *name, const char *metadata,
                                struct blob_store_container *out);
int blob_store_container_get(const char *account, const char *name,
                             struct blob_store_container *out);
int blob_store_container_set_metadata(const char *account, const char *name, const char *metadata,
                                      struct blob_store_container *out);
/* Removes the container, its blobs and blocks; their extents go when unreferenced. */
int blob_store_container_delete(const char *account, const char *name);
/*
 * De-links a container's data in one transaction: its blobs and uncommitted blocks move to a
 * new container named trash (same account), so reads of the container answer 404 at once
 * while the bytes stay on disk until trash is deleted. BLOB_STORE_OK (also when there is no such
 * container), or an error; a failure leaves both as they were.
 */
int blob_store_container_delink(const char *account, const char *name, const char *trash);
/* Calls fn for each container of account whose name starts with prefix and sorts after
 * marker, at most max; *next gets the name to continue from (owned) or NULL. */
int blob_store_container_list(const char *account, const char *prefix, const char *marker,
                              unsigned max,
                              void (*fn)(void *ctx, const char *name,
                                         const struct blob_store_container *c),
                              void *ctx, char **next);

/* Reads a blob's properties and extents; read semantics for cond (304 allowed). */
int blob_store_blob_read(int64_t container_id, const char *name, const char *snapshot,
                         const struct blob_store_cond *cond, struct blob_store_blob *out);

/*
 * Reads a blob's bytes as they are needed, whatever its extents: files are opened when
 * reached, small extents fetched one at a time, so memory stays bounded by one small extent
 * whatever the blob's size. Created from a blob_store_blob_read result, whose segments (and data)
 * it takes over: b keeps its props. base is the blob offset of reader position 0. Never NULL.
 */
struct blob_store_reader;
struct blob_store_reader *blob_store_reader_create(struct blob_store_blob *b, uint64_t base);
/* Copies up to max bytes from position pos; returns the count, 0 at the end, or -1 when an
 * extent cannot be read (logged; the blob was replaced or deleted meanwhile, or I/O failed). */
long blob_store_reader_read(struct blob_store_reader *r, uint64_t pos, void *buf, size_t max);
void blob_store_reader_destroy(struct blob_store_reader *r);

/* Reads the newest snapshot of a blob, as the import job does. BLOB_STORE_NO_BLOB if there is no
 * such blob, BLOB_STORE_NO_SNAPSHOT if it has never been snapshotted. */
int blob_store_blob_read_latest(int64_t container_id, const char *name,
                                struct blob_store_blob *out);

/*
 * Writes a whole blob from one extent (Put Blob). in carries content headers, MD5 and
 * metadata; out (may be NULL) receives the new etag and times. On BLOB_STORE_OK the store owns
 * the extent; otherwise the caller still does.
 */
int blob_store_blob_put(int64_t container_id, const char *name, const struct blob_store_props *in,
                        const char *extent, uint64_t size, const struct blob_store_cond *cond,
                        struct blob_store_props *out);

/* Put Blob of a small body: as blob_store_blob_put, but the size bytes of data (at most
 * LIMIT_INLINE_BYTES) are written to a pack before the write lock is taken; no file is
 * created. */
int blob_store_blob_put_inline(int64_t container_id, const char *name,
                               const struct blob_store_props *in, const void *data, uint64_t size,
                               const struct blob_store_cond *cond, struct blob_store_props *out);

/* Stores an uncommitted block (Put Block); ownership of extent as for blob_store_blob_put. */
int blob_store_block_put(int64_t container_id, const char *name, const unsigned char *id,
                         size_t idlen, const char *extent, uint64_t size);
/* Put Block of a small body (at most LIMIT_INLINE_BYTES), written to a pack. */
int blob_store_block_put_inline(int64_t container_id, const char *name, const unsigned char *id,
                                size_t idlen, const void *data, uint64_t size);

struct blob_store_block_ref {
    unsigned char id[64];
    size_t idlen;
    char list; /* 'C' committed, 'U' uncommitted, 'L' latest */
};

/* Commits a block list (Put Block List); uncommitted blocks not used are dropped. */
int blob_store_block_list_commit(int64_t container_id, const char *name,
                                 const struct blob_store_block_ref *refs, size_t nrefs,
                                 const struct blob_store_props *in,
                                 const struct blob_store_cond *cond, struct blob_store_props *out);

struct blob_store_block_info {
    unsigned char id[64];
    size_t idlen;
    uint64_t size;
};
struct blob_store_block_list {
    bool blob_exists;
    struct blob_store_props props;                         /* when blob_exists */
    struct blob_store_block_info *committed, *uncommitted; /* owned */
    size_t ncommitted, nuncommitted;
};
void blob_store_block_list_finish(struct blob_store_block_list *l);
int blob_store_block_list_get(int64_t container_id, const char *name, const char *snapshot,
                              bool committed, bool uncommitted, struct blob_store_block_list *out);

/* Set Blob Properties: replaces all five content headers and the MD5 with in's. */
int blob_store_blob_set_properties(int64_t container_id, const char *name,
                                   const struct blob_store_props *in,
                                   const struct blob_store_cond *cond,
                                   struct blob_store_props *out);
int blob_store_blob_set_metadata(int64_t container_id, const char *name, const char *metadata,
                                 const struct blob_store_cond *cond, struct blob_store_props *out);
/* Snapshot Blob: metadata NULL keeps the blob's. snapshot receives the new snapshot id. */
int blob_store_blob_snapshot(int64_t container_id, const char *name, const char *metadata,
                             const struct blob_store_cond *cond,
                             char snapshot[BLOB_STORE_SNAPSHOT_LEN], struct blob_store_props *out);

enum blob_store_delete_mode {
    BLOB_STORE_DELETE_BLOB,
    BLOB_STORE_DELETE_INCLUDE,
    BLOB_STORE_DELETE_ONLY
};
int blob_store_blob_delete(int64_t container_id, const char *name, const char *snapshot,
                           enum blob_store_delete_mode mode, const struct blob_store_cond *cond);

/* One entry of a listing: a blob (props) or, with a delimiter, a prefix (props == NULL). */
typedef void (*blob_store_list_fn)(void *ctx, const char *prefix,
                                   const struct blob_store_props *props);
struct blob_store_list_opts {
    const char *prefix, *delimiter, *marker;
    unsigned max;
    bool snapshots, metadata;
};
/* Lists blobs by name (then snapshot) order; *next receives the marker to continue from
 * (owned) or NULL at the end. */
int blob_store_list(int64_t container_id, const struct blob_store_list_opts *o,
                    blob_store_list_fn fn, void *ctx, char **next);

#endif
