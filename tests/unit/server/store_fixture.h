/*
 * store_fixture.h: what every server unit test needs around a real store: a fresh temporary
 * data dir with its database and extent folders, its removal, and a count of extent files.
 */
#ifndef SPMIG_STORE_FIXTURE_H
#define SPMIG_STORE_FIXTURE_H

#define FIXTURE_DIR_LEN 64

/* Makes a temp dir, opens its database (schema applied) and extent folders; fails the test
 * on any error. dir receives the path. */
void fixture_open(char dir[FIXTURE_DIR_LEN]);
/* Closes the database and removes the dir. */
void fixture_close(const char *dir);
/* cmocka setup and teardown around fixture_open/fixture_close, for tests that need nothing
 * else: the dir lives in *state. */
int fixture_setup(void **state);
int fixture_teardown(void **state);
/* How many extent files and packs the dir holds, not counting the packs still appended to
 * (they stay whatever is released). */
int fixture_count_extents(const char *dir);

#endif
