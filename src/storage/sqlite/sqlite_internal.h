/* sqlite_internal.h — shared between the files of the SQLite backend: the store
 * struct, one connection with its cached prepared statements, and the write queue.
 *
 * One writer connection is used by whoever currently leads the group commit; readers
 * take a connection from a small pool, so reads never wait for writes (WAL). */
#ifndef K8C_STORAGE_SQLITE_INTERNAL_H
#define K8C_STORAGE_SQLITE_INTERNAL_H

#include "storage/sqlite/sqlite_store.h"
#include "storage/storage.h"

#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

/* Prepared statements, compiled once per connection (see sqlite_conn.c). */
enum sq_stmt {
  SQ_LATEST,   /* newest row of a name */
  SQ_INSERT,   /* append one row */
  SQ_LIST,     /* newest non-deleted rows of a key range at a revision */
  SQ_HISTORY,  /* every row after a revision, in order */
  SQ_REVS,     /* (current revision, compacted revision) */
  SQ_SET_META, /* store an integer in meta */
  SQ_COMPACT,  /* drop history below a revision */
  SQ_BEGIN,
  SQ_BEGIN_IMMEDIATE,
  SQ_COMMIT,
  SQ_ROLLBACK,
  SQ_STMT_COUNT
};

struct sq_conn {
  sqlite3 *db;
  sqlite3_stmt *stmt[SQ_STMT_COUNT];
  struct sq_conn *next_free; /* reader pool link */
};

enum sq_write_kind { SQ_WRITE_CREATE, SQ_WRITE_UPDATE, SQ_WRITE_DELETE };

/* One caller's write waiting in (or executed by) the group commit. */
struct sq_write_req {
  enum sq_write_kind kind;
  const char *key;   /* borrowed from the caller, who waits */
  const char *value; /* borrowed; NULL for delete */
  size_t len;
  int64_t expected_rev;

  /* results, filled by the committer */
  sem_t wake; /* posted once, when the request is done */
  int rc;
  k8c_err err;
  storage_event event; /* valid when rc == 0 */
  char *old_value;     /* owned: the deleted value, for the DELETE event */

  struct sq_write_req *next;
};

struct sqlite_store {
  storage base;
  char *path;
  bool sync_full;

  /* Group commit: writers queue requests and sleep on their request's own semaphore; the
   * committer thread (sqlite_write.c) runs everything queued in one transaction, wakes
   * exactly those writers and goes on with what queued meanwhile. Holding leadership
   * (leader_busy) is "holding the write mutex": the committer holds it for a batch,
   * sq_lead_exclusive callers (watch registration, compaction) for their work. While one
   * of those waits, the committer starts no new batch, so they are not starved by a
   * stream of writes. commit_cv wakes the committer; write_cv the exclusive callers. */
  pthread_mutex_t write_mu;
  pthread_cond_t write_cv;
  pthread_cond_t commit_cv;
  bool leader_busy;
  int exclusive_waiting; /* sq_lead_exclusive callers waiting for leadership */
  struct sq_write_req *queue_head, *queue_tail;
  pthread_t committer_thread;
  bool committer_running;
  bool committer_stopping; /* under write_mu */
  struct sq_conn *writer;  /* used only by the leader */
  storage_event_fn watch_fn;
  void *watch_ctx;

  _Atomic int64_t current_rev;
  _Atomic int64_t compacted_rev;

  pthread_mutex_t pool_mu;
  struct sq_conn *free_readers;

  /* Background checkpointer (sqlite_checkpoint.c). */
  bool ckpt_running;
  bool ckpt_stopping;
  int ckpt_pending;         /* WAL frames written since the last checkpoint (approximate) */
  off_t wal_prealloc_bytes; /* > 0: grow the WAL to this size (sqlite_walsize.c) */
  pthread_t ckpt_thread;
  pthread_mutex_t ckpt_mu;
  pthread_cond_t ckpt_cv;
  sqlite3 *ckpt_conn;
};

/* Starts / stops the checkpoint thread; note() tells it a batch wrote about `frames`
 * WAL frames. */
int sq_checkpointer_start(struct sqlite_store *st, k8c_err *err);
void sq_checkpointer_note(struct sqlite_store *st, int frames);
void sq_checkpointer_stop(struct sqlite_store *st);

/* sqlite_walbuf.c: registers (once per process) the VFS that gathers a commit's WAL
 * writes into one write; for writers with synchronous=FULL only. */
#define SQ_WALBUF_VFS "k8c-walbuf"
int sq_walbuf_register(k8c_err *err);

/* sqlite_walsize.c: extends the WAL with zeros up to target bytes (checkpoint thread). */
void sq_wal_preallocate(struct sqlite_store *st, off_t target);

/* sqlite_conn.c */
struct sq_conn *sq_conn_open(const char *path, bool writer, bool sync_full, k8c_err *err);
void sq_conn_close(struct sq_conn *c);
/* Creates the tables if missing (writer connection). */
int sq_schema_init(struct sq_conn *c, k8c_err *err);
/* Reads the current and compacted revisions in one statement. */
int sq_read_revisions(struct sq_conn *c, int64_t *current, int64_t *compacted, k8c_err *err);
/* Runs a statement that returns no rows (BEGIN, COMMIT ...). */
int sq_exec_stmt(struct sq_conn *c, enum sq_stmt which, k8c_err *err);
/* Fills err with a 500 naming what failed and SQLite's message; returns -1. */
int sq_error(struct sq_conn *c, k8c_err *err, const char *what);

/* sqlite_read.c */
int sq_get(storage *s, const char *key, storage_kv *out, k8c_err *err);
int sq_list(storage *s, const char *prefix, const char *start_after, int64_t limit, int64_t at_rev,
            storage_kv_list *out, int64_t *list_rev, int *more, k8c_err *err);
void sq_reader_pool_free(struct sqlite_store *st);

/* sqlite_write.c */
int sq_create(storage *s, const char *key, const char *value, size_t len, int64_t *new_rev,
              k8c_err *err);
int sq_update(storage *s, const char *key, const char *value, size_t len, int64_t expected_rev,
              int64_t *new_rev, k8c_err *err);
int sq_delete(storage *s, const char *key, int64_t expected_rev, int64_t *new_rev, k8c_err *err);
/* Starts / stops the committer thread (before any write / after the last). */
int sq_committer_start(struct sqlite_store *st, k8c_err *err);
void sq_committer_stop(struct sqlite_store *st);
/* Waits until no batch runs and takes leadership, for work that must not interleave
 * with writes (watch registration, compaction). */
void sq_lead_exclusive(struct sqlite_store *st);
void sq_lead_release(struct sqlite_store *st);

#endif
