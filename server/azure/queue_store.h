/*
 * queue_store.h: Azure queues and their messages, kept in SQLite. Visibility, time to live and
 * pop receipts are decided here against the emulator clock, each operation in one transaction.
 * It knows nothing about HTTP: queue_api maps its results to Azure's answers, and in-process
 * callers (the import job posting events to a report queue) use it directly.
 */
#ifndef SPMIG_QUEUE_STORE_H
#define SPMIG_QUEUE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum queue_store_err {
    QUEUE_STORE_OK = 0,
    QUEUE_STORE_NO_QUEUE,         /* 404 QueueNotFound */
    QUEUE_STORE_QUEUE_EXISTS,     /* 409 QueueAlreadyExists: exists with other metadata */
    QUEUE_STORE_NO_MESSAGE,       /* 404 MessageNotFound (also a stale pop receipt, as Azure) */
    QUEUE_STORE_RECEIPT_MISMATCH, /* 400 PopReceiptMismatch: the receipt is another message's */
    QUEUE_STORE_BAD_RECEIPT,      /* 400 InvalidQueryParameterValue: not a receipt at all */
    QUEUE_STORE_BAD_ARG,          /* 400: a visibility, TTL, count or name out of range */
    QUEUE_STORE_TOO_LARGE,        /* message text over LIMIT_MESSAGE_BYTES */
    QUEUE_STORE_INTERNAL,         /* 500 */
};

#define QUEUE_STORE_ID_LEN      37 /* a GUID and its NUL */
#define QUEUE_STORE_RECEIPT_LEN 25 /* 24 characters and the NUL */
/* Expiry of a message that never expires (messagettl=-1): 9999-12-31T23:59:59Z, as Azure. */
#define QUEUE_STORE_NEVER_MS  253402300799000LL
#define QUEUE_STORE_TTL_NEVER (-1LL)
/* Defaults Azure applies when a request names none. */
#define QUEUE_STORE_DEFAULT_GET_VISIBILITY_MS (30 * 1000LL)

/* True if name is a valid queue name: 3-63 of a-z, 0-9 and single hyphens, starting and
 * ending with a letter or digit. */
bool queue_store_valid_name(const char *name);

/* ---- queues ---- */

struct queue_store_queue {
    char *name;     /* owned */
    char *metadata; /* JSON object text; owned; "{}" when none */
    int64_t created_ms;
    uint64_t approx_messages; /* filled by queue_store_queue_get only: unexpired messages */
};
/* Frees what q owns (q itself is the caller's). */
void queue_store_queue_finish(struct queue_store_queue *q);

/*
 * Creates queue name in account with metadata (JSON object text, NULL for none; callers give
 * it in one canonical form, keys sorted, so the comparison below is a string comparison).
 * *created is true when it was made (201), false when it already existed with the same
 * metadata (204, nothing changed). Returns QUEUE_STORE_OK, QUEUE_STORE_QUEUE_EXISTS if it exists
 * with other metadata, QUEUE_STORE_BAD_ARG for an invalid name, or QUEUE_STORE_INTERNAL.
 */
int queue_store_queue_create(const char *account, const char *name, const char *metadata,
                             bool *created);
/* Deletes the queue and all its messages. QUEUE_STORE_OK, QUEUE_STORE_NO_QUEUE or
 * QUEUE_STORE_INTERNAL. */
int queue_store_queue_delete(const char *account, const char *name);
/* Reads the queue's metadata and approximate message count into out (release it with
 * queue_store_queue_finish). On an error out holds nothing to free. */
int queue_store_queue_get(const char *account, const char *name, struct queue_store_queue *out);
/* Replaces the queue's metadata (JSON object text, NULL for none). */
int queue_store_queue_set_metadata(const char *account, const char *name, const char *metadata);

struct queue_store_list {
    struct queue_store_queue *queues; /* owned, n of them, by name */
    size_t n;
    char *next_marker; /* owned; NULL when the listing is complete */
};
void queue_store_list_finish(struct queue_store_list *l);
/*
 * Lists the account's queues whose names start with prefix (NULL: all), from marker (a
 * next_marker of an earlier call, NULL: the start), at most max of them (1..5000).
 * Metadata is filled only when with_metadata. Release out with queue_store_list_finish.
 */
int queue_store_queue_list(const char *account, const char *prefix, const char *marker,
                           unsigned max, bool with_metadata, struct queue_store_list *out);

/* ---- messages ---- */

struct queue_store_message {
    char id[QUEUE_STORE_ID_LEN];
    char pop_receipt[QUEUE_STORE_RECEIPT_LEN]; /* "" from a peek */
    int64_t inserted_ms, expires_ms, visible_ms;
    int64_t dequeue_count;
    char *text; /* owned, NUL-terminated; NULL from a put */
    size_t text_len;
};
/* Frees the texts of n messages (the array is the caller's). */
void queue_store_messages_finish(struct queue_store_message *m, size_t n);

/*
 * Puts a message of len bytes of text (stored as given: base64 or not is the client's
 * business) into queue name of account. It becomes visible after visibility_ms (0 to 7 days)
 * and expires after ttl_ms (at least 1 s, or QUEUE_STORE_TTL_NEVER; 0 picks Azure's default of
 * 7 days); the visibility must be shorter than the time to live. out (may be NULL) receives
 * the id, times and pop receipt, with no text. Returns QUEUE_STORE_OK, QUEUE_STORE_NO_QUEUE,
 * QUEUE_STORE_TOO_LARGE, QUEUE_STORE_BAD_ARG or QUEUE_STORE_INTERNAL. This is also the in-process
 * entry for posting events to a queue.
 */
int queue_store_put(const char *account, const char *name, const char *text, size_t len,
                    int64_t visibility_ms, int64_t ttl_ms, struct queue_store_message *out);

/*
 * Get Messages: takes up to n (1..32) visible, unexpired messages in visibility order, makes
 * each invisible for visibility_ms (1 s to 7 days), counts the dequeue and gives it a new pop
 * receipt. out has room for n; *count receives how many were filled (each with its text,
 * released by queue_store_messages_finish). Expired messages met on the way are removed, a small
 * bounded batch per call.
 */
int queue_store_get(const char *account, const char *name, unsigned n, int64_t visibility_ms,
                    struct queue_store_message *out, size_t *count);
/* Peek Messages: like queue_store_get but changes nothing and gives no pop receipts. */
int queue_store_peek(const char *account, const char *name, unsigned n,
                     struct queue_store_message *out, size_t *count);

/*
 * Deletes message id if receipt is its current pop receipt. QUEUE_STORE_NO_MESSAGE when there is
 * no such message (or it expired, or the receipt is stale), QUEUE_STORE_RECEIPT_MISMATCH when the
 * receipt was issued for another message, QUEUE_STORE_BAD_RECEIPT when it is not a pop receipt.
 */
int queue_store_delete(const char *account, const char *name, const char *id, const char *receipt);

/*
 * Update Message: checks id and receipt as queue_store_delete does, makes the message visible
 * after visibility_ms (0 to 7 days, and not past its expiry: QUEUE_STORE_BAD_ARG) and, when text
 * is not NULL, replaces its text. out receives the id, the new pop receipt and the new
 * visibility time (no text).
 */
int queue_store_update(const char *account, const char *name, const char *id, const char *receipt,
                       int64_t visibility_ms, const char *text, size_t len,
                       struct queue_store_message *out);

/* Clear Messages: removes every message of the queue. */
int queue_store_clear(const char *account, const char *name);

#endif
