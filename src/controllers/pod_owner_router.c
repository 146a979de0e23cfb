/* pod_owner_router.c — maps pod events to the keys of their controlling objects, as the
 * upstream StatefulSet and DaemonSet controllers' addPod/updatePod/deletePod do: owned
 * pods wake their owner, orphans wake every owner whose selector matches them, and a pod
 * turning Ready under minReadySeconds wakes its owner again once it may be available. */
#include "controllers/pod_owner_router.h"

#include "apimachinery/labels.h"
#include "apimachinery/meta.h"
#include "lib/mem.h"

static void
enqueue(const struct pod_owner_router *r, const json_t *owner)
{
  cleanup_free char *key = cu_key(owner);
  workqueue_add(r->queue, key);
}

json_t *
pod_router_owner_of(const struct pod_owner_router *r, const json_t *obj)
{
  json_t *ref = cu_controller_ref(obj);
  return ref ? cu_resolve_controller_ref(r->owners, r->kind, meta_namespace(obj), ref) : NULL;
}

void
pod_router_enqueue_all(const struct pod_owner_router *r, const char *ns)
{
  json_t **owners = NULL;
  size_t n = 0;
  if (ns == NULL) {
    informer_list(r->owners, &owners, &n);
  } else {
    k8c_err err = {0};
    if (informer_by_index(r->owners, "namespace", ns, &owners, &n, &err) < 0) {
      k8c_err_clear(&err);
      return;
    }
  }
  for (size_t i = 0; i < n; i++)
    enqueue(r, owners[i]);
  informer_objs_free(owners, n);
}

static void
enqueue_matching(const struct pod_owner_router *r, const json_t *pod)
{
  json_t **owners = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (informer_by_index(r->owners, "namespace", meta_namespace(pod), &owners, &n, &err) < 0) {
    k8c_err_clear(&err);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    label_selector *sel = label_selector_from_json(
        json_object_get(json_object_get(owners[i], "spec"), "selector"), &err);
    k8c_err_clear(&err);
    if (sel && !label_selector_is_empty(sel) && label_selector_matches(sel, meta_labels(pod)))
      enqueue(r, owners[i]);
    label_selector_free(sel);
  }
  informer_objs_free(owners, n);
}

static void
pod_gone(const struct pod_owner_router *r, const json_t *pod)
{
  json_t *owner = pod_router_owner_of(r, pod);
  if (owner == NULL)
    return;
  cleanup_free char *owner_key = cu_key(owner);
  if (r->exp) {
    cleanup_free char *pod_key = cu_key(pod);
    expectations_deletion_observed(r->exp, owner_key, pod_key);
  }
  workqueue_add(r->queue, owner_key);
  json_decref(owner);
}

void
pod_router_on_add(void *ctx, json_t *pod)
{
  const struct pod_owner_router *r = ctx;
  if (json_object_get(meta_get(pod), "deletionTimestamp")) {
    pod_gone(r, pod);
    return;
  }
  if (cu_controller_ref(pod) == NULL) {
    enqueue_matching(r, pod);
    return;
  }
  json_t *owner = pod_router_owner_of(r, pod);
  if (owner == NULL)
    return;
  cleanup_free char *key = cu_key(owner);
  if (r->exp)
    expectations_creation_observed(r->exp, key);
  workqueue_add(r->queue, key);
  json_decref(owner);
}

void
pod_router_on_update(void *ctx, json_t *old_pod, json_t *new_pod)
{
  const struct pod_owner_router *r = ctx;
  if (old_pod != new_pod && json_equal(old_pod, new_pod))
    return;
  bool labels_changed = !json_equal(meta_labels(old_pod), meta_labels(new_pod));
  if (json_object_get(meta_get(new_pod), "deletionTimestamp")) {
    pod_gone(r, new_pod);
    if (labels_changed)
      pod_gone(r, old_pod);
    return;
  }
  json_t *old_ref = cu_controller_ref(old_pod), *new_ref = cu_controller_ref(new_pod);
  bool ref_changed = !json_equal(old_ref, new_ref);
  if (ref_changed && old_ref) {
    json_t *old_owner = pod_router_owner_of(r, old_pod);
    if (old_owner)
      enqueue(r, old_owner);
    json_decref(old_owner);
  }
  if (new_ref == NULL) {
    if (labels_changed || ref_changed)
      enqueue_matching(r, new_pod);
    return;
  }
  json_t *owner = pod_router_owner_of(r, new_pod);
  if (owner == NULL)
    return;
  enqueue(r, owner);
  long long min_ready = cu_int(owner, "spec.minReadySeconds", 0);
  if (min_ready > 0 && !pod_is_ready(old_pod) && pod_is_ready(new_pod)) {
    cleanup_free char *key = cu_key(owner);
    workqueue_add_after(r->queue, key, min_ready * 1000 + 1000);
  }
  json_decref(owner);
}

void
pod_router_on_delete(void *ctx, json_t *pod)
{
  pod_gone(ctx, pod);
}

struct informer_handlers
pod_router_handlers(struct pod_owner_router *r)
{
  return (struct informer_handlers){.on_add = pod_router_on_add,
                                    .on_update = pod_router_on_update,
                                    .on_delete = pod_router_on_delete,
                                    .ctx = r};
}
