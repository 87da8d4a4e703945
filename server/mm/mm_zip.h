/*
 * mm_zip.h: a task's reports as zip wants them. A report is kept deflated (raw deflate, the
 * bytes of a zip entry) with its CRC-32, both made by zlib when it arrives; the writer lays
 * entries out so a reply can stream one at a time (local header and the deflated bytes, then
 * the central directory). No zip64: entries and archive stay under 4 GiB, which the report
 * limits guarantee. Knows nothing of tasks or HTTP.
 */
#ifndef SPMIG_MM_ZIP_H
#define SPMIG_MM_ZIP_H

#include <stddef.h>
#include <stdint.h>

#define MM_ZIP_NAME_MAX 127

struct mm_zip_entry {
    char name[MM_ZIP_NAME_MAX + 1];
    uint32_t crc32, size, stored; /* CRC-32 and length of the bytes; length deflated */
    int64_t mtime_ms;             /* shown as the entry's DOS time (UTC) */
};

/* Deflates n bytes of data (raw deflate): *out (malloc'd, the caller frees) and its length,
 * and the CRC-32 of data. 0, or -1 (nothing allocated). */
int mm_zip_deflate(const void *data, size_t n, unsigned char **out, size_t *out_len, uint32_t *crc);
/* Inflates zlen bytes back into exactly size bytes (*out, malloc'd with one more byte for a
 * NUL, the caller frees). 0, or -1 when they are not a raw deflate stream of that size. */
int mm_zip_inflate(const void *z, size_t zlen, size_t size, unsigned char **out);
/* Bytes of entry e's local header; out holds at least 30 + MM_ZIP_NAME_MAX bytes. */
size_t mm_zip_local(const struct mm_zip_entry *e, unsigned char *out);
/* The central directory and end record for entries[0..n) (new buffer, the caller frees;
 * *len its size). */
unsigned char *mm_zip_central(const struct mm_zip_entry *entries, size_t n, size_t *len);
/* The size of the whole archive. */
uint64_t mm_zip_size(const struct mm_zip_entry *entries, size_t n);

#endif
