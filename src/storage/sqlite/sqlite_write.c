/* sqlite_write.c — create, update and delete through a group commit.
 *
 * Each writer queues its request and sleeps. The committer thread runs every queued
 * request in one transaction, commits (one fsync for all of them), hands the events to
 * the watch callback in revision order and only then wakes the writers. So a write
 * returns only once it is durable and the watcher has seen it, and concurrent writers
 * share fsyncs instead of queueing behind each other's. */
#include "storage/sqlite/sqlite_internal.h"

#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

/* The newest row of key, as the committer's transaction sees it. */
struct latest_row {
  bool exists; /* a row exists and is not a deletion marker */
  int64_t id;
  int64_t create_revision;
};

static int
read_latest(struct sq_conn *c, const char *key, struct latest_row *row, char **value_out,
            size_t *len_out, k8c_err *err)
{
  sqlite3_stmt *stmt = c->stmt[SQ_LATEST];
  sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  memset(row, 0, sizeof(*row));
  if (rc == SQLITE_ROW && sqlite3_column_int(stmt, 1) == 0) {
    row->exists = true;
    row->id = sqlite3_column_int64(stmt, 0);
    row->create_revision = sqlite3_column_int64(stmt, 2);
    if (value_out) {
      size_t n = (size_t)sqlite3_column_bytes(stmt, 3);
      const void *blob = sqlite3_column_blob(stmt, 3);
      *value_out = xmalloc(n + 1);
      if (n)
        memcpy(*value_out, blob, n);
      (*value_out)[n] = '\0';
      *len_out = n;
    }
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sq_error(c, err, "reading key");
  return 0;
}

static int
insert_row(struct sq_conn *c, int64_t id, const char *key, bool created, bool deleted,
           int64_t create_rev, int64_t prev_rev, const char *value, size_t len, k8c_err *err)
{
  sqlite3_stmt *stmt = c->stmt[SQ_INSERT];
  sqlite3_bind_int64(stmt, 1, id);
  sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_int(stmt, 3, created);
  sqlite3_bind_int(stmt, 4, deleted);
  sqlite3_bind_int64(stmt, 5, create_rev);
  sqlite3_bind_int64(stmt, 6, prev_rev);
  sqlite3_bind_blob(stmt, 7, value, (int)len, SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_DONE)
    return sq_error(c, err, "writing key");
  return 0;
}

/* Runs one request inside the committer's transaction. Returns 0 (req->rc says whether
 * the request itself succeeded) or -1 on a database failure that spoils the batch. */
static int
execute_request(struct sqlite_store *st, struct sq_write_req *req, int64_t *next_rev, k8c_err *err)
{
  struct sq_conn *c = st->writer;
  struct latest_row row;
  char *old_value = NULL;
  size_t old_len = 0;
  bool want_value = req->kind == SQ_WRITE_DELETE;
  if (read_latest(c, req->key, &row, want_value ? &old_value : NULL, &old_len, err) < 0)
    return -1;

  req->rc = -1;
  if (req->kind == SQ_WRITE_CREATE && row.exists) {
    k8c_error(&req->err, 409, K8C_REASON_ALREADY_EXISTS, "key \"%s\" already exists", req->key);
    return 0;
  }
  if (req->kind != SQ_WRITE_CREATE && !row.exists) {
    k8c_error(&req->err, 404, K8C_REASON_NOT_FOUND, "key \"%s\" not found", req->key);
    return 0;
  }
  if (req->kind != SQ_WRITE_CREATE && req->expected_rev != 0 && row.id != req->expected_rev) {
    free(old_value);
    k8c_error(&req->err, 409, K8C_REASON_CONFLICT, "key \"%s\" has revision %lld, expected %lld",
              req->key, (long long)row.id, (long long)req->expected_rev);
    return 0;
  }

  int64_t rev = *next_rev;
  int64_t create_rev = req->kind == SQ_WRITE_CREATE ? rev : row.create_revision;
  const char *value = want_value ? old_value : req->value;
  size_t len = want_value ? old_len : req->len;
  if (insert_row(c, rev, req->key, req->kind == SQ_WRITE_CREATE, want_value, create_rev, row.id,
                 value, len, err) < 0) {
    free(old_value);
    return -1;
  }
  (*next_rev)++;
  req->rc = 0;
  req->old_value = old_value;
  req->event = (storage_event){
      .type = want_value ? STORAGE_EVENT_DELETE : STORAGE_EVENT_PUT,
      .key = req->key,
      .value = value,
      .value_len = len,
      .revision = rev,
      .create_revision = create_rev,
      .prev_revision = row.id,
  };
  return 0;
}

static void
fail_batch(struct sq_write_req *batch, const k8c_err *cause)
{
  for (struct sq_write_req *r = batch; r; r = r->next) {
    free(r->old_value);
    r->old_value = NULL;
    r->rc = k8c_error(&r->err, cause->status, cause->reason, "%s", cause->message);
  }
}

/* Committer only: executes batch in one transaction, commits, publishes events. */
static void
run_batch(struct sqlite_store *st, struct sq_write_req *batch)
{
  k8c_err err = {0};
  int64_t next_rev = atomic_load(&st->current_rev) + 1;
  if (sq_exec_stmt(st->writer, SQ_BEGIN_IMMEDIATE, &err) < 0) {
    fail_batch(batch, &err);
    k8c_err_clear(&err);
    return;
  }
  for (struct sq_write_req *r = batch; r; r = r->next) {
    if (execute_request(st, r, &next_rev, &err) < 0) {
      k8c_err ignored = {0};
      if (sq_exec_stmt(st->writer, SQ_ROLLBACK, &ignored) < 0)
        k8c_err_clear(&ignored);
      fail_batch(batch, &err);
      k8c_err_clear(&err);
      return;
    }
  }
  if (sq_exec_stmt(st->writer, SQ_COMMIT, &err) < 0) {
    k8c_err ignored = {0};
    if (sq_exec_stmt(st->writer, SQ_ROLLBACK, &ignored) < 0)
      k8c_err_clear(&ignored);
    fail_batch(batch, &err);
    k8c_err_clear(&err);
    return;
  }
  atomic_store(&st->current_rev, next_rev - 1);
  int frames = 0;
  for (struct sq_write_req *r = batch; r; r = r->next)
    frames += 2 + (int)(r->len / 4096);
  sq_checkpointer_note(st, frames);
  for (struct sq_write_req *r = batch; r; r = r->next)
    if (r->rc == 0 && st->watch_fn)
      st->watch_fn(st->watch_ctx, &r->event);
}

/* Blocks until the request's semaphore is posted (restarting after signals). */
static void
wait_posted(struct sq_write_req *req)
{
  while (sem_wait(&req->wake) != 0) {
    /* EINTR: a signal handler ran; keep waiting */
  }
}

/* Wakes every writer of a finished batch. */
static void
wake_batch(struct sq_write_req *batch)
{
  for (struct sq_write_req *r = batch; r;) {
    struct sq_write_req *next = r->next; /* r may be gone once it is posted */
    if (sem_post(&r->wake) != 0)
      abort(); /* only EOVERFLOW, impossible for a semaphore posted once */
    r = next;
  }
}

/* The committer thread: takes everything queued, runs it as one batch, wakes its writers
 * and goes straight on to what queued meanwhile. One thread that stays on the write path
 * under load, so consecutive batches do not wait for a hand-off between writer threads
 * (a wake-up and a free CPU, on a machine whose CPUs the writers themselves keep busy).
 * It yields to sq_lead_exclusive callers between batches. */
static void *
committer_run(void *arg)
{
  struct sqlite_store *st = arg;
  pthread_mutex_lock(&st->write_mu);
  for (;;) {
    while (!st->committer_stopping &&
           (st->queue_head == NULL || st->leader_busy || st->exclusive_waiting))
      pthread_cond_wait(&st->commit_cv, &st->write_mu);
    if (st->committer_stopping)
      break;
    struct sq_write_req *batch = st->queue_head;
    st->queue_head = st->queue_tail = NULL;
    st->leader_busy = true;
    pthread_mutex_unlock(&st->write_mu);

    run_batch(st, batch);

    pthread_mutex_lock(&st->write_mu);
    st->leader_busy = false;
    if (st->exclusive_waiting)
      pthread_cond_broadcast(&st->write_cv);
    pthread_mutex_unlock(&st->write_mu);
    wake_batch(batch);
    pthread_mutex_lock(&st->write_mu);
  }
  pthread_mutex_unlock(&st->write_mu);
  return NULL;
}

int
sq_committer_start(struct sqlite_store *st, k8c_err *err)
{
  int rc = pthread_create(&st->committer_thread, NULL, committer_run, st);
  if (rc != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "starting the commit thread: %s", strerror(rc));
  pthread_setname_np(st->committer_thread, "sqlite-commit");
  st->committer_running = true;
  return 0;
}

void
sq_committer_stop(struct sqlite_store *st)
{
  if (!st->committer_running)
    return;
  pthread_mutex_lock(&st->write_mu);
  st->committer_stopping = true;
  pthread_cond_signal(&st->commit_cv);
  pthread_mutex_unlock(&st->write_mu);
  pthread_join(st->committer_thread, NULL);
  st->committer_running = false;
}

static int
submit(struct sqlite_store *st, struct sq_write_req *req, int64_t *new_rev, k8c_err *err)
{
  if (sem_init(&req->wake, 0, 0) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "storage: cannot initialise a semaphore");
  pthread_mutex_lock(&st->write_mu);
  bool idle = st->queue_head == NULL;
  if (st->queue_tail)
    st->queue_tail->next = req;
  else
    st->queue_head = req;
  st->queue_tail = req;
  if (idle) /* else the committer already has a reason to run */
    pthread_cond_signal(&st->commit_cv);
  pthread_mutex_unlock(&st->write_mu);

  wait_posted(req);
  sem_destroy(&req->wake);

  free(req->old_value);
  if (req->rc < 0) {
    k8c_err_move(err, &req->err);
    return -1;
  }
  if (new_rev)
    *new_rev = req->event.revision;
  return 0;
}

void
sq_lead_exclusive(struct sqlite_store *st)
{
  pthread_mutex_lock(&st->write_mu);
  st->exclusive_waiting++;
  while (st->leader_busy)
    pthread_cond_wait(&st->write_cv, &st->write_mu);
  st->exclusive_waiting--;
  st->leader_busy = true;
  pthread_mutex_unlock(&st->write_mu);
}

void
sq_lead_release(struct sqlite_store *st)
{
  pthread_mutex_lock(&st->write_mu);
  st->leader_busy = false;
  if (st->exclusive_waiting)
    pthread_cond_broadcast(&st->write_cv);
  else if (st->queue_head)
    pthread_cond_signal(&st->commit_cv);
  pthread_mutex_unlock(&st->write_mu);
}

int
sq_create(storage *s, const char *key, const char *value, size_t len, int64_t *new_rev,
          k8c_err *err)
{
  struct sq_write_req req = {.kind = SQ_WRITE_CREATE, .key = key, .value = value, .len = len};
  return submit((struct sqlite_store *)s, &req, new_rev, err);
}

int
sq_update(storage *s, const char *key, const char *value, size_t len, int64_t expected_rev,
          int64_t *new_rev, k8c_err *err)
{
  struct sq_write_req req = {.kind = SQ_WRITE_UPDATE,
                             .key = key,
                             .value = value,
                             .len = len,
                             .expected_rev = expected_rev};
  return submit((struct sqlite_store *)s, &req, new_rev, err);
}

int
sq_delete(storage *s, const char *key, int64_t expected_rev, int64_t *new_rev, k8c_err *err)
{
  struct sq_write_req req = {.kind = SQ_WRITE_DELETE, .key = key, .expected_rev = expected_rev};
  return submit((struct sqlite_store *)s, &req, new_rev, err);
}
