/*
 * packager.c: cuts the scan's entries into self-contained packages and writes their XML. It
 * keeps the chain of folders above the current entry (the destination folder's parts first)
 * so that each package can start with the folders its items need.
 */
#include "packager.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

void pack_destroy(struct pack *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->obj[i].rel);
        free(p->obj[i].src_rel);
        free(p->obj[i].message);
    }
    free(p->obj);
    free(p);
}

void pack_obj_fail(struct pack_obj *o, const char *category, const char *code, const char *msg)
{
    o->failed = true;
    o->category = category;
    snprintf(o->code, sizeof o->code, "%s", code);
    free(o->message);
    o->message = xstrdup(msg);
}

void pack_blob_name(const struct pack_obj *o, char out[UUID_BUF + 8])
{
    snprintf(out, UUID_BUF + 8, "%s.dat", o->uid);
}

struct pack_base *pack_bases(const char *folder, size_t *n)
{
    *n = 0;
    if (!folder || !folder[0])
        return NULL;
    size_t parts = 1;
    for (const char *c = folder; *c; c++)
        parts += *c == '/';
    struct pack_base *b = xcalloc(parts, sizeof *b);
    for (const char *c = folder;; c++) {
        if (*c == '/' || !*c)
            b[(*n)++].rel = xstrndup(folder, (size_t)(c - folder));
        if (!*c)
            break;
    }
    return b;
}

void pack_bases_free(struct pack_base *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)b[i].rel);
    free(b);
}

/* A folder of the chain above the current entry. */
struct level {
    char *rel, *src_rel;
    char uid[UUID_BUF], item_id[UUID_BUF];
    int64_t mtime_ns, ctime_ns;
    uint32_t owner;
    int in_pack; /* number of the package that has it already, 0: none */
};

struct packer {
    pack_fn emit;
    void *ctx;
    size_t n_base;
    struct level *chain; /* base folders, then scan folders by depth */
    size_t depth, cap;   /* levels in use */
    struct pack *cur;
    int next_no;
    const char *prefix; /* the destination folder ("" for none), for rel */
};

static void level_set(struct level *l, const char *rel, const char *src_rel, const char *uid,
                      const char *item_id)
{
    free(l->rel);
    free(l->src_rel);
    memset(l, 0, sizeof *l);
    l->rel = xstrdup(rel);
    l->src_rel = xstrdup(src_rel);
    snprintf(l->uid, sizeof l->uid, "%s", uid);
    snprintf(l->item_id, sizeof l->item_id, "%s", item_id);
}

static void reserve(struct packer *pk, size_t n)
{
    if (n <= pk->cap)
        return;
    size_t cap = pk->cap ? pk->cap * 2 : 16;
    while (cap < n)
        cap *= 2;
    pk->chain = xrealloc(pk->chain, cap * sizeof *pk->chain);
    memset(pk->chain + pk->cap, 0, (cap - pk->cap) * sizeof *pk->chain);
    pk->cap = cap;
}

struct packer *packer_create(const struct pack_base *base, size_t n_base, pack_fn emit, void *ctx)
{
    struct packer *pk = xcalloc(1, sizeof *pk);
    pk->emit = emit;
    pk->ctx = ctx;
    pk->n_base = n_base;
    pk->next_no = 1;
    reserve(pk, n_base + 8);
    for (size_t i = 0; i < n_base; i++)
        level_set(&pk->chain[i], base[i].rel, "", base[i].uid, base[i].item_id);
    pk->depth = n_base;
    pk->prefix = n_base ? pk->chain[n_base - 1].rel : "";
    return pk;
}

static struct pack_obj *add_obj(struct pack *p)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->obj = xrealloc(p->obj, p->cap * sizeof *p->obj);
    }
    struct pack_obj *o = &p->obj[p->n++];
    memset(o, 0, sizeof *o);
    return o;
}

static void add_level(struct packer *pk, size_t i)
{
    struct level *l = &pk->chain[i];
    struct pack_obj *o = add_obj(pk->cur);
    o->is_folder = true;
    o->ancestor = true;
    o->rel = xstrdup(l->rel);
    o->src_rel = xstrdup(l->src_rel);
    memcpy(o->uid, l->uid, sizeof o->uid);
    memcpy(o->item_id, l->item_id, sizeof o->item_id);
    memcpy(o->parent_uid, i ? pk->chain[i - 1].uid : "", i ? sizeof o->parent_uid : 1);
    o->mtime_ns = l->mtime_ns;
    o->ctime_ns = l->ctime_ns;
    o->owner = l->owner;
    l->in_pack = pk->cur->no;
}

static int flush(struct packer *pk)
{
    struct pack *p = pk->cur;
    pk->cur = NULL;
    if (!p)
        return 0;
    if (p->n_items == 0) {
        pack_destroy(p);
        return 0;
    }
    return pk->emit(pk->ctx, p);
}

