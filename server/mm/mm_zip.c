/*
 * mm_zip.c: deflated zip entries (PKWARE APPNOTE 4.3: local file header, central directory
 * header, end of central directory record); zlib deflates, inflates and computes the CRC-32.
 * It writes headers only: the caller sends each entry's deflated bytes after its local header.
 */
#include "mm_zip.h"
#include "xmalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

int mm_zip_deflate(const void *data, size_t n, unsigned char **out, size_t *out_len, uint32_t *crc)
{
    z_stream z = {0};
    if (n > UINT32_MAX || deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                                       Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, (uLong)n);
    unsigned char *buf = xmalloc(cap ? cap : 1);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = len;
    *crc = (uint32_t)crc32_z(0, data, n);
    return 0;
}

int mm_zip_inflate(const void *zdata, size_t zlen, size_t size, unsigned char **out)
{
    z_stream z = {0};
    if (zlen > UINT32_MAX || size > UINT32_MAX || inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return -1;
    unsigned char *buf = xmalloc(size + 1);
    z.next_in = (Bytef *)zdata;
    z.avail_in = (uInt)zlen;
    z.next_out = buf;
    z.avail_out = (uInt)size + 1; /* one more: a longer stream is caught, not cut */
    int rc = inflate(&z, Z_FINISH);
    bool ok = rc == Z_STREAM_END && z.total_out == size && z.avail_in == 0;
    inflateEnd(&z);
    if (!ok) {
        free(buf);
        return -1;
    }
    buf[size] = '\0';
    *out = buf;
    return 0;
}

static unsigned char *le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}

static unsigned char *le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}

static void dos_time(int64_t ms, unsigned *date, unsigned *tod)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_year < 80) {
        *date = (1 << 5) | 1; /* 1980-01-01 */
        *tod = 0;
        return;
    }
    *date = (unsigned)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    *tod = (unsigned)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
}

/* The fields local and central headers share, from "version needed" to the name length. */
static unsigned char *common(unsigned char *p, const struct mm_zip_entry *e)
{
    unsigned date, tod;
    dos_time(e->mtime_ms, &date, &tod);
    p = le16(p, 20);    /* version needed: 2.0 */
    p = le16(p, 0x800); /* flags: the name is UTF-8 */
    p = le16(p, 8);     /* deflated */
    p = le16(p, tod);
    p = le16(p, date);
    p = le32(p, e->crc32);
    p = le32(p, e->stored);
    p = le32(p, e->size);
    return le16(p, (unsigned)strlen(e->name));
}

size_t mm_zip_local(const struct mm_zip_entry *e, unsigned char *out)
{
    unsigned char *p = le32(out, 0x04034b50);
    p = common(p, e);
    p = le16(p, 0); /* extra */
    size_t n = strlen(e->name);
    memcpy(p, e->name, n);
    return (size_t)(p + n - out);
}

unsigned char *mm_zip_central(const struct mm_zip_entry *entries, size_t n, size_t *len)
{
    size_t cap = 22;
    for (size_t i = 0; i < n; i++)
        cap += 46 + strlen(entries[i].name);
    unsigned char *buf = xmalloc(cap), *p = buf;
    uint32_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mm_zip_entry *e = &entries[i];
        size_t nl = strlen(e->name);
        p = le32(p, 0x02014b50);
        p = le16(p, 0x031e); /* made by: Unix, 3.0 */
        p = common(p, e);
        p = le16(p, 0); /* extra */
        p = le16(p, 0); /* comment */
        p = le16(p, 0); /* disk */
        p = le16(p, 0); /* internal attributes */
        p = le32(p, 0100644u << 16);
        p = le32(p, off);
        memcpy(p, e->name, nl);
        p += nl;
        off += (uint32_t)(30 + nl + e->stored);
    }
    uint32_t cd_size = (uint32_t)(p - buf);
    p = le32(p, 0x06054b50);
    p = le16(p, 0);
    p = le16(p, 0);
    p = le16(p, (unsigned)n);
    p = le16(p, (unsigned)n);
    p = le32(p, cd_size);
    p = le32(p, off);
    p = le16(p, 0);
    *len = (size_t)(p - buf);
    return buf;
}

uint64_t mm_zip_size(const struct mm_zip_entry *entries, size_t n)
{
    uint64_t total = 22;
    for (size_t i = 0; i < n; i++)
        total += 30 + 46 + 2 * strlen(entries[i].name) + entries[i].stored;
    return total;
}
