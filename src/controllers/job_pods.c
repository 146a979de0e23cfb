/* job_pods.c — the Job controller's writes to pods: a pod from the template (generateName
 * JOB- or JOB-INDEX-, the controller ownerReference, the job-tracking finalizer, and for
 * Indexed jobs the completion index as annotation, label, hostname and the
 * JOB_COMPLETION_INDEX variable), deletions that take the finalizer off first (a pod the
 * controller removes is never counted as a failure), and the finalizer's removal. */
#include "apimachinery/meta.h"
#include "controllers/job_internal.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

bool
job_pod_has_finalizer(const json_t *pod)
{
  size_t i;
  json_t *f;
  json_array_foreach (json_object_get(meta_get((json_t *)pod), "finalizers"), i, f) {
    const char *s = json_string_value(f);
    if (s && strcmp(s, JOB_TRACKING_FINALIZER) == 0)
      return true;
  }
  return false;
}

int
job_pod_index(const json_t *pod)
{
  const char *s = json_string_value(json_object_get(meta_annotations(pod), JOB_INDEX_KEY));
  if (s == NULL)
    s = json_string_value(json_object_get(meta_labels(pod), JOB_INDEX_KEY));
  if (s == NULL || *s == '\0')
    return -1;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end != '\0' || v < 0 || v > 1000000000)
    return -1;
  return (int)v;
}

/* Every container (and init container) of spec gets JOB_COMPLETION_INDEX from the
 * annotation, unless it already sets that variable. */
static void
add_index_env(json_t *spec)
{
  const char *lists[] = {"containers", "initContainers"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *ctr;
    json_array_foreach (json_object_get(spec, lists[l]), i, ctr) {
      json_t *env = json_object_get(ctr, "env");
      if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(ctr, "env", env);
      }
      bool present = false;
      size_t k;
      json_t *e;
      json_array_foreach (env, k, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && strcmp(n, "JOB_COMPLETION_INDEX") == 0)
          present = true;
      }
      if (!present)
        json_array_append_new(env,
                              json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", "JOB_COMPLETION_INDEX",
                                        "valueFrom", "fieldRef", "apiVersion", "v1", "fieldPath",
                                        "metadata.annotations['" JOB_INDEX_KEY "']"));
    }
  }
}

/* The pod to create for job (index < 0: NonIndexed). Caller owns it. */
static json_t *
pod_from_template(const json_t *job, int index)
{
  const json_t *tpl = json_object_get(json_object_get(job, "spec"), "template");
  const json_t *tmeta = json_object_get(tpl, "metadata");
  json_t *meta = json_object();
  cleanup_free char *prefix =
      index >= 0 ? xasprintf("%s-%d-", meta_name(job), index) : xasprintf("%s-", meta_name(job));
  json_object_set_new(meta, "generateName", json_string(prefix));
  json_object_set_new(meta, "namespace", json_string(meta_namespace(job)));
  json_t *labels = json_deep_copy(json_object_get(tmeta, "labels"));
  json_t *annotations = json_deep_copy(json_object_get(tmeta, "annotations"));
  json_t *finalizers = json_deep_copy(json_object_get(tmeta, "finalizers"));
  if (!json_is_object(labels)) {
    json_decref(labels);
    labels = json_object();
  }
  if (!json_is_object(annotations)) {
    json_decref(annotations);
    annotations = json_object();
  }
  if (!json_is_array(finalizers)) {
    json_decref(finalizers);
    finalizers = json_array();
  }
  json_array_append_new(finalizers, json_string(JOB_TRACKING_FINALIZER));
  json_t *spec = json_deep_copy(json_object_get(tpl, "spec"));
  if (!json_is_object(spec)) {
    json_decref(spec);
    spec = json_object();
  }
  if (index >= 0) {
    char text[24];
    snprintf(text, sizeof text, "%d", index);
    json_object_set_new(annotations, JOB_INDEX_KEY, json_string(text));
    json_object_set_new(labels, JOB_INDEX_KEY, json_string(text));
    if (json_object_get(spec, "hostname") == NULL) {
      cleanup_free char *host = xasprintf("%s-%d", meta_name(job), index);
      json_object_set_new(spec, "hostname", json_string(host));
    }
    add_index_env(spec);
  }
  json_object_set_new(meta, "labels", labels);
  if (json_object_size(annotations) > 0)
    json_object_set_new(meta, "annotations", annotations);
  else
    json_decref(annotations);
  json_object_set_new(meta, "finalizers", finalizers);
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("batch/v1", "Job", job));
  json_object_set_new(meta, "ownerReferences", refs);
  return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta,
                   "spec", spec);
}

int
job_create_pods(struct job_controller *c, const json_t *job, const char *key, int count,
                const int *indexes, k8c_err *err)
{
  int failures = 0;
  for (int i = 0; i < count; i++) {
    cleanup_json json_t *pod = pod_from_template(job, indexes ? indexes[i] : -1);
    json_t *created = NULL;
    k8c_err cerr = {0};
    if (client_create(c->client, c->pod_res, meta_namespace(job), pod, NULL, &created, &cerr) < 0) {
      event_record(c->rec, job, "Warning", "FailedCreate", "Error creating: %s", cerr.message);
      if (err->status == 0)
        k8c_err_move(err, &cerr);
      k8c_err_clear(&cerr);
      expectations_creation_observed(c->exp, key);
      failures++;
      continue;
    }
    event_record(c->rec, job, "Normal", "SuccessfulCreate", "Created pod: %s", meta_name(created));
    json_decref(created);
  }
  return failures;
}

int
job_remove_finalizer(struct job_controller *c, const json_t *pod, k8c_err *err)
{
  if (!job_pod_has_finalizer(pod))
    return 0;
  cleanup_json json_t *patch = json_pack(
      "{s:{s:[s]}}", "metadata", "$deleteFromPrimitiveList/finalizers", JOB_TRACKING_FINALIZER);
  k8c_err perr = {0};
  if (client_patch(c->client, c->pod_res, meta_namespace(pod), meta_name(pod),
                   "application/strategic-merge-patch+json", patch, NULL, NULL, &perr) < 0) {
    if (perr.status == 404) {
      k8c_err_clear(&perr);
      return 0;
    }
    k8c_err_move(err, &perr);
    return -1;
  }
  pthread_mutex_lock(&c->lock);
  long long *when = xmalloc(sizeof *when);
  *when = cu_monotonic_ms();
  free(hashmap_put(c->finalizers_removed, meta_uid(pod), when));
  pthread_mutex_unlock(&c->lock);
  return 0;
}

int
job_delete_pod(struct job_controller *c, const json_t *job, const json_t *pod, k8c_err *err)
{
  if (job_remove_finalizer(c, pod, err) < 0)
    return -1;
  k8c_err derr = {0};
  if (client_delete(c->client, c->pod_res, meta_namespace(pod), meta_name(pod), NULL, NULL, NULL,
                    &derr) < 0) {
    if (derr.status == 404) {
      k8c_err_clear(&derr);
      return 0;
    }
    event_record(c->rec, job, "Warning", "FailedDelete", "Error deleting: %s", derr.message);
    k8c_err_move(err, &derr);
    return -1;
  }
  event_record(c->rec, job, "Normal", "SuccessfulDelete", "Deleted pod: %s", meta_name(pod));
  return 0;
}
