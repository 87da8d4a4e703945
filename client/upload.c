/*
 * upload.c: reading, encrypting and uploading a package's files, and submitting the package
 * when its last file is up. Files that change while read are read again (three times at
 * most); an answer refusing a file fails that file; no answer at all is fatal for the round.
 */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "crypto.h"
#include "xmalloc.h"

/* Reads up to n bytes at off; returns bytes read (short only at the end) or -1. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

enum up_result { UP_OK, UP_CHANGED, UP_ITEM_FAILED, UP_FATAL };

/* One attempt at sending the file open on fd as blob name; sets o's md5 and size. */
static enum up_result send_file(struct upload_worker *w, struct job *j, struct pack_obj *o, int fd,
                                const char *name, char err[AZC_ERR])
{
    struct stat before, after;
    if (fstat(fd, &before) < 0) {
        snprintf(err, AZC_ERR, "%s", strerror(errno));
        return UP_ITEM_FAILED;
    }
    unsigned char iv[AES_IV_LEN];
    crypto_random(iv, sizeof iv);
    char iv_b64[32];
    b64_encode_to(iv, sizeof iv, iv_b64);
    struct aes *a = aes_create(j->key, iv, true);
    /* The manifest's MD5Hash is the blob's Content-MD5: of the ciphertext, as a whole. */
    struct crypto_md5 *blob_md5 = crypto_md5_create();
    unsigned char whole[16];
    enum up_result res = UP_OK;
    char **ids = NULL;
    size_t n_ids = 0;
    int64_t total = 0;
    for (off_t off = 0;; off += UPLOAD_BLOCK) {
        ssize_t got = read_full(fd, w->in, UPLOAD_BLOCK, off);
        if (got < 0) {
            snprintf(err, AZC_ERR, "read: %s", strerror(errno));
            res = UP_ITEM_FAILED;
            break;
        }
        total += got;
        size_t outlen = 0, fin = 0;
        aes_update(a, w->in, (size_t)got, w->out, &outlen);
        bool last = (size_t)got < UPLOAD_BLOCK;
        if (last) {
            aes_final(a, w->out + outlen, &fin);
            outlen += fin;
        }
        crypto_md5_update(blob_md5, w->out, outlen);
        if (last) {
            crypto_md5_final(blob_md5, whole); /* frees it */
            blob_md5 = NULL;
        }
        int rc;
        if (last && off == 0) {
            rc = azc_put_blob(w->h, &j->data, name, w->out, outlen, whole, iv_b64, err);
        } else {
            char raw[24], id[40];
            snprintf(raw, sizeof raw, "blk%08zu", n_ids);
            b64_encode_to(raw, strlen(raw), id);
            ids = xrealloc(ids, (n_ids + 1) * sizeof *ids);
            ids[n_ids++] = xstrdup(id);
            /* No Content-MD5 per block: the whole blob's goes with Put Block List and into
             * the manifest, where the import checks it; hashing every block as well would
             * cost the client and the server a second pass over the bytes. */
            rc = azc_put_block(w->h, &j->data, name, id, w->out, outlen, NULL, err);
            if (rc == 0 && last)
                rc = azc_put_block_list(w->h, &j->data, name, ids, n_ids, whole, iv_b64, err);
        }
        if (rc < 0) {
            res = strstr(err, "HTTP ") ? UP_ITEM_FAILED : UP_FATAL;
            break;
        }
        pthread_mutex_lock(&w->r->mu);
        w->r->bytes_sent += (uint64_t)got;
        pthread_mutex_unlock(&w->r->mu);
        if (last)
            break;
    }
    if (res == UP_OK) {
        memcpy(o->md5, whole, sizeof whole);
        o->has_md5 = true;
        if (fstat(fd, &after) < 0 || after.st_size != before.st_size ||
            after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
            after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || total != after.st_size)
            res = UP_CHANGED;
        o->size = total;
        o->mtime_ns = (int64_t)after.st_mtim.tv_sec * 1000000000 + after.st_mtim.tv_nsec;
    }
    for (size_t i = 0; i < n_ids; i++)
        free(ids[i]);
    free(ids);
    crypto_md5_destroy(blob_md5);
    aes_destroy(a);
    return res;
}

/* Reads, encrypts, uploads and snapshots one file of j; failures mark the item. */
static void upload(struct upload_worker *w, struct job *j, struct pack_obj *o)
{
    struct run *r = w->r;
    char *path = xasprintf("%s/%s", r->src_root, o->src_rel);
    char name[UUID_BUF + 8], err[AZC_ERR] = "";
    pack_blob_name(o, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "Packaging failure: Can't open file (%s)", strerror(errno));
        pack_obj_fail(o, ROUND_CAT_PACK, "0x01410001", msg);
        goto out;
    }
    enum up_result res = UP_CHANGED;
    for (int t = 0; t < UPLOAD_READ_TRIES && res == UP_CHANGED; t++)
        res = send_file(w, j, o, fd, name, err);
    close(fd);
    if (res == UP_OK && azc_snapshot(w->h, &j->data, name, NULL, err) < 0)
        res = strstr(err, "HTTP ") ? UP_ITEM_FAILED : UP_FATAL;
    switch (res) {
    case UP_OK:
        break;
    case UP_CHANGED:
        pack_obj_fail(o, ROUND_CAT_PACK, "0x02080001",
                      "The file changed while it was being read; it will be sent in the next "
                      "round");
        break;
    case UP_ITEM_FAILED:
        pack_obj_fail(o, ROUND_CAT_UPLOAD, "0x01510001", err);
        break;
    case UP_FATAL:
        round_fatal(r, "upload of %s: %s", o->src_rel, err);
        break;
    }
