/*
 * mm_zip.h: a small zip writer for a task's reports: stored (uncompressed) entries with
 * their CRC-32, laid out so a reply can stream one entry at a time (local header and data,
 * then the central directory). No zip64: entries and archive stay under 4 GiB, which the
 * report limits guarantee. Knows nothing of tasks or HTTP.
 */
#ifndef SPMIG_MM_ZIP_H
#define SPMIG_MM_ZIP_H

#include <stddef.h>
#include <stdint.h>

#define MM_ZIP_NAME_MAX 127

struct mm_zip_entry {
    char name[MM_ZIP_NAME_MAX + 1];
    uint32_t crc32, size;
    int64_t mtime_ms; /* shown as the entry's DOS time (UTC) */
};

/* CRC-32 (ISO-HDLC, zip's) of data continued from crc (start with 0). */
uint32_t mm_zip_crc32(uint32_t crc, const void *data, size_t n);
/* Bytes of entry e's local header; out holds at least 30 + MM_ZIP_NAME_MAX bytes. */
size_t mm_zip_local(const struct mm_zip_entry *e, unsigned char *out);
/* The central directory and end record for entries[0..n) (new buffer, the caller frees;
 * *len its size). */
unsigned char *mm_zip_central(const struct mm_zip_entry *entries, size_t n, size_t *len);
/* The size of the whole archive. */
uint64_t mm_zip_size(const struct mm_zip_entry *entries, size_t n);

#endif
