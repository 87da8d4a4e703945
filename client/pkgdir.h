/*
 * pkgdir.h: `spmig package SOURCE OUTDIR`: the packages a migration would send, unencrypted,
 * one folder each (the eight XML files and content/<blob>), to inspect or to feed to another
 * tool. With --site the target's real ids are used, else made-up ones.
 */
#ifndef SPMIG_PKGDIR_H
#define SPMIG_PKGDIR_H

#include "migrate.h"

/* Returns an exit code: 0, 1 when some entries were left out, 2 on a fatal error. */
int pkgdir_run(const struct migrate_options *o, const char *outdir);

#endif
