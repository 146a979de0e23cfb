/* pod_serviceaccount.c — ServiceAccount admission for pods (see pod_serviceaccount.h).
 * The volume has upstream's exact shape, so `kubectl get pod -o yaml` reads the same. */
#include "registry/core/pod_serviceaccount.h"

#include "api/resource.h"
#include "apimachinery/meta.h"
#include "lib/mem.h"
#include "registry/registry.h"
#include "registry/store_internal.h"
#include "registry/strategy_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The kubelet asks for this lifetime; the server extends it (serviceaccount_token.h). */
#define KUBE_API_ACCESS_EXPIRATION 3607

static bool
should_automount(const json_t *spec, const json_t *sa)
{
  json_t *v = json_object_get(spec, "automountServiceAccountToken");
  if (json_is_boolean(v))
    return json_is_true(v);
  v = json_object_get(sa, "automountServiceAccountToken");
  if (json_is_boolean(v))
    return json_is_true(v);
  return true;
}

static bool
mounts_token_path(const json_t *container)
{
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get(container, "volumeMounts"), i, m) {
    const char *path = json_string_value(json_object_get(m, "mountPath"));
    if (path && strcmp(path, SA_TOKEN_MOUNT_PATH) == 0)
      return true;
  }
  return false;
}

/* {"<k1>":v1} with a literal key (built directly: json_pack parses its format string on
 * every call, and every pod create builds this volume). */
static json_t *
object1(const char *k1, json_t *v1)
{
  json_t *o = json_object();
  json_object_set_new_nocheck(o, k1, v1);
  return o;
}

static json_t *
object2(const char *k1, json_t *v1, const char *k2, json_t *v2)
{
  json_t *o = object1(k1, v1);
  json_object_set_new_nocheck(o, k2, v2);
  return o;
}

static json_t *
array1(json_t *item)
{
  json_t *a = json_array();
  json_array_append_new(a, item);
  return a;
}

static json_t *
kube_api_access_volume(const char *name)
{
  json_t *sources = json_array();
  json_array_append_new(
      sources, object1("serviceAccountToken",
                       object2("expirationSeconds", json_integer(KUBE_API_ACCESS_EXPIRATION),
                               "path", json_string_nocheck("token"))));
  json_array_append_new(
      sources,
      object1("configMap", object2("name", json_string_nocheck(ROOT_CA_CONFIGMAP), "items",
                                   array1(object2("key", json_string_nocheck("ca.crt"), "path",
                                                  json_string_nocheck("ca.crt"))))));
  json_array_append_new(
      sources,
      object1("downwardAPI",
              object1("items",
                      array1(object2("path", json_string_nocheck("namespace"), "fieldRef",
                                     object2("apiVersion", json_string_nocheck("v1"), "fieldPath",
                                             json_string_nocheck("metadata.namespace")))))));
  return object2("name", json_string_nocheck(name), "projected",
                 object2("sources", sources, "defaultMode", json_integer(420)));
}

/* Adds the mount to every container of list that has none at the token path; returns
 * how many got it. */
static size_t
add_mounts(json_t *list, const char *volume)
{
  size_t added = 0, i;
  json_t *c;
  json_array_foreach (list, i, c) {
    if (mounts_token_path(c))
      continue;
    json_t *mounts = json_object_get(c, "volumeMounts");
    if (!json_is_array(mounts)) {
      mounts = json_array();
      json_object_set_new_nocheck(c, "volumeMounts", mounts);
    }
    json_t *mount = object2("name", json_string_nocheck(volume), "readOnly", json_true());
    json_object_set_new_nocheck(mount, "mountPath", json_string_nocheck(SA_TOKEN_MOUNT_PATH));
    json_array_append_new(mounts, mount);
    added++;
  }
  return added;
}

static bool
has_volume(const json_t *spec, const char *name)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get(spec, "volumes"), i, v) {
    const char *have = json_string_value(json_object_get(v, "name"));
    if (have && strcmp(have, name) == 0)
      return true;
  }
  return false;
}

/* The token volume's name suffix. Upstream's is random per pod; nothing relies on that,
 * and here it is a function of the service account's uid instead: all pods of one
 * account then carry equal volumes and mounts (and so equal containers), which caches of
 * parsed pods hold once — a shared informer's pod takes about half the memory. Random
 * when the account is not stored yet (no uid) or the pod already has that name. */
static void
token_volume_suffix(const json_t *spec, const json_t *sa, char out[6])
{
  const char *uid = json_string_value(json_object_get(json_object_get(sa, "metadata"), "uid"));
  if (uid && uid[0]) {
    meta_derived_suffix(uid, out);
    char name[32];
    snprintf(name, sizeof name, "kube-api-access-%s", out);
    if (!has_volume(spec, name))
      return;
  }
  meta_random_suffix(out);
}

int
pod_serviceaccount_admit(struct registry *reg, json_t *pod, k8c_err *err)
{
  json_t *spec = obj_ensure(pod, "spec");
  if (json_object_get(obj_get(pod, "metadata.annotations"), "kubernetes.io/config.mirror"))
    return 0;
  const char *name = json_string_value(json_object_get(spec, "serviceAccountName"));
  if (name == NULL || name[0] == '\0') {
    json_object_set_new_nocheck(spec, "serviceAccountName", json_string_nocheck("default"));
    name = "default";
  }
  /* The deprecated alias upstream's conversion keeps equal to serviceAccountName. */
  json_object_set_new_nocheck(spec, "serviceAccount", json_string(name));
  const char *ns = obj_str(pod, "metadata.namespace");
  cleanup_json json_t *sa =
      store_cached_object(reg, api_resource_find("", "v1", "serviceaccounts"), ns, name);
  if (sa == NULL && strcmp(name, "default") != 0)
    return k8c_error(err, 403, K8C_REASON_FORBIDDEN,
                     "pods \"%s\" is forbidden: error looking up service account %s/%s: "
                     "serviceaccount \"%s\" not found",
                     obj_str0(pod, "metadata.name"), ns ? ns : "", name, name);
  if (!should_automount(spec, sa))
    return 0;
  char suffix[6];
  token_volume_suffix(spec, sa, suffix);
  static const char prefix[] = "kube-api-access-";
  char volume[sizeof prefix + sizeof suffix];
  memcpy(volume, prefix, sizeof prefix - 1);
  memcpy(volume + sizeof prefix - 1, suffix, sizeof suffix); /* with its NUL */
  size_t added = add_mounts(json_object_get(spec, "initContainers"), volume) +
                 add_mounts(json_object_get(spec, "containers"), volume);
  if (added == 0)
    return 0;
  json_t *volumes = json_object_get(spec, "volumes");
  if (!json_is_array(volumes)) {
    volumes = json_array();
    json_object_set_new_nocheck(spec, "volumes", volumes);
  }
  json_array_append_new(volumes, kube_api_access_volume(volume));
  return 0;
}
