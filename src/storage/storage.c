/* storage.c — choosing a backend from an endpoint string, and the storage_kv helpers
 * every backend shares. */
#include "storage/storage.h"

#include "lib/mem.h"
#include "storage/sqlite/sqlite_store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Creates every missing directory of path (mode 0700), like mkdir -p. */
static int
make_dirs(const char *path, k8c_err *err)
{
  cleanup_free char *copy = xstrdup(path);
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, 0700) < 0 && errno != EEXIST)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating %s: %s", copy, strerror(errno));
    *p = '/';
  }
  if (mkdir(copy, 0700) < 0 && errno != EEXIST)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating %s: %s", copy, strerror(errno));
  return 0;
}

/* Parses "PATH[?sync=full|normal]" into a path and options. */
static int
parse_sqlite_endpoint(const char *rest, const char *data_dir, char **path,
                      struct sqlite_store_options *opts, k8c_err *err)
{
  opts->sync_full = true;
  const char *query = strchr(rest, '?');
  size_t path_len = query ? (size_t)(query - rest) : strlen(rest);
  if (query) {
    if (strcmp(query, "?sync=normal") == 0)
      opts->sync_full = false;
    else if (strcmp(query, "?sync=full") != 0)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "unknown sqlite option \"%s\" (want ?sync=full or ?sync=normal)", query + 1);
  }
  if (path_len > 0) {
    *path = xstrndup(rest, path_len);
  } else {
    if (!data_dir || !*data_dir)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "no sqlite path and no data directory given");
    *path = xasprintf("%s/server/db/state.db", data_dir);
  }
  return 0;
}

storage *
storage_open(const char *endpoint, const char *data_dir, k8c_err *err)
{
  const char *rest;
  if (!endpoint || !*endpoint)
    rest = "";
  else if (strncmp(endpoint, "sqlite://", 9) == 0)
    rest = endpoint + 9;
  else
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "unsupported storage endpoint \"%s\"",
                     endpoint),
           NULL;

  cleanup_free char *path = NULL;
  struct sqlite_store_options opts;
  if (parse_sqlite_endpoint(rest, data_dir, &path, &opts, err) < 0)
    return NULL;
  char *slash = strrchr(path, '/');
  if (slash && slash != path) {
    cleanup_free char *dir = xstrndup(path, (size_t)(slash - path));
    if (make_dirs(dir, err) < 0)
      return NULL;
  }
  return sqlite_store_open(path, &opts, err);
}

void
storage_kv_free(storage_kv *kv)
{
  if (!kv)
    return;
  free(kv->key);
  free(kv->value);
  kv->key = kv->value = NULL;
  kv->value_len = 0;
}

void
storage_kv_list_free(storage_kv_list *l)
{
  if (!l)
    return;
  for (size_t i = 0; i < l->count; i++)
    storage_kv_free(&l->items[i]);
  free(l->items);
  l->items = NULL;
  l->count = l->cap = 0;
}

void
storage_kv_list_push(storage_kv_list *l, const char *key, const char *value, size_t value_len,
                     int64_t mod_rev, int64_t create_rev)
{
  if (l->count == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
  }
  storage_kv *kv = &l->items[l->count++];
  kv->key = xstrdup(key);
  kv->value = xmalloc(value_len + 1);
  if (value_len)
    memcpy(kv->value, value, value_len);
  kv->value[value_len] = '\0';
  kv->value_len = value_len;
  kv->mod_revision = mod_rev;
  kv->create_revision = create_rev;
}
