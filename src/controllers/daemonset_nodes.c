/* daemonset_nodes.c — where a DaemonSet runs and the pods it makes, as upstream's
 * daemon controller utils: the template gets the default DaemonSet tolerations (not-ready
 * and unreachable NoExecute; disk/memory/pid-pressure and unschedulable NoSchedule;
 * network-unavailable for hostNetwork pods), is matched against each node's labels, name
 * and taints with the scheduler's own parsing (pod_info), and is pinned to its node by a
 * required node affinity on metadata.name that the scheduler honours when binding. */
#include "apimachinery/meta.h"
#include "controllers/daemonset_internal.h"
#include "lib/mem.h"
#include "scheduler/podinfo.h"

#include <stdio.h>
#include <string.h>

struct ds_placement {
  struct pod_info *pi;
  const char *node_name; /* the template's spec.nodeName (borrowed from pi->obj), or NULL */
};

struct default_toleration {
  const char *key, *effect;
  bool host_network_only;
};

static const struct default_toleration default_tolerations[] = {
    {"node.kubernetes.io/not-ready", "NoExecute", false},
    {"node.kubernetes.io/unreachable", "NoExecute", false},
    {"node.kubernetes.io/disk-pressure", "NoSchedule", false},
    {"node.kubernetes.io/memory-pressure", "NoSchedule", false},
    {"node.kubernetes.io/pid-pressure", "NoSchedule", false},
    {"node.kubernetes.io/unschedulable", "NoSchedule", false},
    {"node.kubernetes.io/network-unavailable", "NoSchedule", true},
};

static bool
has_toleration(const json_t *tolerations, const char *key, const char *effect)
{
  size_t i;
  json_t *t;
  json_array_foreach (tolerations, i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    const char *e = json_string_value(json_object_get(t, "effect"));
    const char *op = json_string_value(json_object_get(t, "operator"));
    if (k && strcmp(k, key) == 0 && e && strcmp(e, effect) == 0 && op && strcmp(op, "Exists") == 0)
      return true;
  }
  return false;
}

/* Adds the default tolerations to a pod spec (in place) that it does not already have. */
static void
add_default_tolerations(json_t *spec)
{
  json_t *tolerations = json_object_get(spec, "tolerations");
  if (!json_is_array(tolerations)) {
    tolerations = json_array();
    json_object_set_new(spec, "tolerations", tolerations);
  }
  bool host_network = json_is_true(json_object_get(spec, "hostNetwork"));
  for (size_t i = 0; i < sizeof default_tolerations / sizeof *default_tolerations; i++) {
    const struct default_toleration *d = &default_tolerations[i];
    if ((d->host_network_only && !host_network) || has_toleration(tolerations, d->key, d->effect))
      continue;
    json_array_append_new(tolerations, json_pack("{s:s, s:s, s:s}", "key", d->key, "operator",
                                                 "Exists", "effect", d->effect));
  }
}

/* The template spec with the default tolerations (new reference). */
static json_t *
daemon_spec(const json_t *ds)
{
  json_t *tspec = json_object_get(json_object_get(json_object_get(ds, "spec"), "template"), "spec");
  json_t *spec = tspec ? json_deep_copy(tspec) : json_object();
  add_default_tolerations(spec);
  return spec;
}

ds_placement *
ds_placement_new(const json_t *ds)
{
  ds_placement *p = xcalloc(1, sizeof *p);
  json_t *pod = json_pack("{s:{s:s, s:s}, s:o}", "metadata", "name", "daemon", "namespace",
                          meta_namespace(ds) ? meta_namespace(ds) : "", "spec", daemon_spec(ds));
  p->pi = pod_info_new(pod);
  json_decref(pod);
  p->node_name =
      json_string_value(json_object_get(json_object_get(p->pi->obj, "spec"), "nodeName"));
  return p;
}

void
ds_placement_free(ds_placement *p)
{
  if (p == NULL)
    return;
  pod_info_unref(p->pi);
  free(p);
}

static bool
tolerated(const struct pod_info *pi, const char *key, const char *value, const char *effect)
{
  for (size_t i = 0; i < pi->ntolerations; i++)
    if (toleration_tolerates(&pi->tolerations[i], key, value, effect))
      return true;
  return false;
}

