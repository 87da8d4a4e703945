/*
 * sp_hresult.h: the HRESULTs SharePoint puts in front of its error type in an error body
 * ("<hresult>, <type>"), by name, so no handler writes a number. Each is the signed 32-bit
 * value SharePoint prints; the comment gives its hex form and what SharePoint uses it for.
 */
#ifndef SPMIG_SP_HRESULT_H
#define SPMIG_SP_HRESULT_H

enum sp_hresult {
    /* Client query errors (bad JSON, unknown property, bad query option). */
    SP_HRESULT_CLIENT_QUERY = -1,
    /* 0x80131600: Microsoft.SharePoint.SPException raised by the query of a list. */
    SP_HRESULT_SP_EXCEPTION = -2146232832,
    /* 0x80070057 E_INVALIDARG: System.ArgumentException. */
    SP_HRESULT_INVALID_ARG = -2147024809,
    /* 0x80070005 E_ACCESSDENIED: System.UnauthorizedAccessException. */
    SP_HRESULT_ACCESS_DENIED = -2147024891,
    /* 0x80070002 ERROR_FILE_NOT_FOUND: System.IO.FileNotFoundException. */
    SP_HRESULT_FILE_NOT_FOUND = -2147024894,
    /* 0x800700B7 ERROR_ALREADY_EXISTS: an object with that name or url exists. */
    SP_HRESULT_ALREADY_EXISTS = -2147024713,
    /* 0x80070024: SPQueryThrottledException, the throttling answer (429/503). */
    SP_HRESULT_THROTTLED = -2147024860,
    /* 0x80004005 E_FAIL: an unexpected server-side failure (System.Exception). */
    SP_HRESULT_FAIL = -2147467259,
    /* 0x81020026: a list that does not exist at this site. */
    SP_HRESULT_LIST_NOT_FOUND = -2130575322,
    /* 0x81020012: a list with that title exists. */
    SP_HRESULT_LIST_EXISTS = -2130575342,
    /* GetMigrationJobProgress of a job SharePoint does not know. */
    SP_HRESULT_JOB_NOT_FOUND = -2147213145,
    /* GetMigrationJobProgress after the job's event log was dropped. */
    SP_HRESULT_JOB_EXPIRED = -2147213146,
};

#endif
