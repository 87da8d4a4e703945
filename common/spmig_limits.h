/*
 * spmig_limits.h: every bound that untrusted input can reach, in one place.
 * Each limit is a named constant; code that enforces one names it, and going past it is its
 * own error (413 for bodies, 400 for headers and names). Nothing here allocates.
 */
#ifndef SPMIG_LIMITS_H
#define SPMIG_LIMITS_H

/* Time. The emulator clock never passes the last instant the time formats can write with a
 * four-digit year (RFC 1123, ISO 8601, SharePoint's event times): 9999-12-31T23:59:59.999Z.
 * No duration read from outside is longer, so a time plus a duration never overflows. */
#define LIMIT_TIME_MAX_MS 253402300799999LL

/* Disk space kept back so that deletes can commit on a full disk (server/core/store_files). */
#define LIMIT_DISK_RESERVE_BYTES (4 * 1024 * 1024)

/* CSOM's ProcessQuery (server/sharepoint/csom_request.c) */
#define LIMIT_CSOM_OBJECTS 2000 /* object paths + actions + parameters + queried properties */
#define LIMIT_CSOM_DEPTH   8    /* nesting of arrays and value objects in a parameter */

/* HTTP */
#define LIMIT_URI_BYTES          (16 * 1024)       /* request line path + query */
#define LIMIT_HEADER_COUNT       100               /* headers per request */
#define LIMIT_HEADERS_BYTES      (64 * 1024)       /* libmicrohttpd connection memory */
#define LIMIT_HEADER_BLOCK_BYTES (24 * 1024)       /* request line and headers, refused past */
#define LIMIT_QUERY_PARAMS       64                /* name=value pairs in a query string */
#define LIMIT_SMALL_BODY         (4 * 1024 * 1024) /* bodies parsed in memory (XML, JSON) */
#define LIMIT_CONNECTION_TIMEOUT 30                /* seconds a connection may stay idle */
/* Seconds to send a request's headers (--header-timeout). */
#define LIMIT_HEADER_TIMEOUT 10
/* Connections at once from one client address (--max-connections-per-client). */
#define LIMIT_CONNECTIONS_PER_CLIENT 64
/* A body must arrive at LIMIT_BODY_MIN_BYTES per LIMIT_BODY_WINDOW_SECONDS at least, or the
 * connection is closed: a client cannot hold one open by trickling a byte at a time. */
#define LIMIT_BODY_WINDOW_SECONDS 10
#define LIMIT_BODY_MIN_BYTES      4096

/* Every XML document a client sends (Azure bodies, package files), checked by
 * common/xml_bounds.c before libxml2 parses it: libxml2's cost grows with the square of the
 * attributes of one element. */
#define LIMIT_XML_ATTRIBUTES 256     /* attributes of one element */
#define LIMIT_XML_DEPTH      64      /* elements open at once */
#define LIMIT_XML_ELEMENTS   1000000 /* elements in one document */
#define LIMIT_XML_NAME       256     /* bytes of an element or attribute name, prefix included */

/* Azure Blob */
#define LIMIT_PUT_BLOB_BYTES     (5000LL * 1024 * 1024) /* single Put Blob (version 2019-12-12+) */
#define LIMIT_PUT_BLOCK_BYTES    (4000LL * 1024 * 1024) /* one Put Block */
#define LIMIT_BLOCKS_PER_BLOB    50000
#define LIMIT_UNCOMMITTED_BLOCKS 100000
#define LIMIT_BLOCK_ID_BYTES     64 /* decoded block id */
#define LIMIT_BLOCK_LIST_BODY    (LIMIT_BLOCKS_PER_BLOB * 160)
#define LIMIT_BLOB_NAME          1024
#define LIMIT_CONTAINER_NAME     63
#define LIMIT_METADATA_BYTES     (8 * 1024) /* all x-ms-meta-* names and values */
/* Put Blob and Put Block bodies this small (Content-Length given) are buffered and kept in
 * the database instead of an extent file. */
