/* statefulset_pods.c — the identity of a StatefulSet's pods and claims, as upstream's
 * stateful_set_utils: pod SET-N with the template's labels plus pod-name, pod-index and
 * controller-revision-hash, hostname SET-N and subdomain serviceName, and one claim
 * TEMPLATE-SET-N per volumeClaimTemplate, mounted as the template's volume name. */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/statefulset_internal.h"
#include "lib/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

long long
sts_pod_ordinal(const json_t *set, const json_t *pod)
{
  const char *set_name = meta_name(set), *name = meta_name(pod);
  if (set_name == NULL || name == NULL)
    return -1;
  size_t n = strlen(set_name);
  if (strncmp(name, set_name, n) != 0 || name[n] != '-' || name[n + 1] == '\0')
    return -1;
  const char *digits = name + n + 1;
  for (const char *p = digits; *p; p++)
    if (*p < '0' || *p > '9')
      return -1;
  if (digits[0] == '0' && digits[1] != '\0')
    return -1;
  errno = 0;
  long long ord = strtoll(digits, NULL, 10);
  return errno ? -1 : ord;
}

static char *
claim_name(const json_t *claim_tpl, const json_t *set, long long ord)
{
  return xasprintf("%s-%s-%lld", meta_name(claim_tpl), meta_name(set), ord);
}

json_t *
sts_new_claims(const json_t *set, long long ord)
{
  json_t *claims = json_array();
  const json_t *spec = json_object_get(set, "spec");
  const json_t *match_labels = json_object_get(json_object_get(spec, "selector"), "matchLabels");
  const char *when_deleted = cu_str(set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted");
  size_t i;
  json_t *tpl;
  json_array_foreach (json_object_get(spec, "volumeClaimTemplates"), i, tpl) {
    if (meta_name(tpl) == NULL)
      continue;
    json_t *claim = json_deep_copy(tpl);
    json_object_del(claim, "status");
    json_object_set_new(claim, "apiVersion", json_string("v1"));
    json_object_set_new(claim, "kind", json_string("PersistentVolumeClaim"));
    json_t *meta = json_object_get(claim, "metadata");
    json_t *fresh = json_object();
    const char *kept[] = {"labels", "annotations"};
    for (int k = 0; k < 2; k++) {
      json_t *v = json_object_get(meta, kept[k]);
      if (json_is_object(v))
        json_object_set(fresh, kept[k], v);
    }
    cleanup_free char *name = claim_name(tpl, set, ord);
    json_object_set_new(fresh, "name", json_string(name));
    json_object_set_new(fresh, "namespace", json_string(meta_namespace(set)));
    json_t *labels = json_object_get(fresh, "labels");
    if (labels == NULL) {
      labels = json_object();
      json_object_set_new(fresh, "labels", labels);
    }
    json_object_update(labels, (json_t *)match_labels);
    if (when_deleted && strcmp(when_deleted, "Delete") == 0) {
      json_t *refs = json_array();
      json_array_append_new(refs, cu_controller_ref_new("apps/v1", "StatefulSet", set));
      json_object_set_new(fresh, "ownerReferences", refs);
    }
    json_object_set_new(claim, "metadata", fresh);
    json_array_append_new(claims, claim);
  }
  return claims;
}

/* Sets volume name in spec.volumes to the claim claim_name (replacing a volume of that
 * name, as upstream's updateStorage). */
static void
mount_claim(json_t *spec, const char *volume, const char *claim)
{
  json_t *volumes = json_object_get(spec, "volumes");
  if (!json_is_array(volumes)) {
    volumes = json_array();
    json_object_set_new(spec, "volumes", volumes);
  }
  json_t *vol =
      json_pack("{s:s, s:{s:s}}", "name", volume, "persistentVolumeClaim", "claimName", claim);
  size_t i;
  json_t *v;
  json_array_foreach (volumes, i, v) {
    const char *name = json_string_value(json_object_get(v, "name"));
    if (name && strcmp(name, volume) == 0) {
      json_array_set_new(volumes, i, vol);
      return;
    }
  }
  json_array_append_new(volumes, vol);
}

json_t *
sts_new_pod(const json_t *set, long long ord, const char *revision)
{
  const json_t *tpl = json_object_get(json_object_get(set, "spec"), "template");
  const json_t *tmeta = json_object_get(tpl, "metadata");
  cleanup_free char *name = xasprintf("%s-%lld", meta_name(set), ord);
  char index[24];
  snprintf(index, sizeof index, "%lld", ord);
  json_t *meta = json_pack("{s:s, s:s}", "name", name, "namespace", meta_namespace(set));
  json_t *labels = json_object();
  if (json_is_object(json_object_get(tmeta, "labels")))
    json_object_update(labels, json_object_get(tmeta, "labels"));
  json_object_set_new(labels, STS_LABEL_POD_NAME, json_string(name));
  json_object_set_new(labels, STS_LABEL_POD_INDEX, json_string(index));
  json_object_set_new(labels, STS_LABEL_REVISION, json_string(revision));
  json_object_set_new(meta, "labels", labels);
  const char *copied[] = {"annotations", "finalizers"};
  for (int i = 0; i < 2; i++) {
    json_t *v = json_object_get(tmeta, copied[i]);
    if (v)
      json_object_set_new(meta, copied[i], json_deep_copy(v));
  }
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("apps/v1", "StatefulSet", set));
  json_object_set_new(meta, "ownerReferences", refs);

  json_t *tspec = json_object_get(tpl, "spec");
  json_t *spec = tspec ? json_deep_copy(tspec) : json_object();
  json_object_set_new(spec, "hostname", json_string(name));
  const char *service = cu_str(set, "spec.serviceName");
  if (service && *service)
    json_object_set_new(spec, "subdomain", json_string(service));
  size_t i;
  json_t *claim_tpl;
  json_array_foreach (json_object_get(json_object_get(set, "spec"), "volumeClaimTemplates"), i,
                      claim_tpl) {
    if (meta_name(claim_tpl) == NULL)
      continue;
    cleanup_free char *claim = claim_name(claim_tpl, set, ord);
    mount_claim(spec, meta_name(claim_tpl), claim);
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta,
                   "spec", spec);
}

