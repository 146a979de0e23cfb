/* sqlite_checkpoint.c — moves WAL pages into the database file from a background
 * thread, so the writers' COMMITs never run a checkpoint themselves (SQLite's default
 * auto-checkpoint makes one unlucky commit copy and fsync megabytes). The writer signals
 * after each batch; the thread runs a PASSIVE checkpoint once enough frames piled up or
 * a second passed, which never blocks writers or readers. */
#include "lib/log.h"
#include "storage/sqlite/sqlite_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define CHECKPOINT_FRAMES 2000
/* 16 MiB of 4 KiB pages. Once the WAL restarts, commits overwrite blocks the file already
 * has (and pages still in the page cache): an fdatasync then flushes data only, while an
 * append also commits the ext4 journal for the new size and blocks. A smaller WAL gets to
 * that cheaper steady state sooner; a restart holds writers back only briefly. */
#define WAL_RESTART_FRAMES 4096

static void *
checkpoint_run(void *arg)
{
  struct sqlite_store *st = arg;
  pthread_mutex_lock(&st->ckpt_mu);
  while (!st->ckpt_stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    int rc = 0;
    while (!st->ckpt_stopping && st->ckpt_pending < CHECKPOINT_FRAMES &&
           st->wal_prealloc_bytes == 0 && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&st->ckpt_cv, &st->ckpt_mu, &until);
    if (st->ckpt_stopping)
      break;
    if (st->wal_prealloc_bytes > 0) {
      off_t target = st->wal_prealloc_bytes;
      st->wal_prealloc_bytes = 0;
      pthread_mutex_unlock(&st->ckpt_mu);
      sq_wal_preallocate(st, target);
      pthread_mutex_lock(&st->ckpt_mu);
    }
    if (st->ckpt_pending == 0)
      continue;
    st->ckpt_pending = 0;
    pthread_mutex_unlock(&st->ckpt_mu);
    int log_frames = 0, done_frames = 0;
    int src = sqlite3_wal_checkpoint_v2(st->ckpt_conn, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                        &done_frames);
    /* Under a steady stream of writes a passive checkpoint never catches up with the end
     * of the WAL, so the WAL would never start over; past a size, briefly hold writers
     * back so it can (the frames are already copied, so this is short). */
    if (src == SQLITE_OK && log_frames > WAL_RESTART_FRAMES)
      src = sqlite3_wal_checkpoint_v2(st->ckpt_conn, NULL, SQLITE_CHECKPOINT_RESTART, &log_frames,
                                      &done_frames);
    if (src != SQLITE_OK && src != SQLITE_BUSY)
      log_warn("sqlite: checkpoint failed: %s", sqlite3_errmsg(st->ckpt_conn));
    pthread_mutex_lock(&st->ckpt_mu);
  }
  pthread_mutex_unlock(&st->ckpt_mu);
  return NULL;
}

int
sq_checkpointer_start(struct sqlite_store *st, k8c_err *err)
{
  if (sqlite3_open_v2(st->path, &st->ckpt_conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "opening the checkpoint connection: %s",
              st->ckpt_conn ? sqlite3_errmsg(st->ckpt_conn) : "out of memory");
    sqlite3_close(st->ckpt_conn);
    st->ckpt_conn = NULL;
    return -1;
  }
  sqlite3_busy_timeout(st->ckpt_conn, 5000);
  /* A fresh connection only knows the file is in WAL mode once it has read it. */
  char *msg = NULL;
  if (sqlite3_exec(st->ckpt_conn, "PRAGMA journal_mode=WAL;", NULL, NULL, &msg) != SQLITE_OK) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "checkpoint connection: %s", msg ? msg : "unknown");
    sqlite3_free(msg);
    sqlite3_close(st->ckpt_conn);
    st->ckpt_conn = NULL;
    return -1;
  }
  pthread_mutex_init(&st->ckpt_mu, NULL);
  pthread_cond_init(&st->ckpt_cv, NULL);
  int rc = pthread_create(&st->ckpt_thread, NULL, checkpoint_run, st);
  if (rc != 0) {
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_cond_destroy(&st->ckpt_cv);
    sqlite3_close(st->ckpt_conn);
    st->ckpt_conn = NULL;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "starting the checkpoint thread: error %d", rc);
  }
  st->ckpt_running = true;
  return 0;
}

void
sq_checkpointer_note(struct sqlite_store *st, int frames)
{
  if (!st->ckpt_running)
    return;
  pthread_mutex_lock(&st->ckpt_mu);
  st->ckpt_pending += frames;
  if (st->ckpt_pending >= CHECKPOINT_FRAMES)
    pthread_cond_signal(&st->ckpt_cv);
  pthread_mutex_unlock(&st->ckpt_mu);
}

void
sq_checkpointer_stop(struct sqlite_store *st)
{
  if (!st->ckpt_running)
    return;
  pthread_mutex_lock(&st->ckpt_mu);
  st->ckpt_stopping = true;
  pthread_cond_signal(&st->ckpt_cv);
  pthread_mutex_unlock(&st->ckpt_mu);
  pthread_join(st->ckpt_thread, NULL);
  pthread_mutex_destroy(&st->ckpt_mu);
  pthread_cond_destroy(&st->ckpt_cv);
  sqlite3_close(st->ckpt_conn);
  st->ckpt_conn = NULL;
  st->ckpt_running = false;
}

void
sqlite_store_preallocate_wal(storage *s, size_t bytes)
{
  if (strcmp(s->ops->name, "sqlite") != 0)
    return;
  struct sqlite_store *st = (struct sqlite_store *)s;
  if (!st->ckpt_running || bytes == 0)
    return;
  pthread_mutex_lock(&st->ckpt_mu);
  st->wal_prealloc_bytes = (off_t)bytes;
  pthread_cond_signal(&st->ckpt_cv);
  pthread_mutex_unlock(&st->ckpt_mu);
}
