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

#endif