int
sts_create_claims(struct sts_controller *c, const json_t *set, long long ord, k8c_err *err)
{
  cleanup_json json_t *claims = sts_new_claims(set, ord);
  size_t i;
  json_t *claim;
  json_array_foreach (claims, i, claim) {
    json_t *existing = NULL;
    k8c_err gerr = {0};
    if (client_get(c->client, c->pvc_res, meta_namespace(set), meta_name(claim), &existing,
                   &gerr) == 0) {
      json_decref(existing);
      continue;
    }
    bool missing = gerr.status == 404;
    if (!missing) {
      k8c_err_move(err, &gerr);
      return -1;
    }
    k8c_err_clear(&gerr);
    k8c_err cerr = {0};
    if (client_create(c->client, c->pvc_res, meta_namespace(set), claim, NULL, NULL, &cerr) < 0) {
      if (cerr.status == 409) {
        k8c_err_clear(&cerr);
        continue;
      }
      event_record(c->rec, set, "Warning", "FailedCreate",
                   "create Claim %s for Pod %s-%lld in StatefulSet %s failed error: %s",
                   meta_name(claim), meta_name(set), ord, meta_name(set), cerr.message);
      k8c_err_move(err, &cerr);
      return -1;
    }
    event_record(c->rec, set, "Normal", "SuccessfulCreate",
                 "create Claim %s Pod %s-%lld in StatefulSet %s success", meta_name(claim),
                 meta_name(set), ord, meta_name(set));
  }
  return 0;
}

int
sts_delete_claims(struct sts_controller *c, const json_t *set, long long ord, k8c_err *err)
{
  cleanup_json json_t *claims = sts_new_claims(set, ord);
  size_t i;
  json_t *claim;
  json_array_foreach (claims, i, claim) {
    k8c_err derr = {0};
    if (client_delete(c->client, c->pvc_res, meta_namespace(set), meta_name(claim), NULL, NULL,
                      NULL, &derr) < 0) {
      if (derr.status == 404) {
        k8c_err_clear(&derr);
        continue;
      }
      k8c_err_move(err, &derr);
      return -1;
    }
  }
  return 0;
}
