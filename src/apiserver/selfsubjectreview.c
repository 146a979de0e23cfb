/* selfsubjectreview.c — POST /apis/authentication.k8s.io/{v1,v1beta1,v1alpha1}/
 * selfsubjectreviews, the question `kubectl auth whoami` asks: "who am I to you?". The
 * answer is the request's own identity (user and groups), nothing is stored. */
#include "apiserver/server_internal.h"

#include "apiserver/response.h"
#include "lib/mem.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <string.h>

#define SSR_PREFIX "/apis/authentication.k8s.io/"
#define SSR_SUFFIX "/selfsubjectreviews"

/* The served version named by path, or NULL if path is not a SelfSubjectReview path. */
static const char *
review_version(const char *path)
{
  static const char *const versions[] = {"v1", "v1beta1", "v1alpha1", NULL};
  if (strncmp(path, SSR_PREFIX, strlen(SSR_PREFIX)) != 0)
    return NULL;
  const char *v = path + strlen(SSR_PREFIX);
  for (int i = 0; versions[i]; i++) {
    size_t n = strlen(versions[i]);
    if (strncmp(v, versions[i], n) == 0 && strcmp(v + n, SSR_SUFFIX) == 0)
      return versions[i];
  }
  return NULL;
}

int
ssr_handle(struct apiserver *s, struct api_request *r, const char *path, int *ret)
{
  (void)s;
  const char *version = review_version(path);
  if (version == NULL)
    return 0;
  k8c_err err = {0};
  if (strcmp(r->method, "POST") != 0) {
    k8c_error(&err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
              "the server does not allow this method on the requested resource");
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  /* Every authenticated user is in system:authenticated, as upstream lists it. */
  json_t *groups = json_array();
  bool listed = false;
  for (int i = 0; i < r->who->group_count; i++) {
    json_array_append_new(groups, json_string(r->who->groups[i]));
    listed = listed || strcmp(r->who->groups[i], "system:authenticated") == 0;
  }
  if (!listed)
    json_array_append_new(groups, json_string("system:authenticated"));
  cleanup_free char *api_version = xasprintf("authentication.k8s.io/%s", version);
  cleanup_json json_t *review =
      json_pack("{s:s,s:s,s:{s:n},s:{s:{s:s,s:o}}}", "kind", "SelfSubjectReview", "apiVersion",
                api_version, "metadata", "creationTimestamp", "status", "userInfo", "username",
                r->who->user, "groups", groups);
  struct negotiated n = {0};
  if (response_negotiate(r, false, &n, &err) < 0) {
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  *ret = response_json(r, 201, review, &n, NULL);
  return 1;
}
