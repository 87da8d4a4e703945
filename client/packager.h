/*
 * packager.h: turns the scan's stream of entries into packages: at most PACK_MAX_ITEMS items
 * or PACK_MAX_BYTES bytes each, a large file alone, and every package self-contained (the
 * folders above its items come first, as "ancestors" the import merges with what exists), so
 * packages can be uploaded and imported in any order. Also writes a package's XML files (with
 * package_write.h). Reading, encrypting and uploading the files are the caller's.
 */
#ifndef SPMIG_PACKAGER_H
#define SPMIG_PACKAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "package.h"
#include "package_write.h"
#include "scan.h"
#include "strbuf.h"
#include "uuid.h"

#define PACK_MAX_ITEMS 250
#define PACK_MAX_BYTES (250LL * 1000 * 1000) /* 250 MB */

/* One folder or file of a package, in package order. */
struct pack_obj {
    bool is_folder;
    bool ancestor; /* only there for what is under it: not one of the package's items */
    char *rel;     /* path under the library root (the destination folder included) */
    char *src_rel; /* path under the source ("" for the destination folder's parts) */
    char uid[UUID_BUF], item_id[UUID_BUF];
    char parent_uid[UUID_BUF]; /* "" for the library's root folder */
    int64_t size, mtime_ns, ctime_ns;
    uint32_t owner;
    /* Set while the package is sent: */
    unsigned char md5[16]; /* the plaintext's, when has_md5 */
    bool has_md5;
    bool failed;          /* left out of the manifest */
    const char *category; /* report Result category (static) when failed */
    char code[16];        /* report Error code */
    char *message;        /* malloc'ed */
};

struct pack {
    int no;               /* 1, 2, ... in the order made */
    struct pack_obj *obj; /* ancestors and items, in order */
    size_t n, cap;
    size_t n_items; /* objects that are not ancestors */
    size_t n_files;
    int64_t bytes; /* of its files */
};

void pack_destroy(struct pack *p);
/* Marks o failed with a report category, code and message (copied). */
void pack_obj_fail(struct pack_obj *o, const char *category, const char *code, const char *msg);

/* Called with each finished package; the callee owns it (pack_destroy). Non-zero stops. */
typedef int (*pack_fn)(void *ctx, struct pack *p);

/* A folder above the source's root in the destination (from --folder), outermost first. */
struct pack_base {
    const char *rel; /* "Imported", "Imported/2024" */
    char uid[UUID_BUF], item_id[UUID_BUF];
};

/* The parts of a destination folder ("Imported/2024": "Imported", then "Imported/2024"), in a
 * new array of *n with rel set (malloc'ed) and ids empty for the caller; NULL and 0 for an
 * empty folder. Free with pack_bases_free. */
struct pack_base *pack_bases(const char *folder, size_t *n);
void pack_bases_free(struct pack_base *b, size_t n);

struct packer;

struct packer *packer_create(const struct pack_base *base, size_t n_base, pack_fn emit, void *ctx);
/*
 * Sees one scan entry in walk order, with the ids it has in the destination. send: it goes in
 * a package; folders not sent are still remembered as the ancestors of what is. Returns the
 * emit callback's non-zero value if it stopped, else 0.
 */
int packer_visit(struct packer *pk, const struct scan_entry *e, const char *uid,
                 const char *item_id, bool send);
/* Emits the last package (if any) and frees pk. Returns like packer_visit. */
int packer_finish(struct packer *pk);
/* Frees pk without emitting. */
void packer_destroy(struct packer *pk);

/*
 * Writes one XML file of p for target into out, objects marked failed left out. Authors and
 * editors are the files' owners as logins "i:0#.f|membership|<user>@<domain>"; times are the
 * files' birth and modification times. Returns 0 or -1 (see pkgw_write).
 */
int pack_write_xml(const struct pack *p, const struct pkgw_target *target, const char *domain,
                   enum package_file kind, struct strbuf *out);

/* The content blob name of a file object ("<uid>.dat"). */
void pack_blob_name(const struct pack_obj *o, char out[UUID_BUF + 8]);

#endif
