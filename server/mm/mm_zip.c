/*
 * mm_zip.c: stored zip entries (PKWARE APPNOTE 4.3: local file header, central directory
 * header, end of central directory record) and zip's CRC-32. It writes headers only: the
 * caller sends each entry's bytes after its local header.
 */
#include "mm_zip.h"
#include "xmalloc.h"

#include <string.h>
#include <time.h>

uint32_t mm_zip_crc32(uint32_t crc, const void *data, size_t n)
{
    static uint32_t table[256];
    static int ready; /* benign race: every thread computes the same table */
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
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
    p = le16(p, 0);     /* stored */
    p = le16(p, tod);
    p = le16(p, date);
    p = le32(p, e->crc32);
    p = le32(p, e->size); /* compressed */
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
        off += (uint32_t)(30 + nl + e->size);
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
        total += 30 + 46 + 2 * strlen(entries[i].name) + entries[i].size;
    return total;
}
