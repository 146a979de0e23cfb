/* sqlite_walbuf_test.c — the WAL-buffering VFS shim: a second connection (plain VFS)
 * sees every commit of a writer that goes through the shim, right after the commit
 * returns; a transaction bigger than the buffer and one that spills pages to the WAL
 * before it commits read back right; a checkpoint that truncates the WAL works through
 * it; and the file the shim wrote is intact for a fresh connection. */
#include "storage/sqlite/sqlite_internal.h"
#include "testlib.h"

#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dbs {
  char dir[64];
  char *path;
  sqlite3 *writer; /* through the shim, synchronous=FULL */
  sqlite3 *reader; /* the default VFS */
};

static void
exec_ok(sqlite3 *db, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    fprintf(stderr, "sql %s: %s\n", sql, msg ? msg : "?");
  sqlite3_free(msg);
  CHECK_INT(rc, SQLITE_OK);
}

static void
dbs_open(struct dbs *d)
{
  snprintf(d->dir, sizeof(d->dir), "/tmp/k8c-walbuf-XXXXXX");
  CHECK(mkdtemp(d->dir) != NULL);
  d->path = xasprintf("%s/state.db", d->dir);
  k8c_err err = {0};
  CHECK_INT(sq_walbuf_register(&err), 0);
  CHECK_INT(sq_walbuf_register(&err), 0); /* idempotent */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  CHECK_INT(sqlite3_open_v2(d->path, &d->writer, flags, SQ_WALBUF_VFS), SQLITE_OK);
  exec_ok(d->writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA "
                     "wal_autocheckpoint=0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);");
  CHECK_INT(sqlite3_open_v2(d->path, &d->reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL),
            SQLITE_OK);
}

static void
dbs_close(struct dbs *d)
{
  CHECK_INT(sqlite3_close(d->reader), SQLITE_OK);
  CHECK_INT(sqlite3_close(d->writer), SQLITE_OK);
  cleanup_free char *wal = xasprintf("%s-wal", d->path);
  cleanup_free char *shm = xasprintf("%s-shm", d->path);
  unlink(wal);
  unlink(shm);
  unlink(d->path);
  rmdir(d->dir);
  free(d->path);
}

/* A blob whose every byte depends on its id and version, so a stale or torn page shows. */
static unsigned char *
blob_for(int id, int version, size_t len)
{
  unsigned char *b = xmalloc(len);
  for (size_t i = 0; i < len; i++)
    b[i] = (unsigned char)(id * 31 + version * 7 + (int)i);
  return b;
}

static void
put(sqlite3 *db, int id, int version, size_t len)
{
  sqlite3_stmt *st = NULL;
  CHECK_INT(
      sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t (id, v) VALUES (?1, ?2)", -1, &st, NULL),
      SQLITE_OK);
  cleanup_free unsigned char *b = blob_for(id, version, len);
  sqlite3_bind_int(st, 1, id);
  sqlite3_bind_blob(st, 2, b, (int)len, SQLITE_STATIC);
  CHECK_INT(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
}

/* True when db holds exactly version's blob (of len bytes) under id. */
static bool
has(sqlite3 *db, int id, int version, size_t len)
{
  sqlite3_stmt *st = NULL;
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT v FROM t WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_int(st, 1, id);
  bool ok = false;
  if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == len) {
    cleanup_free unsigned char *want = blob_for(id, version, len);
    ok = memcmp(sqlite3_column_blob(st, 0), want, len) == 0;
  }
  sqlite3_finalize(st);
  return ok;
}

static long long
count_rows(sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_step(st), SQLITE_ROW);
  long long n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

TEST(reader_sees_every_commit_at_once)
{
  struct dbs d;
  dbs_open(&d);
  for (int i = 0; i < 300; i++) {
    exec_ok(d.writer, "BEGIN IMMEDIATE");
    put(d.writer, i, 1, 3000);       /* a new row */
    if (i > 0)                       /* and a rewrite of the previous one: */
      put(d.writer, i - 1, 2, 5000); /* several pages per commit */
    exec_ok(d.writer, "COMMIT");
    CHECK(has(d.reader, i, 1, 3000));
    if (i > 0)
      CHECK(has(d.reader, i - 1, 2, 5000));
    CHECK_INT(count_rows(d.reader), i + 1);
  }
  dbs_close(&d);
}

TEST(big_and_spilling_transactions_read_back)
{
  struct dbs d;
  dbs_open(&d);
  /* A tiny page cache makes the writer spill pages to the WAL mid-transaction and read
   * them back; 400 rows of 4 KB are more than the buffer holds. */
  exec_ok(d.writer, "PRAGMA cache_size=8; BEGIN IMMEDIATE");
  for (int i = 0; i < 400; i++)
    put(d.writer, i, 1, 4000);
  for (int i = 0; i < 400; i += 37)
    CHECK(has(d.writer, i, 1, 4000));
  exec_ok(d.writer, "COMMIT");
  CHECK_INT(count_rows(d.reader), 400);
  for (int i = 0; i < 400; i++)
    CHECK(has(d.reader, i, 1, 4000));
  dbs_close(&d);
}

TEST(truncating_checkpoint_and_fresh_connection_see_intact_file)
{
  struct dbs d;
  dbs_open(&d);
  for (int i = 0; i < 50; i++) {
    exec_ok(d.writer, "BEGIN IMMEDIATE");
    put(d.writer, i, 3, 2000);
    exec_ok(d.writer, "COMMIT");
  }
  exec_ok(d.writer, "PRAGMA wal_checkpoint(TRUNCATE)");
  for (int i = 50; i < 80; i++) { /* the WAL starts over from its header */
    exec_ok(d.writer, "BEGIN IMMEDIATE");
    put(d.writer, i, 3, 2000);
    exec_ok(d.writer, "COMMIT");
  }
  sqlite3 *fresh = NULL;
  CHECK_INT(sqlite3_open_v2(d.path, &fresh, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  CHECK_INT(sqlite3_prepare_v2(fresh, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_step(st), SQLITE_ROW);
  CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  CHECK_INT(count_rows(fresh), 80);
  for (int i = 0; i < 80; i++)
    CHECK(has(fresh, i, 3, 2000));
  CHECK_INT(sqlite3_close(fresh), SQLITE_OK);
  dbs_close(&d);
}

int
main(int argc, char **argv)
{
  return testlib_main(argc, argv);
}
