/* pod_binding.c — the pods/binding subresource: how a scheduler assigns a pod to a node.
 * As upstream: the pod must exist, be unassigned and not terminating; binding sets
 * spec.nodeName and the PodScheduled=True condition in one optimistic update. */
#include "apimachinery/meta.h"
#include "lib/mem.h"
#include "registry/registry.h"
#include "registry/store_internal.h"

#include <string.h>

/* Sets PodScheduled=True in pod's status. */
static void
set_scheduled_condition(json_t *pod, const char *now)
{
  json_t *status = json_object_get(pod, "status");
  if (!json_is_object(status)) {
    status = json_object();
    json_object_set_new(pod, "status", status);
  }
  json_t *conds = json_object_get(status, "conditions");
  if (!json_is_array(conds)) {
    conds = json_array();
    json_object_set_new(status, "conditions", conds);
  }
  size_t i;
  json_t *c;
  json_array_foreach (conds, i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type && strcmp(type, "PodScheduled") == 0) {
      json_object_set_new(c, "status", json_string("True"));
      json_object_set_new(c, "lastTransitionTime", json_string(now));
      json_object_del(c, "reason");
      json_object_del(c, "message");
      return;
    }
  }
  json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status",
                                         "True", "lastProbeTime", "lastTransitionTime", now));
}

int
registry_bind_pod(struct registry *r, const char *ns, const char *name, const json_t *binding,
                  const char *field_manager, k8c_err *err)
{
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  json_t *target = json_object_get(binding, "target");
  const char *node = json_string_value(json_object_get(target, "name"));
  const char *kind = json_string_value(json_object_get(target, "kind"));
  if (node == NULL || node[0] == 0) {
    k8c_error(err, 422, K8C_REASON_INVALID,
              "Binding \"%s\" is invalid: target.name: Required value", name);
    k8c_err_add_cause(err, "FieldValueRequired", "target.name", "Required value");
    return -1;
  }
  if (kind && kind[0] && strcmp(kind, "Node") != 0) {
    k8c_error(err, 422, K8C_REASON_INVALID,
              "Binding \"%s\" is invalid: target.kind: Not supported: \"%s\"", name, kind);
    k8c_err_add_cause(err, "FieldValueNotSupported", "target.kind", "Not supported: \"%s\"", kind);
    return -1;
  }
  cleanup_free char *key = registry_key(pods, ns, name);
  for (int attempt = 0; attempt < 64; attempt++) {
    cleanup_json json_t *pod = NULL;
    int64_t rev = 0;
    if (store_read_current(r, pods, key, &pod, &rev, err) < 0) {
      if (err && err->status == 404)
        return store_not_found(pods, name, err);
      return -1;
    }
    json_t *meta = json_object_get(pod, "metadata");
    json_t *spec = json_object_get(pod, "spec");
    if (json_object_get(meta, "deletionTimestamp"))
      return k8c_error(err, 409, K8C_REASON_CONFLICT,
                       "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being "
                       "deleted, cannot be assigned to a host",
                       name, name);
    const char *bound = json_string_value(json_object_get(spec, "nodeName"));
    if (bound && bound[0])
      return k8c_error(err, 409, K8C_REASON_CONFLICT,
                       "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
                       "assigned to node \"%s\"",
                       name, name, bound);
    const char *want_uid =
        json_string_value(json_object_get(json_object_get(binding, "metadata"), "uid"));
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    if (want_uid && want_uid[0] && uid && strcmp(want_uid, uid) != 0)
      return k8c_error(err, 409, K8C_REASON_CONFLICT,
                       "Operation cannot be fulfilled on pods/binding \"%s\": the UID in the "
                       "binding (%s) does not match the pod's (%s)",
                       name, want_uid, uid);
    if (!json_is_object(spec)) {
      spec = json_object();
      json_object_set_new(pod, "spec", spec);
    }
    cleanup_free char *now = meta_now_rfc3339();
    set_scheduled_condition(pod, now);
    /* As upstream's BindingREST, which updates the stored pod directly, not through the
     * field manager: the binding adds no managedFields entry (nobody owns nodeName). */
    json_object_set_new(spec, "nodeName", json_string(node));
    int64_t new_rev = 0;
    k8c_err werr = {0};
    if (store_commit_update(r, pods, key, pod, rev, false, &new_rev, &werr) == 0)
      return 0;
    if (!store_is_race(&werr)) {
      k8c_err_move(err, &werr);
      return -1;
    }
    k8c_err_clear(&werr);
    store_catch_up(r);
  }
  return store_conflict(pods, name, "too many concurrent updates; try again", err);
}
