/*
 * pkgdir.c: the packages of a share written into a folder, plain: the scan and the packager
 * as a migration uses them, the files copied (their MD5 taken on the way) instead of uploaded.
 */
#include "pkgdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "http.h"
#include "packager.h"
#include "round.h"
#include "sp.h"
#include "xmalloc.h"

struct pkgdir {
    const char *outdir;
    const char *src_root;
    struct pkgw_target *pt;
    const char *domain;
    int packages;
    uint64_t items, failed;
    char err[512];
};

/* Copies the source file of o to path, taking its MD5 and size on the way. */
static int copy_file(const char *src, const char *dst, struct pack_obj *o)
{
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return -1;
    }
    unsigned char *buf = xmalloc(1 << 20);
    struct crypto_md5 *m = crypto_md5_create();
    int64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t k = read(in, buf, 1 << 20);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = k < 0 ? -1 : 0;
            break;
        }
        crypto_md5_update(m, buf, (size_t)k);
        if (write(out, buf, (size_t)k) != k) {
            rc = -1;
            break;
        }
        total += k;
    }
    crypto_md5_final(m, o->md5); /* frees m */
    o->has_md5 = true;
    o->size = total;
    free(buf);
    close(in);
    if (close(out) < 0)
        rc = -1;
    return rc;
}

static int write_text(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

static int on_pack_dir(void *ctx, struct pack *p)
{
    struct pkgdir *d = ctx;
    char *dir = xasprintf("%s/package-%04d", d->outdir, p->no);
    char *content = xasprintf("%s/content", dir);
    int rc = 0;
    if ((mkdir(dir, 0755) < 0 && errno != EEXIST) ||
        (mkdir(content, 0755) < 0 && errno != EEXIST)) {
        snprintf(d->err, sizeof d->err, "%s: %s", dir, strerror(errno));
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct pack_obj *o = &p->obj[i];
        if (o->is_folder || o->ancestor)
            continue;
        char name[UUID_BUF + 8];
        pack_blob_name(o, name);
        char *src = xasprintf("%s/%s", d->src_root, o->src_rel);
        char *dst = xasprintf("%s/%s", content, name);
        if (copy_file(src, dst, o) < 0) {
            fprintf(stderr, "spmig: %s: %s (left out)\n", src, strerror(errno));
            pack_obj_fail(o, ROUND_CAT_PACK, "0x01410001", "Packaging failure: Can't open file");
            unlink(dst);
            d->failed++;
        }
        free(src);
        free(dst);
    }
    for (int k = 0; k < PACKAGE_FILE_KINDS; k++) {
        struct strbuf xml;
        strbuf_init(&xml, PACKAGE_XML_MAX_BYTES);
        char *path = xasprintf("%s/%s", dir, package_file_name((enum package_file)k));
        if (pack_write_xml(p, d->pt, d->domain, (enum package_file)k, &xml) < 0 ||
            write_text(path, xml.data ? xml.data : "", xml.len) < 0) {
            snprintf(d->err, sizeof d->err, "%s: cannot write", path);
            rc = 1;
        }
        free(path);
        strbuf_finish(&xml);
        if (rc)
            goto out;
    }
    d->packages++;
    d->items += p->n_items;
out:
    free(dir);
    free(content);
    pack_destroy(p);
    return rc;
}

struct pkg_walk {
    struct packer *pk;
};

static int on_entry_dir(void *ctx, const struct scan_entry *e)
{
    struct pkg_walk *w = ctx;
    unsigned char u[UUID_LEN];
    char uid[UUID_BUF], item[UUID_BUF];
    uuid_v4(u);
    uuid_format(u, uid);
    uuid_v4(u);
    uuid_format(u, item);
    return packer_visit(w->pk, e, uid, item, scan_migrates(e->verdict));
}

int pkgdir_run(const struct migrate_options *o, const char *outdir)
{
    char err[SPC_ERR];
    char *src = round_source_root(o->source, err);
    if (!src) {
        fprintf(stderr, "spmig: %s\n", err);
        return 2;
    }
    struct spc_target t = {0};
    int code = 2;
    if (o->site_url) {
        struct httpc_options ho = {.max_attempts = o->max_attempts, .cancel = o->cancel};
        struct httpc *h = httpc_create(&ho);
        struct spc sp;
        int rc = h ? spc_init(&sp, h, o->site_url, o->token, err) : -1;
        if (rc == 0) {
            rc = spc_target(&sp, o->list_title, &t, err);
            spc_finish(&sp);
        }
        httpc_destroy(h);
        if (rc < 0) {
            fprintf(stderr, "spmig: %s: %s\n", o->site_url, h ? err : "cannot start libcurl");
            free(src);
            return 2;
        }
    } else {
        /* No server: ids made up for inspection. */
        unsigned char u[UUID_LEN];
        char *ids[] = {t.web_id, t.web_root_folder_id, t.list_id, t.root_folder_id};
        for (size_t i = 0; i < 4; i++) {
            uuid_v4(u);
            uuid_format(u, ids[i]);
        }
        snprintf(t.site_url, sizeof t.site_url, "https://contoso.sharepoint.com");
        snprintf(t.web_url, sizeof t.web_url, "/");
        snprintf(t.list_title, sizeof t.list_title, "%s",
                 o->list_title ? o->list_title : "Documents");
        snprintf(t.root_folder_url, sizeof t.root_folder_url, "/Shared Documents");
    }
    if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "spmig: %s: %s\n", outdir, strerror(errno));
        free(src);
        return 2;
    }
    struct pkgw_target pt = round_pkgw_target(&t, src);
    struct pkgdir d = {.outdir = outdir,
                       .src_root = src,
                       .pt = &pt,
                       .domain = o->user_domain ? o->user_domain : "contoso.com"};
    size_t n_base = 0;
    struct pack_base *base = pack_bases(o->folder, &n_base);
    for (size_t i = 0; i < n_base; i++) {
        unsigned char u[UUID_LEN];
        uuid_v4(u);
        uuid_format(u, base[i].uid);
        uuid_v4(u);
        uuid_format(u, base[i].item_id);
    }
    struct pkg_walk w = {packer_create(base, n_base, on_pack_dir, &d)};
    struct scan_options so = {.in_folder = o->folder && o->folder[0],
                              .skip_hidden = o->skip_hidden};
    struct scan_totals totals;
    int walked = scan_walk(src, &so, on_entry_dir, &w, &totals);
    if (walked == 0) {
        walked = packer_finish(w.pk);
    } else {
        packer_destroy(w.pk);
    }
    if (walked < 0)
        fprintf(stderr, "spmig: %s: %s\n", src, strerror(errno));
    else if (walked > 0)
        fprintf(stderr, "spmig: %s\n", d.err);
    else {
        fprintf(stderr,
                "spmig: %d packages, %llu items in %s (%llu left out by the scan, %llu "
                "unreadable)\n",
                d.packages, (unsigned long long)d.items, outdir,
                (unsigned long long)(totals.files_failed + totals.folders_failed + totals.filtered),
                (unsigned long long)d.failed);
        code = totals.files_failed + totals.folders_failed + d.failed ? 1 : 0;
    }
    pack_bases_free(base, n_base);
    free(src);
    return code;
}
