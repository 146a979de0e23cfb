/* kube_api.h — the few Kubernetes API calls and objects the scenarios share:
 * the benchmark Pod, namespace creation, and reading a pod list.
 *
 * The Pod is the seed web app's nginx template (image, port, probes, requests and
 * limits), so the server stores and serves an object of realistic size. */
#ifndef K8C_BENCH_KUBE_API_H
#define K8C_BENCH_KUBE_API_H

#include "http_client.h"

#include <stddef.h>

/* Writes the Pod JSON for name in namespace_name into out (size bytes). Returns the
 * length, or -1 with err filled if it does not fit. */
int kube_pod_manifest(char *out, size_t size, const char *namespace_name, const char *name,
                      k8c_err *err);

/* The same pod for the scheduling benchmark: label group=g<index % 50>; index % 3 == 1
 * adds required pod anti-affinity on the hostname within its group, index % 3 == 2 a
 * zone topology spread constraint (maxSkew 1, DoNotSchedule) over its group. */
int kube_pod_manifest_sched_mix(char *out, size_t size, const char *namespace_name,
                                const char *name, unsigned long long index, k8c_err *err);

/* Creates the namespace; an existing one (409 AlreadyExists) is fine. */
int kube_ensure_namespace(http_client *client, const char *namespace_name, k8c_err *err);

/* Lists the pods of namespace_name. On success *names (owned by the caller: free each
 * entry and the array) holds the pod names and *count their number; resource_version
 * (if not NULL) receives the list's metadata.resourceVersion (owned by the caller). */
int kube_list_pods(http_client *client, const char *namespace_name, char ***names, size_t *count,
                   char **resource_version, k8c_err *err);

/* Checks that body is a JSON object (starts with '{', ends with '}') holding the field
 * "name":"NAME" and "kind":"Pod", where name_field is the pre-formatted "\"name\":\"NAME\""
 * text (see kube_pod_name_field). A cheap scan, not a parse: no allocation, so it can run
 * on every response of the hot loop for either client. */
int kube_check_pod_body(const buf *body, const char *name_field, size_t name_field_len,
                        k8c_err *err);

/* Writes "name":"NAME" into out (size bytes); returns its length, or -1 with err filled. */
int kube_pod_name_field(char *out, size_t size, const char *name, k8c_err *err);

/* Fills err from a non-success API response (the Status message when there is one). */
int kube_error_from_response(http_client *client, const char *what, long status, k8c_err *err);

#endif
