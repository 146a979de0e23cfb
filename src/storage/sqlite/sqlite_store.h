/* sqlite_store.h — the embedded SQLite backend of storage.h: a revision log in one
 * table (like k3s's kine), WAL mode, group commit. */
#ifndef K8C_STORAGE_SQLITE_STORE_H
#define K8C_STORAGE_SQLITE_STORE_H

#include "storage/storage.h"

#include <stdbool.h>

struct sqlite_store_options {
  /* true (default via storage_open): fsync every commit (PRAGMA synchronous=FULL), so an
   * acknowledged write survives even an OS crash. false: synchronous=NORMAL, which in
   * WAL mode still survives a killed process, but an OS crash may lose the last
   * commits. */
  bool sync_full;
};

/* Opens (creating if needed) the database file at path. The parent directory must
 * exist. Returns a store the caller frees with s->ops->destroy(s). */
storage *sqlite_store_open(const char *path, const struct sqlite_store_options *opts, k8c_err *err);

/* The WAL's working size: the checkpoint thread restarts the WAL past 4,096 frames
 * (16.9 MB) once a checkpoint has caught up, and under a steady stream of creates the
 * WAL was seen reaching 21.8 MB before that. */
#define SQLITE_WAL_WORKING_BYTES ((size_t)24 << 20)

/* Asks the store's background thread to grow its write-ahead log to bytes ahead of use,
 * so commits overwrite instead of append (sqlite_walsize.c). Does nothing for a store of
 * another backend. */
void sqlite_store_preallocate_wal(storage *s, size_t bytes);

#endif
