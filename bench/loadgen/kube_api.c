/* kube_api.c — the Pod manifest and shared API calls of the scenarios (see kube_api.h).
 *
 * The manifest is printed from a fixed template rather than built with jansson, so
 * creating it costs the generator next to nothing on the hot path. */
#include "kube_api.h"

#include "lib/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char POD_TEMPLATE[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
    "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27-alpine\","
    "\"ports\":[{\"containerPort\":80}],"
    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},"
    "\"initialDelaySeconds\":2,\"periodSeconds\":5},"
    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80},"
    "\"initialDelaySeconds\":5,\"periodSeconds\":10},"
    "\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"},"
    "\"limits\":{\"cpu\":\"200m\",\"memory\":\"128Mi\"}}}]}}";

int
kube_pod_manifest(char *out, size_t size, const char *namespace_name, const char *name,
                  k8c_err *err)
{
  int len = snprintf(out, size, POD_TEMPLATE, name, namespace_name);
  if (len < 0 || (size_t)len >= size)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pod manifest for %s does not fit", name);
  return len;
}

int
kube_pod_manifest_sched_mix(char *out, size_t size, const char *namespace_name, const char *name,
                            unsigned long long index, k8c_err *err)
{
  unsigned group = (unsigned)(index % 50);
  char extra[512] = "";
  if (index % 3 == 1)
    snprintf(
        extra, sizeof extra,
        ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
        "[{\"labelSelector\":{\"matchLabels\":{\"group\":\"g%u\"}},\"topologyKey\":"
        "\"kubernetes.io/hostname\"}]}}",
        group);
  else if (index % 3 == 2)
    snprintf(extra, sizeof extra,
             ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
             "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"DoNotSchedule\","
             "\"labelSelector\":{\"matchLabels\":{\"group\":\"g%u\"}}}]",
             group);
  int len =
      snprintf(out, size,
               "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
               "\"namespace\":\"%s\",\"labels\":{\"app\":\"web\",\"group\":\"g%u\"}},"
               "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27-alpine\","
               "\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"}}}]%s}}",
               name, namespace_name, group, extra);
  if (len < 0 || (size_t)len >= size)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pod manifest for %s does not fit", name);
  return len;
}

int
kube_ensure_namespace(http_client *client, const char *namespace_name, k8c_err *err)
{
  cleanup_free char *body =
      xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}",
                namespace_name);
  long status = http_client_request(client, "POST", "/api/v1/namespaces", body, strlen(body), err);
  if (status < 0)
    return -1;
  if (status == 201 || status == 200 || status == 409)
    return 0;
  return kube_error_from_response(client, "creating namespace", status, err);
}

int
kube_list_pods(http_client *client, const char *namespace_name, char ***names, size_t *count,
               char **resource_version, k8c_err *err)
{
  *names = NULL;
  *count = 0;
  cleanup_free char *path = xasprintf("/api/v1/namespaces/%s/pods", namespace_name);
  long status = http_client_request(client, "GET", path, NULL, 0, err);
  if (status < 0)
    return -1;
  if (status != 200)
    return kube_error_from_response(client, "listing pods", status, err);
  json_error_t parse_error;
  cleanup_json json_t *list = json_loadb(client->body.data, client->body.len, 0, &parse_error);
  if (list == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pod list is not JSON: %s", parse_error.text);
  json_t *items = json_object_get(list, "items");
  if (!json_is_array(items))
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pod list has no items array");
  size_t n = json_array_size(items);
  char **out = xcalloc(n + 1, sizeof(*out));
  for (size_t i = 0; i < n; i++) {
    const char *name = json_string_value(
        json_object_get(json_object_get(json_array_get(items, i), "metadata"), "name"));
    out[i] = xstrdup(name ? name : "");
  }
  if (resource_version) {
    const char *rv =
        json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
    *resource_version = rv ? xstrdup(rv) : NULL;
  }
  *names = out;
  *count = n;
  return 0;
}

int
kube_check_pod_body(const buf *body, const char *name_field, size_t name_field_len, k8c_err *err)
{
  const char *data = body->data;
  size_t len = body->len;
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\r'))
    len--;
  if (len < 2 || data[0] != '{' || data[len - 1] != '}')
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "response is not a JSON object: %.80s",
                     len ? data : "(empty body)");
  if (memmem(data, len, name_field, name_field_len) == NULL)
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "response does not name the pod (%.*s): %.200s",
                     (int)name_field_len, name_field, data);
  if (memmem(data, len, "\"kind\":\"Pod\"", 12) == NULL)
    return k8c_error(err, 502, K8C_REASON_INTERNAL, "response is not a Pod: %.200s", data);
  return 0;
}

int
kube_pod_name_field(char *out, size_t size, const char *name, k8c_err *err)
{
  int len = snprintf(out, size, "\"name\":\"%s\"", name);
  if (len < 0 || (size_t)len >= size)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "pod name %s too long", name);
  return len;
}

int
kube_error_from_response(http_client *client, const char *what, long status, k8c_err *err)
{
  cleanup_json json_t *status_object = json_loadb(client->body.data, client->body.len, 0, NULL);
  const char *message = json_string_value(json_object_get(status_object, "message"));
  if (message == NULL)
    message = client->body.len ? buf_cstr(&client->body) : "(empty body)";
  return k8c_error(err, (int)status, K8C_REASON_INTERNAL, "%s: HTTP %ld: %.300s", what, status,
                   message);
}