void
ds_node_should_run(const ds_placement *p, const json_t *node, bool *should_run,
                   bool *should_continue)
{
  *should_run = *should_continue = false;
  const char *name = meta_name(node);
  if (name == NULL || (p->node_name && *p->node_name && strcmp(p->node_name, name) != 0))
    return;
  if (!pod_info_matches_node_selector(p->pi, meta_labels(node), name))
    return;
  bool no_schedule = false, no_execute = false;
  size_t i;
  json_t *taint;
  json_array_foreach (json_object_get(json_object_get(node, "spec"), "taints"), i, taint) {
    const char *effect = json_string_value(json_object_get(taint, "effect"));
    const char *key = json_string_value(json_object_get(taint, "key"));
    const char *value = json_string_value(json_object_get(taint, "value"));
    if (effect == NULL || key == NULL)
      continue;
    bool is_exec = strcmp(effect, "NoExecute") == 0;
    if (!is_exec && strcmp(effect, "NoSchedule") != 0)
      continue;
    if (tolerated(p->pi, key, value ? value : "", effect))
      continue;
    if (is_exec)
      no_execute = true;
    else
      no_schedule = true;
  }
  *should_continue = !no_execute;
  *should_run = !no_execute && !no_schedule;
}

json_t *
ds_new_pod(const json_t *ds, const char *hash, const char *node)
{
  const json_t *tmeta =
      json_object_get(json_object_get(json_object_get(ds, "spec"), "template"), "metadata");
  cleanup_free char *prefix = xasprintf("%s-", meta_name(ds));
  json_t *meta = json_pack("{s:s, s:s}", "generateName", prefix, "namespace", meta_namespace(ds));
  json_t *labels = json_object();
  if (json_is_object(json_object_get(tmeta, "labels")))
    json_object_update(labels, json_object_get(tmeta, "labels"));
  char generation[24];
  snprintf(generation, sizeof generation, "%lld", (long long)meta_generation(ds));
  json_object_set_new(labels, DS_LABEL_REVISION, json_string(hash));
  json_object_set_new(labels, DS_LABEL_TEMPLATE_GENERATION, json_string(generation));
  json_object_set_new(meta, "labels", labels);
  const char *copied[] = {"annotations", "finalizers"};
  for (int i = 0; i < 2; i++) {
    json_t *v = json_object_get(tmeta, copied[i]);
    if (v)
      json_object_set_new(meta, copied[i], json_deep_copy(v));
  }
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("apps/v1", "DaemonSet", ds));
  json_object_set_new(meta, "ownerReferences", refs);

  json_t *spec = daemon_spec(ds);
  json_t *affinity = json_object_get(spec, "affinity");
  if (!json_is_object(affinity)) {
    affinity = json_object();
    json_object_set_new(spec, "affinity", affinity);
  }
  json_t *node_affinity = json_object_get(affinity, "nodeAffinity");
  if (!json_is_object(node_affinity)) {
    node_affinity = json_object();
    json_object_set_new(affinity, "nodeAffinity", node_affinity);
  }
  /* As upstream: the required terms are replaced by the node's name alone (the node was
   * already found to match them). */
  json_object_set_new(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution",
                      json_pack("{s:[{s:[{s:s, s:s, s:[s]}]}]}", "nodeSelectorTerms", "matchFields",
                                "key", "metadata.name", "operator", "In", "values", node));
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta,
                   "spec", spec);
}

const char *
ds_pod_node(const json_t *pod)
{
  const json_t *spec = json_object_get(pod, "spec");
  const char *node = json_string_value(json_object_get(spec, "nodeName"));
  if (node && *node)
    return node;
  json_t *terms = json_object_get(
      json_object_get(json_object_get(json_object_get(spec, "affinity"), "nodeAffinity"),
                      "requiredDuringSchedulingIgnoredDuringExecution"),
      "nodeSelectorTerms");
  size_t i, j;
  json_t *term, *req;
  json_array_foreach (terms, i, term) {
    json_array_foreach (json_object_get(term, "matchFields"), j, req) {
      const char *key = json_string_value(json_object_get(req, "key"));
      const char *op = json_string_value(json_object_get(req, "operator"));
      json_t *values = json_object_get(req, "values");
      if (key && op && strcmp(key, "metadata.name") == 0 && strcmp(op, "In") == 0 &&
          json_array_size(values) == 1)
        return json_string_value(json_array_get(values, 0));
    }
  }
  return NULL;
}
