/* pod_priority.c — Priority admission for pods (see pod_priority.h). Reads the
 * PriorityClasses from the watch cache, as upstream's plugin reads its lister; the two
 * system classes fall back to their built-in values when no object is stored. */
#include "registry/core/pod_priority.h"

#include "api/resource.h"
#include "lib/mem.h"
#include "registry/registry.h"
#include "registry/store_internal.h"

#include <stdio.h>
#include <string.h>

#define SYSTEM_CRITICAL_PRIORITY 2000000000LL
#define GLOBAL_DEFAULT_TRUE "\"globalDefault\":true"

struct resolved_class {
  char *name; /* "" when no class applies */
  json_int_t value;
  char *preemption_policy; /* NULL = the class sets none */
};

static json_t *
parse_cached(cache_obj *co)
{
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  return store_parse(json, len, NULL);
}

static void
resolved_from(struct resolved_class *out, const char *name, const json_t *pc)
{
  out->name = xstrdup(name);
  out->value = json_integer_value(json_object_get(pc, "value"));
  const char *policy = json_string_value(json_object_get(pc, "preemptionPolicy"));
  out->preemption_policy = policy ? xstrdup(policy) : NULL;
}

/* 1 = found, 0 = no such class. */
static int
lookup_class(struct registry *reg, const char *name, struct resolved_class *out)
{
  const struct api_resource *res = api_resource_find("scheduling.k8s.io", "v1", "priorityclasses");
  cleanup_free char *key = registry_key(res, "", name);
  cache_obj *co = NULL;
  if (watchcache_get(reg->cache, key, &co, NULL) == 0) {
    json_t *pc = parse_cached(co);
    cache_obj_unref(co);
    if (pc) {
      resolved_from(out, name, pc);
      json_decref(pc);
      return 1;
    }
  }
  json_int_t builtin = strcmp(name, "system-node-critical") == 0 ? SYSTEM_CRITICAL_PRIORITY + 1000
                       : strcmp(name, "system-cluster-critical") == 0 ? SYSTEM_CRITICAL_PRIORITY
                                                                      : -1;
  if (builtin < 0)
    return 0;
  out->name = xstrdup(name);
  out->value = builtin;
  out->preemption_policy = xstrdup("PreemptLowerPriority");
  return 1;
}

/* The globalDefault class (the lowest value if several claim it), or priority 0. */
static void
default_class(struct registry *reg, struct resolved_class *out)
{
  const struct api_resource *res = api_resource_find("scheduling.k8s.io", "v1", "priorityclasses");
  cleanup_free char *prefix = registry_prefix(res, "");
  cache_obj **objs = NULL;
  size_t n = 0;
  int64_t rev = 0;
  *out = (struct resolved_class){.name = xstrdup("")};
  if (watchcache_list(reg->cache, prefix, NULL, NULL, &objs, &n, &rev, NULL) < 0)
    return;
  bool found = false;
  for (size_t i = 0; i < n; i++) {
    /* Cached text is compact JSON, so a class that claims to be the default says exactly
     * this; every pod create comes here, and most classes need no parse. */
    size_t len = 0;
    const char *text = cache_obj_text(objs[i], &len);
    if (memmem(text, len, GLOBAL_DEFAULT_TRUE, sizeof GLOBAL_DEFAULT_TRUE - 1) == NULL)
      continue;
    json_t *pc = parse_cached(objs[i]);
    if (pc && json_is_true(json_object_get(pc, "globalDefault")) &&
        (!found || json_integer_value(json_object_get(pc, "value")) < out->value)) {
      const char *name =
          json_string_value(json_object_get(json_object_get(pc, "metadata"), "name"));
      free(out->name);
      free(out->preemption_policy);
      resolved_from(out, name ? name : "", pc);
      found = true;
    }
    json_decref(pc);
  }
  cache_obj_array_free(objs, n);
}

static int
forbidden(const json_t *pod, k8c_err *err, const char *detail)
{
  const char *name = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
  return k8c_error(err, 403, K8C_REASON_FORBIDDEN, "pods \"%s\" is forbidden: %s", name ? name : "",
                   detail);
}

int
pod_priority_admit(struct registry *reg, json_t *pod, k8c_err *err)
{
  json_t *spec = json_object_get(pod, "spec");
  if (!json_is_object(spec))
    return 0; /* validation reports it */
  const char *class_name = json_string_value(json_object_get(spec, "priorityClassName"));
  struct resolved_class rc = {0};
  char detail[512];
  int rv = 0;
  if (class_name == NULL || class_name[0] == '\0') {
    default_class(reg, &rc);
  } else if (!lookup_class(reg, class_name, &rc)) {
    snprintf(detail, sizeof detail, "no PriorityClass with name %s was found", class_name);
    return forbidden(pod, err, detail);
  }
  json_t *given = json_object_get(spec, "priority");
  const char *given_policy = json_string_value(json_object_get(spec, "preemptionPolicy"));
  if (json_is_integer(given) && json_integer_value(given) != rc.value) {
    snprintf(detail, sizeof detail,
             "the integer value of priority (%lld) must not be provided in pod spec; priority "
             "admission controller computed %lld from the given PriorityClass name",
             (long long)json_integer_value(given), (long long)rc.value);
    rv = forbidden(pod, err, detail);
  } else if (rc.preemption_policy && given_policy &&
             strcmp(given_policy, rc.preemption_policy) != 0) {
    snprintf(detail, sizeof detail,
             "the string value of PreemptionPolicy (%s) must not be provided in pod spec; "
             "priority admission controller computed %s from the given PriorityClass name",
             given_policy, rc.preemption_policy);
    rv = forbidden(pod, err, detail);
  } else {
    if (rc.name[0])
      json_object_set_new_nocheck(spec, "priorityClassName", json_string(rc.name));
    json_object_set_new_nocheck(spec, "priority", json_integer(rc.value));
    if (rc.preemption_policy)
      json_object_set_new_nocheck(spec, "preemptionPolicy", json_string(rc.preemption_policy));
    else if (given_policy == NULL)
      json_object_set_new_nocheck(spec, "preemptionPolicy",
                                  json_string_nocheck("PreemptLowerPriority"));
  }
  free(rc.name);
  free(rc.preemption_policy);
  return rv;
}
