/* sqlite_read.c — get and list on pooled read connections.
 *
 * WAL lets readers run beside the writer, each in its own snapshot. A list reads the
 * current and compacted revisions and the rows inside one read transaction, so the
 * revision it reports is exactly the state it returns. */
#include "storage/sqlite/sqlite_internal.h"

#include "lib/mem.h"

#include <string.h>

static struct sq_conn *
reader_acquire(struct sqlite_store *st, k8c_err *err)
{
  pthread_mutex_lock(&st->pool_mu);
  struct sq_conn *c = st->free_readers;
  if (c)
    st->free_readers = c->next_free;
  pthread_mutex_unlock(&st->pool_mu);
  if (c)
    return c;
  return sq_conn_open(st->path, false, st->sync_full, err);
}

static void
reader_release(struct sqlite_store *st, struct sq_conn *c)
{
  pthread_mutex_lock(&st->pool_mu);
  c->next_free = st->free_readers;
  st->free_readers = c;
  pthread_mutex_unlock(&st->pool_mu);
}

void
sq_reader_pool_free(struct sqlite_store *st)
{
  while (st->free_readers) {
    struct sq_conn *c = st->free_readers;
    st->free_readers = c->next_free;
    sq_conn_close(c);
  }
}

static char *
column_value_copy(sqlite3_stmt *stmt, int col, size_t *len)
{
  const void *blob = sqlite3_column_blob(stmt, col);
  size_t n = (size_t)sqlite3_column_bytes(stmt, col);
  char *v = xmalloc(n + 1);
  if (n)
    memcpy(v, blob, n);
  v[n] = '\0';
  *len = n;
  return v;
}

int
sq_get(storage *s, const char *key, storage_kv *out, k8c_err *err)
{
  struct sqlite_store *st = (struct sqlite_store *)s;
  struct sq_conn *c = reader_acquire(st, err);
  if (!c)
    return -1;
  sqlite3_stmt *stmt = c->stmt[SQ_LATEST];
  sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  int ret = 0;
  if (rc == SQLITE_ROW && sqlite3_column_int(stmt, 1) == 0) {
    memset(out, 0, sizeof(*out));
    out->key = xstrdup(key);
    out->mod_revision = sqlite3_column_int64(stmt, 0);
    out->create_revision = sqlite3_column_int64(stmt, 2);
    out->value = column_value_copy(stmt, 3, &out->value_len);
  } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
    ret = k8c_error(err, 404, K8C_REASON_NOT_FOUND, "key \"%s\" not found", key);
  } else {
    ret = sq_error(c, err, "reading key");
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  reader_release(st, c);
  return ret;
}

/* The smallest string greater than every string starting with prefix, or NULL when
 * there is none (empty prefix, or only 0xff bytes). */
static char *
prefix_end(const char *prefix)
{
  size_t n = strlen(prefix);
  while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
    n--;
  if (n == 0)
    return NULL;
  char *end = xstrndup(prefix, n);
  end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
  return end;
}

static int
list_rows(struct sq_conn *c, const char *prefix, const char *start_after, int64_t limit,
          int64_t rev, storage_kv_list *out, int *more, k8c_err *err)
{
  cleanup_free char *end = prefix_end(prefix);
  sqlite3_stmt *stmt = c->stmt[SQ_LIST];
  sqlite3_bind_text(stmt, 1, prefix, -1, SQLITE_STATIC);
  if (end)
    sqlite3_bind_text(stmt, 2, end, -1, SQLITE_STATIC);
  else
    sqlite3_bind_zeroblob(stmt, 2, 0);
  sqlite3_bind_text(stmt, 3, start_after ? start_after : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 4, rev);
  sqlite3_bind_int64(stmt, 5, limit > 0 ? limit + 1 : -1);
  int rc;
  *more = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (limit > 0 && (int64_t)out->count == limit) {
      *more = 1;
      continue;
    }
    storage_kv_list_push(out, (const char *)sqlite3_column_text(stmt, 1),
                         sqlite3_column_blob(stmt, 3), (size_t)sqlite3_column_bytes(stmt, 3),
                         sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 2));
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_DONE)
    return sq_error(c, err, "listing keys");
  return 0;
}

int
sq_list(storage *s, const char *prefix, const char *start_after, int64_t limit, int64_t at_rev,
        storage_kv_list *out, int64_t *list_rev, int *more, k8c_err *err)
{
  struct sqlite_store *st = (struct sqlite_store *)s;
  struct sq_conn *c = reader_acquire(st, err);
  if (!c)
    return -1;
  int64_t current = 0, compacted = 0;
  int ret = sq_exec_stmt(c, SQ_BEGIN, err);
  if (ret == 0)
    ret = sq_read_revisions(c, &current, &compacted, err);
  if (ret == 0 && at_rev > 0 && at_rev < compacted)
    ret = k8c_error(err, 410, K8C_REASON_GONE,
                    "required revision %lld has been compacted (oldest available: %lld)",
                    (long long)at_rev, (long long)compacted);
  if (ret == 0) {
    int64_t rev = at_rev > 0 && at_rev < current ? at_rev : current;
    ret = list_rows(c, prefix, start_after, limit, rev, out, more, err);
    if (ret == 0)
      *list_rev = rev;
  }
  k8c_err ignored = {0};
  if (sq_exec_stmt(c, SQ_COMMIT, &ignored) < 0)
    k8c_err_clear(&ignored);
  reader_release(st, c);
  return ret;
}
