/* gc.c — image garbage collection as the kubelet does it: when the filesystem holding the
 * store is fuller than a high threshold, remove unused images, least recently used first,
 * until usage is at or below a low threshold. The caller says which images are in use. */
#include "kubelet/images/images_internal.h"
#include "kubelet/images/reference.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

int
image_store_disk_percent(struct image_store *store, int *percent, k8c_err *err)
{
  struct statvfs st;
  if (statvfs(store->root, &st) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "statvfs %s: %s", store->root, strerror(errno));
  unsigned long long total = (unsigned long long)st.f_blocks * st.f_frsize;
  unsigned long long avail = (unsigned long long)st.f_bavail * st.f_frsize;
  *percent = total ? (int)(100 - (avail * 100) / total) : 0;
  return 0;
}

/* True when info is named (by ID, name or repo digest) in in_use. */
static bool
image_in_use(const struct image_info *info, const char *const *in_use)
{
  for (size_t i = 0; in_use && in_use[i]; i++) {
    const char *want = in_use[i];
    if (strcmp(want, info->id) == 0 ||
        (info->manifest_digest && strcmp(want, info->manifest_digest) == 0))
      return true;
    struct image_ref ref;
    k8c_err ignored = {0};
    cleanup_free char *name = NULL;
    if (image_ref_parse(want, &ref, &ignored) == 0) {
      name = image_ref_string(&ref);
      image_ref_free(&ref);
    }
    k8c_err_clear(&ignored);
    for (size_t k = 0; name && info->names[k]; k++)
      if (strcmp(info->names[k], name) == 0)
        return true;
    for (size_t k = 0; name && info->repo_digests[k]; k++)
      if (strcmp(info->repo_digests[k], name) == 0)
        return true;
  }
  return false;
}

static int
by_last_use(const void *a, const void *b)
{
  const struct image_info *x = *(struct image_info *const *)a;
  const struct image_info *y = *(struct image_info *const *)b;
  int64_t tx = x->last_used ? x->last_used : x->pulled_at;
  int64_t ty = y->last_used ? y->last_used : y->pulled_at;
  return tx < ty ? -1 : tx > ty ? 1 : strcmp(x->id, y->id);
}

int
image_gc(struct image_store *store, const struct image_gc_policy *policy, const char *const *in_use,
         size_t *removed, k8c_err *err)
{
  if (removed)
    *removed = 0;
  int percent;
  if (image_store_disk_percent(store, &percent, err) < 0)
    return -1;
  if (percent <= policy->high_percent) {
    int lock = store_lock(store, err);
    if (lock < 0)
      return -1;
    int rc = store_sweep(store, err);
    store_unlock(lock);
    return rc;
  }
  struct image_info **list = NULL;
  size_t n = 0;
  if (records_load_all(store, &list, &n, err) < 0)
    return -1;
  qsort(list, n, sizeof(*list), by_last_use);
  int rc = 0;
  for (size_t i = 0; i < n && percent > policy->low_percent; i++) {
    if (image_in_use(list[i], in_use))
      continue;
    k8c_err one = {0};
    if (image_remove(store, list[i]->id, &one) < 0) {
      log_warn("images: gc could not remove %s: %s", list[i]->id, one.message);
      k8c_err_clear(&one);
      continue;
    }
    log_info("images: gc removed %s (disk %d%% > %d%%)", list[i]->id, percent, policy->low_percent);
    if (removed)
      (*removed)++;
    if (image_store_disk_percent(store, &percent, err) < 0) {
      rc = -1;
      break;
    }
  }
  image_info_list_free(list, n);
  return rc;
}
