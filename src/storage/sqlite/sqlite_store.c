/* sqlite_store.c — the SQLite backend's descriptor: open/destroy, revisions, watch
 * registration and compaction. Reads live in sqlite_read.c, writes in sqlite_write.c.
 *
 * Watch registration and compaction take the writer's leadership, so nothing is
 * committed while history is replayed or trimmed. */
#include "storage/sqlite/sqlite_internal.h"

#include "lib/mem.h"

#include <string.h>

static int64_t
sq_current_revision(storage *s)
{
  return atomic_load(&((struct sqlite_store *)s)->current_rev);
}

static int64_t
sq_compacted_revision(storage *s)
{
  return atomic_load(&((struct sqlite_store *)s)->compacted_rev);
}

static int
replay_history(struct sqlite_store *st, int64_t after_rev, storage_event_fn fn, void *ctx,
               k8c_err *err)
{
  struct sq_conn *c = st->writer;
  sqlite3_stmt *stmt = c->stmt[SQ_HISTORY];
  sqlite3_bind_int64(stmt, 1, after_rev);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    storage_event ev = {
        .type = sqlite3_column_int(stmt, 3) ? STORAGE_EVENT_DELETE : STORAGE_EVENT_PUT,
        .revision = sqlite3_column_int64(stmt, 0),
        .key = (const char *)sqlite3_column_text(stmt, 1),
        .create_revision = sqlite3_column_int64(stmt, 4),
        .prev_revision = sqlite3_column_int64(stmt, 5),
    };
    /* The blob is not NUL-terminated; hand the callback a terminated copy. */
    size_t n = (size_t)sqlite3_column_bytes(stmt, 6);
    const void *blob = sqlite3_column_blob(stmt, 6);
    cleanup_free char *value = xmalloc(n + 1);
    if (n)
      memcpy(value, blob, n);
    value[n] = '\0';
    ev.value = value;
    ev.value_len = n;
    fn(ctx, &ev);
  }
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE)
    return sq_error(c, err, "replaying history");
  return 0;
}

static int
sq_watch(storage *s, int64_t after_rev, storage_event_fn fn, void *ctx, k8c_err *err)
{
  struct sqlite_store *st = (struct sqlite_store *)s;
  sq_lead_exclusive(st);
  int ret = 0;
  if (!fn) {
    st->watch_fn = NULL;
    st->watch_ctx = NULL;
  } else if (after_rev < atomic_load(&st->compacted_rev)) {
    ret = k8c_error(err, 410, K8C_REASON_GONE,
                    "required revision %lld has been compacted (oldest available: %lld)",
                    (long long)after_rev, (long long)atomic_load(&st->compacted_rev));
  } else if (st->watch_fn) {
    ret = k8c_error(err, 500, K8C_REASON_INTERNAL, "storage already has a watcher");
  } else if ((ret = replay_history(st, after_rev, fn, ctx, err)) == 0) {
    st->watch_fn = fn;
    st->watch_ctx = ctx;
  }
  sq_lead_release(st);
  return ret;
}

static int
sq_compact(storage *s, int64_t rev, k8c_err *err)
{
  struct sqlite_store *st = (struct sqlite_store *)s;
  sq_lead_exclusive(st);
  struct sq_conn *c = st->writer;
  int ret = 0;
  if (rev > atomic_load(&st->current_rev)) {
    ret = k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                    "cannot compact to revision %lld: newer than the current revision %lld",
                    (long long)rev, (long long)atomic_load(&st->current_rev));
  } else if (rev > atomic_load(&st->compacted_rev)) {
    ret = sq_exec_stmt(c, SQ_BEGIN_IMMEDIATE, err);
    if (ret == 0) {
      sqlite3_stmt *del = c->stmt[SQ_COMPACT];
      sqlite3_bind_int64(del, 1, rev);
      int rc = sqlite3_step(del);
      sqlite3_reset(del);
      sqlite3_stmt *meta = c->stmt[SQ_SET_META];
      sqlite3_bind_text(meta, 1, "compact_rev", -1, SQLITE_STATIC);
      sqlite3_bind_int64(meta, 2, rev);
      int rc_meta = rc == SQLITE_DONE ? sqlite3_step(meta) : rc;
      sqlite3_reset(meta);
      if (rc != SQLITE_DONE || rc_meta != SQLITE_DONE)
        ret = sq_error(c, err, "compacting");
      if (ret == 0)
        ret = sq_exec_stmt(c, SQ_COMMIT, err);
      if (ret < 0) {
        k8c_err ignored = {0};
        if (sq_exec_stmt(c, SQ_ROLLBACK, &ignored) < 0)
          k8c_err_clear(&ignored);
      } else {
        atomic_store(&st->compacted_rev, rev);
      }
    }
  }
  sq_lead_release(st);
  return ret;
}

static void
sq_destroy(storage *s)
{
  struct sqlite_store *st = (struct sqlite_store *)s;
  if (!st)
    return;
  sq_committer_stop(st);
  sq_checkpointer_stop(st);
  sq_reader_pool_free(st);
  sq_conn_close(st->writer);
  pthread_mutex_destroy(&st->write_mu);
  pthread_cond_destroy(&st->write_cv);
  pthread_cond_destroy(&st->commit_cv);
  pthread_mutex_destroy(&st->pool_mu);
  free(st->path);
  free(st);
}

static const struct storage_ops sqlite_ops = {
    .name = "sqlite",
    .get = sq_get,
    .list = sq_list,
    .create = sq_create,
    .update = sq_update,
    .delete = sq_delete,
    .watch = sq_watch,
    .current_revision = sq_current_revision,
    .compacted_revision = sq_compacted_revision,
    .compact = sq_compact,
    .destroy = sq_destroy,
};

storage *
sqlite_store_open(const char *path, const struct sqlite_store_options *opts, k8c_err *err)
{
  struct sqlite_store *st = xcalloc(1, sizeof(*st));
  st->base.ops = &sqlite_ops;
  st->path = xstrdup(path);
  st->sync_full = opts ? opts->sync_full : true;
  pthread_mutex_init(&st->write_mu, NULL);
  pthread_cond_init(&st->write_cv, NULL);
  pthread_cond_init(&st->commit_cv, NULL);
  pthread_mutex_init(&st->pool_mu, NULL);
  st->writer = sq_conn_open(path, true, st->sync_full, err);
  int64_t current = 0, compacted = 0;
  if (!st->writer || sq_read_revisions(st->writer, &current, &compacted, err) < 0) {
    k8c_err_prefix(err, "opening sqlite store %s", path);
    sq_destroy(&st->base);
    return NULL;
  }
  atomic_store(&st->current_rev, current);
  atomic_store(&st->compacted_rev, compacted);
  if (sq_checkpointer_start(st, err) < 0 || sq_committer_start(st, err) < 0) {
    k8c_err_prefix(err, "opening sqlite store %s", path);
    sq_destroy(&st->base);
    return NULL;
  }
  return &st->base;
}