#define LIMIT_INLINE_BYTES (128 * 1024)
/* Imported file versions this small are kept in packs too; an import holds at most this many
 * bytes of one file's versions in memory before it writes the rest to extent files. */
#define LIMIT_IMPORT_INLINE_HELD (4 * 1024 * 1024)

/* Azure Queue */
#define LIMIT_QUEUE_NAME          63
#define LIMIT_MESSAGE_BYTES       (64 * 1024) /* message text as sent (base64 or not) */
#define LIMIT_MESSAGE_BODY        131584      /* Azure accepts an XML body this large */
#define LIMIT_MESSAGES_PER_GET    32
#define LIMIT_VISIBILITY_SECONDS  (7 * 24 * 3600)
#define LIMIT_DEFAULT_TTL_SECONDS (7 * 24 * 3600)

/* SAS */
#define LIMIT_SAS_FIELD 1024 /* any single SAS query value */

/* SharePoint names and paths (common/sp_names.c), counted in UTF-16 code units as SharePoint
 * counts characters: a character outside the BMP is two. */
#define LIMIT_SP_PATH_UNITS  400 /* a decoded server-relative path, the file name included */
#define LIMIT_SP_TITLE_UNITS 255 /* a site or library title */

/* OData query options on SharePoint REST (server/sharepoint/odata_query.c). */
#define LIMIT_ODATA_SELECT       100  /* fields in one $select */
#define LIMIT_ODATA_EXPAND       16   /* navigation properties in one $expand */
#define LIMIT_ODATA_ORDERBY      8    /* keys in one $orderby */
#define LIMIT_ODATA_FILTER_NODES 256  /* operators, functions, fields and literals of a $filter */
#define LIMIT_ODATA_FILTER_DEPTH 32   /* nesting of parentheses, not and functions */
#define LIMIT_ODATA_NAME         255  /* one field or property name */
#define LIMIT_ODATA_ITEMS_TOP    5000 /* rows of one page of list items */
/* Items a $filter or $orderby may look at in one request: SharePoint's list view threshold. */
#define LIMIT_ODATA_VIEW_THRESHOLD 5000

/* Migration Manager (server/mm). */
#define LIMIT_MM_TASKS         50000              /* tasks per tenant, as Migration Manager */
#define LIMIT_MM_BULK_BYTES    (16 * 1024 * 1024) /* a bulk CSV or JSON upload */
#define LIMIT_MM_BULK_PROBLEMS 1000               /* problems listed in one bulk answer */
#define LIMIT_MM_BULK_ECHO     500                /* bulk answers list whole tasks up to this */
#define LIMIT_MM_REPORT_BYTES  (16 * 1024 * 1024) /* one uploaded report file */
#define LIMIT_MM_REPORTS       64                 /* report files per task */
#define LIMIT_MM_REPORT_NAME   100                /* a report file's name */
#define LIMIT_MM_VERSION       64                 /* an agent's version string */
#define LIMIT_MM_EXTENSION     32                 /* one skipped file extension */
#define LIMIT_MM_NAME          255                /* task, group and agent names */
#define LIMIT_MM_PATH          1024               /* a source path or share (bytes) */
#define LIMIT_MM_SHARES        64                 /* shares per agent */
#define LIMIT_MM_AGENT_TASKS   64                 /* maxTasks of one agent */
#define LIMIT_MM_PAGE          1000               /* most rows of one list page ($top) */
#define LIMIT_MM_PAGE_DEFAULT  100                /* rows of a list page without top */
#define LIMIT_MM_WAIT_SECONDS  25                 /* longest heartbeat long poll */
#define LIMIT_MM_TRUST_DAYS    7                  /* an unused agent credential expires */
#define LIMIT_MM_AUTO_RERUNS   4                  /* "Migration auto rerun" */
#define LIMIT_MM_SUMMARY_IDS   5000               /* tasks in one summary.csv */
#define LIMIT_MM_TASK_SPEC     (64 * 1024)        /* a task spec an agent keeps (task.json) */

#endif