out:
    free(path);
}

/* -- submit ----------------------------------------------------------------------------------- */

/* Writes, encrypts and uploads the package's XML files, then submits the job. 0 when
 * submitted, -1 when the package failed (items marked), -2 on a fatal error. */
static int submit(struct run *r, struct httpc *h, struct job *j)
{
    static const enum package_file kinds[] = {
        PACKAGE_MANIFEST,     PACKAGE_EXPORT_SETTINGS, PACKAGE_SYSTEM_DATA,
        PACKAGE_USER_GROUP,   PACKAGE_ROOT_OBJECT_MAP, PACKAGE_LOOKUP_LIST_MAP,
        PACKAGE_REQUIREMENTS, PACKAGE_VIEW_FORMS_LIST,
    };
    char err[SPC_ERR] = "";
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct strbuf xml;
        strbuf_init(&xml, PACKAGE_XML_MAX_BYTES);
        if (pack_write_xml(j->p, &r->pt, r->domain, kinds[k], &xml) < 0) {
            strbuf_finish(&xml);
            round_fail_all(j, ROUND_CAT_PACK, "0x0204000A",
                           "Packaging failure: cannot write the manifest");
            return -1;
        }
        unsigned char iv[AES_IV_LEN], md5[16];
        crypto_random(iv, sizeof iv);
        size_t clen = 0;
        unsigned char *c = aes_encrypt_buf(j->key, iv, xml.data ? xml.data : "", xml.len, &clen);
        strbuf_finish(&xml);
        crypto_md5(c, clen, md5);
        char iv_b64[32];
        b64_encode_to(iv, sizeof iv, iv_b64);
        const char *name = package_file_name(kinds[k]);
        int rc = azc_put_blob(h, &j->meta, name, c, clen, md5, iv_b64, err);
        free(c);
        if (rc == 0)
            rc = azc_snapshot(h, &j->meta, name, NULL, err);
        if (rc < 0) {
            if (!strstr(err, "HTTP "))
                return -2;
            round_fail_all(j, ROUND_CAT_UPLOAD, "0x01510001", err);
            return -1;
        }
    }
    int rc = upload_create_job(r, h, j, err);
    if (rc == -1)
        round_fail_all(j, ROUND_CAT_SUBMIT, "0x01610002", err);
    return rc;
}

int upload_create_job(struct run *r, struct httpc *h, struct job *j, char *err)
{
    struct spc sp;
    if (spc_init(&sp, h, r->o->site_url, r->o->token, err) < 0)
        return -2;
    char *data_uri = xasprintf("%s?%s", j->data.base, j->data.query);
    char *meta_uri = xasprintf("%s?%s", j->meta.base, j->meta.query);
    char *queue_uri = xasprintf("%s?%s", r->queue.base, r->queue.query);
    char job_id[UUID_BUF];
    int rc =
        spc_create_job(&sp, r->target.web_id, data_uri, meta_uri, queue_uri, j->key, job_id, err);
    free(data_uri);
    free(meta_uri);
    free(queue_uri);
    spc_finish(&sp);
    if (rc < 0)
        return strstr(err, "HTTP ") ? -1 : -2;
    pthread_mutex_lock(&r->mu);
    memcpy(j->job_id, job_id, sizeof job_id);
    j->last_event = round_mono_ms();
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* The last file of j is up (or j has none): submit it, or round_settle it if nothing is left. */
void upload_package_ready(struct run *r, struct httpc *h, struct job *j)
{
    bool any = false;
    for (size_t i = 0; i < j->p->n; i++)
        any |= !j->p->obj[i].ancestor && !j->p->obj[i].failed;
    if (round_stopping(r))
        return; /* left unsettled: the resumed round sends it again */
    int rc = any ? submit(r, h, j) : -1;
    if (rc == -2) {
        round_fatal(r, "package %d could not be submitted: the server does not answer", j->p->no);
        return;
    }
    if (rc == -1)
        round_settle(r, j);
}

void *upload_worker_main(void *arg)
{
    struct upload_worker *w = arg;
    struct run *r = w->r;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->tasks && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        struct task *t = r->tasks;
        r->tasks = t->next;
        if (!r->tasks)
            r->tasks_tail = NULL;
        pthread_mutex_unlock(&r->mu);
        upload(w, t->job, &t->job->p->obj[t->idx]);
        pthread_mutex_lock(&r->mu);
        bool last = --t->job->files_left == 0;
        pthread_mutex_unlock(&r->mu);
        if (last)
            upload_package_ready(r, w->h, t->job);
        free(t);
    }
    return NULL;
}
