/* storage.h — the key/value store behind the API: a revisioned log (MVCC, like etcd
 * and k3s's kine). Every write gets the next cluster-wide revision; an object's
 * resourceVersion is the revision of its last write (its mod_revision).
 *
 * Backends implement struct storage_ops (sqlite/ now, etcd/ later). Values are the
 * object's JSON *without* metadata.resourceVersion; readers set it from mod_revision.
 * Keys look like "/registry/pods/NAMESPACE/NAME" or "/registry/nodes/NAME". */
#ifndef K8C_STORAGE_STORAGE_H
#define K8C_STORAGE_STORAGE_H

#include "lib/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct storage storage;

/* One stored key at one revision. All strings are owned by the holder of the kv and
 * freed with storage_kv_free / storage_kv_list_free. */
typedef struct storage_kv {
  char *key;
  char *value; /* NUL-terminated JSON */
  size_t value_len;
  int64_t mod_revision;    /* revision of the last write to this key */
  int64_t create_revision; /* revision at which the key was (last) created */
} storage_kv;

typedef struct storage_kv_list {
  storage_kv *items;
  size_t count;
  size_t cap;
} storage_kv_list;

enum storage_event_type { STORAGE_EVENT_PUT = 1, STORAGE_EVENT_DELETE = 2 };

/* A committed change, as delivered to the watch callback. Pointers are valid only
 * during the callback; copy what you keep. */
typedef struct storage_event {
  enum storage_event_type type;
  const char *key;
  const char *value; /* PUT: new value. DELETE: the value as it was before deletion. */
  size_t value_len;
  int64_t revision;        /* revision of this event (the new mod_revision, or the delete's) */
  int64_t create_revision; /* of the key */
  int64_t prev_revision;   /* mod_revision of the previous value; 0 on create */
} storage_event;

typedef void (*storage_event_fn)(void *ctx, const storage_event *ev);

struct storage_ops {
  const char *name;

  /* Reads one key at the current revision. 404 NotFound if absent. */
  int (*get)(storage *s, const char *key, storage_kv *out, k8c_err *err);

  /* Lists keys starting with prefix, in key order, as of revision at_rev (0 = current),
   * strictly after start_after (NULL = from the beginning), at most limit (0 = all).
   * *list_rev receives the revision the list reflects. *more is set when keys remain.
   * 410 Gone (reason Expired) if at_rev is older than the compacted revision; an at_rev
   * newer than the current revision reads the current one. Items are appended to out,
   * which the caller frees with storage_kv_list_free (also after a failure). */
  int (*list)(storage *s, const char *prefix, const char *start_after, int64_t limit,
              int64_t at_rev, storage_kv_list *out, int64_t *list_rev, int *more, k8c_err *err);

  /* Creates key; 409 AlreadyExists if it exists. *new_rev receives the revision. */
  int (*create)(storage *s, const char *key, const char *value, size_t len, int64_t *new_rev,
                k8c_err *err);

  /* Replaces key if its mod_revision equals expected_rev (0 = unconditionally);
   * 409 Conflict otherwise, 404 NotFound if absent (or deleted). */
  int (*update)(storage *s, const char *key, const char *value, size_t len, int64_t expected_rev,
                int64_t *new_rev, k8c_err *err);

  /* Deletes key if its mod_revision equals expected_rev (0 = unconditionally);
   * 409 Conflict / 404 NotFound as for update. */
  int (*delete)(storage *s, const char *key, int64_t expected_rev, int64_t *new_rev, k8c_err *err);

  /* Subscribes fn to every committed change with revision > after_rev, in revision
   * order: first the history still kept, then live changes. One subscriber per store
   * (the watch cache). For the embedded backend fn runs synchronously in the writer's
   * thread before the write call returns, so a write's caller can rely on fn having
   * seen it. 410 Gone if after_rev is older than the compacted revision.
   * fn == NULL removes the subscriber (call it before freeing ctx). */
  int (*watch)(storage *s, int64_t after_rev, storage_event_fn fn, void *ctx, k8c_err *err);

  /* The newest committed revision. */
  int64_t (*current_revision)(storage *s);

  /* The oldest revision still readable (history below it is compacted away). */
  int64_t (*compacted_revision)(storage *s);

  /* Drops history older than rev (keeps each key's newest value): afterwards lists at
   * revisions >= rev and watches after revisions >= rev still work, older ones get 410.
   * 400 if rev is newer than the current revision; a no-op if already compacted. */
  int (*compact)(storage *s, int64_t rev, k8c_err *err);

  /* Flushes and frees everything. */
  void (*destroy)(storage *s);
};

/* Every backend's handle starts with this header. */
struct storage {
  const struct storage_ops *ops;
};

/* Opens the backend named by endpoint: "" or "sqlite://PATH[?sync=full|normal]" → the
 * embedded SQLite store (PATH defaults to data_dir/server/db/state.db; missing parent
 * directories are created with mode 0700; sync defaults to full, see
 * docs/design/storage.md). The caller frees the store with s->ops->destroy(s). */
storage *storage_open(const char *endpoint, const char *data_dir, k8c_err *err);

/* Frees what the kv holds (not the kv itself). */
void storage_kv_free(storage_kv *kv);
void storage_kv_list_free(storage_kv_list *l);
/* Appends a copy of the given fields to l. */
void storage_kv_list_push(storage_kv_list *l, const char *key, const char *value, size_t value_len,
                          int64_t mod_rev, int64_t create_rev);

#endif