int packer_visit(struct packer *pk, const struct scan_entry *e, const char *uid,
                 const char *item_id, bool send)
{
    /* The chain holds the folders above e: base levels, then depths 1 .. e->depth - 1. */
    size_t at = pk->n_base + (size_t)e->depth - 1;
    if (pk->depth > at)
        pk->depth = at;
    const char *dest = e->dest_rel ? e->dest_rel : e->rel;
    char *rel = pk->prefix[0] ? xasprintf("%s/%s", pk->prefix, dest) : xstrdup(dest);
    int rc = 0;
    if (send) {
        bool large = e->kind == SCAN_FILE && e->size >= PACK_MAX_BYTES;
        struct pack *p = pk->cur;
        if (p && (p->n_items >= PACK_MAX_ITEMS ||
                  (e->kind == SCAN_FILE && p->bytes + e->size > PACK_MAX_BYTES) || large)) {
            rc = flush(pk);
            if (rc)
                goto out;
        }
        if (!pk->cur) {
            pk->cur = xcalloc(1, sizeof *pk->cur);
            pk->cur->no = pk->next_no++;
        }
        for (size_t i = 0; i < pk->depth; i++)
            if (pk->chain[i].in_pack != pk->cur->no)
                add_level(pk, i);
        struct pack_obj *o = add_obj(pk->cur);
        o->is_folder = e->kind == SCAN_FOLDER;
        o->rel = xstrdup(rel);
        o->src_rel = xstrdup(e->rel);
        snprintf(o->uid, sizeof o->uid, "%s", uid);
        snprintf(o->item_id, sizeof o->item_id, "%s", item_id);
        snprintf(o->parent_uid, sizeof o->parent_uid, "%s",
                 pk->depth ? pk->chain[pk->depth - 1].uid : "");
        o->size = e->kind == SCAN_FILE ? e->size : 0;
        o->mtime_ns = e->mtime_ns;
        o->ctime_ns = e->ctime_ns;
        o->owner = e->uid;
        pk->cur->n_items++;
        if (e->kind == SCAN_FILE) {
            pk->cur->n_files++;
            pk->cur->bytes += e->size;
        }
        if (large)
            rc = flush(pk);
    }
    if (e->kind == SCAN_FOLDER) {
        reserve(pk, at + 1);
        level_set(&pk->chain[at], rel, e->rel, uid, item_id);
        pk->chain[at].mtime_ns = e->mtime_ns;
        pk->chain[at].ctime_ns = e->ctime_ns;
        pk->chain[at].owner = e->uid;
        /* Sent just now: this package has it. */
        if (send && pk->cur)
            pk->chain[at].in_pack = pk->cur->no;
        pk->depth = at + 1;
    }
out:
    free(rel);
    return rc;
}

void packer_destroy(struct packer *pk)
{
    if (!pk)
        return;
    for (size_t i = 0; i < pk->cap; i++) {
        free(pk->chain[i].rel);
        free(pk->chain[i].src_rel);
    }
    free(pk->chain);
    pack_destroy(pk->cur);
    free(pk);
}

int packer_finish(struct packer *pk)
{
    int rc = flush(pk);
    packer_destroy(pk);
    return rc;
}

/* -- XML ------------------------------------------------------------------------------------ */

struct owners {
    uint32_t uid[64];
    char *name[64];
    size_t n;
};

/* The package user id of an owner (1-based); owners past 64 share the last id. */
static int owner_id(struct owners *ow, uint32_t uid)
{
    for (size_t i = 0; i < ow->n; i++)
        if (ow->uid[i] == uid)
            return (int)i + 1;
    if (ow->n == 64)
        return 64;
    char buf[4096];
    struct passwd pw, *res = NULL;
    getpwuid_r(uid, &pw, buf, sizeof buf, &res);
    ow->uid[ow->n] = uid;
    ow->name[ow->n] = res ? xstrdup(res->pw_name) : xasprintf("uid%u", uid);
    return (int)++ow->n;
}

int pack_write_xml(const struct pack *p, const struct pkgw_target *target, const char *domain,
                   enum package_file kind, struct strbuf *out)
{
    struct owners ow = {0};
    struct pkgw_object *objs = xcalloc(p->n ? p->n : 1, sizeof *objs);
    char(*blobs)[UUID_BUF + 8] = xcalloc(p->n ? p->n : 1, sizeof *blobs);
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct pack_obj *o = &p->obj[i];
        if (o->failed)
            continue;
        struct pkgw_object *w = &objs[n++];
        w->is_folder = o->is_folder;
        w->rel = o->rel;
        w->id = o->uid;
        w->item_id = o->item_id;
        w->parent_id = o->parent_uid[0] ? o->parent_uid : NULL;
        w->author = w->editor = owner_id(&ow, o->owner);
        w->created_ms = o->ctime_ns / 1000000;
        w->modified_ms = o->mtime_ns / 1000000;
        if (!o->is_folder) {
            pack_blob_name(o, blobs[i]);
            w->blob = blobs[i];
            w->size = o->size;
            w->has_md5 = o->has_md5;
            memcpy(w->md5, o->md5, sizeof w->md5);
            w->version = "1.0";
        }
    }
    struct pkgw_user users[64];
    char *logins[64], *emails[64];
    for (size_t i = 0; i < ow.n; i++) {
        emails[i] = xasprintf("%s@%s", ow.name[i], domain);
        logins[i] = xasprintf("i:0#.f|membership|%s", emails[i]);
        users[i] = (struct pkgw_user){(int)i + 1, ow.name[i], logins[i], emails[i]};
    }
    struct pkgw_package pkg = {target, users, ow.n, objs, n};
    int rc = pkgw_write(&pkg, kind, out);
    for (size_t i = 0; i < ow.n; i++) {
        free(ow.name[i]);
        free(logins[i]);
        free(emails[i]);
    }
    free(blobs);
    free(objs);
    return rc;
}
