/* probe_http.c — the httpGet probe: GET scheme://host:port/path from the node with the
 * probe's headers (Host included), kube-probe's User-Agent, no certificate checks for
 * HTTPS, redirects followed; 200–399 is success. Failures carry Go's error words. */
#include "kubelet/probes/probe.h"

#include "apiserver/version.h"
#include "lib/mem.h"

#include <curl/curl.h>
#include <string.h>

/* The probe reads at most 10 KiB of body, like upstream; the rest is dropped. */
static size_t
discard_body(char *data, size_t size, size_t n, void *ctx)
{
  return size * n;
}

static char *
probe_url(const json_t *h, const struct probe_target *t, int port)
{
  const char *scheme = json_string_value(json_object_get(h, "scheme"));
  const char *host = json_string_value(json_object_get(h, "host"));
  const char *path = json_string_value(json_object_get(h, "path"));
  bool v6 = host == NULL && t->pod_ip && strchr(t->pod_ip, ':');
  host = host && host[0] ? host : t->pod_ip;
  if (path == NULL || path[0] == '\0')
    path = "/";
  return xasprintf("%s://%s%s%s:%d%s%s", scheme && strcmp(scheme, "HTTPS") == 0 ? "https" : "http",
                   v6 ? "[" : "", host ? host : "", v6 ? "]" : "", port, path[0] == '/' ? "" : "/",
                   path);
}

enum probe_result
probe_http_run(const json_t *h, const struct probe_target *t, int timeout_ms, char **message)
{
  int port = probe_port(json_object_get(h, "port"), t->container);
  if (port < 0) {
    *message = xstrdup("httpGet probe: invalid port");
    return PROBE_FAILURE;
  }
  cleanup_free char *url = probe_url(h, t, port);
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    *message = xstrdup("httpGet probe: cannot create an HTTP client");
    return PROBE_UNKNOWN;
  }
  struct curl_slist *headers = NULL;
  bool user_agent = false, accept = false;
  size_t i;
  json_t *hdr;
  json_array_foreach (json_object_get(h, "httpHeaders"), i, hdr) {
    const char *name = json_string_value(json_object_get(hdr, "name"));
    const char *value = json_string_value(json_object_get(hdr, "value"));
    if (name == NULL)
      continue;
    user_agent = user_agent || strcasecmp(name, "User-Agent") == 0;
    accept = accept || strcasecmp(name, "Accept") == 0;
    cleanup_free char *line = xasprintf("%s: %s", name, value ? value : "");
    headers = curl_slist_append(headers, line);
  }
  if (!user_agent) {
    /* kube-probe/<major>.<minor>, from the Kubernetes version the server reports. */
    const char *v = &K8C_GIT_VERSION[1]; /* past the "v" */
    const char *dot = strchr(strchr(v, '.') + 1, '.');
    cleanup_free char *ua = xasprintf("User-Agent: kube-probe/%.*s", (int)(dot - v), v);
    headers = curl_slist_append(headers, ua);
  }
  if (!accept)
    headers = curl_slist_append(headers, "Accept: */*");
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    *message = xasprintf("Get \"%s\": context deadline exceeded (Client.Timeout exceeded while "
                         "awaiting headers)",
                         url);
    return PROBE_FAILURE;
  }
  if (rc == CURLE_COULDNT_CONNECT) {
    *message = xasprintf("Get \"%s\": dial tcp %s:%d: connect: connection refused", url,
                         t->pod_ip ? t->pod_ip : "", port);
    return PROBE_FAILURE;
  }
  if (rc == CURLE_TOO_MANY_REDIRECTS)
    return PROBE_SUCCESS; /* upstream: a redirect loop still answered */
  if (rc != CURLE_OK) {
    *message = xasprintf("Get \"%s\": %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return PROBE_FAILURE;
  }
  if (status >= 200 && status < 400)
    return PROBE_SUCCESS;
  *message = xasprintf("HTTP probe failed with statuscode: %ld", status);
  return PROBE_FAILURE;
}
