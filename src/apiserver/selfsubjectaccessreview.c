/* selfsubjectaccessreview.c — POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews,
 * the question `kubectl auth can-i` asks: "may I do this?". The answer runs the same
 * authorizer as a real request would, for the requesting identity, and is returned as
 * the review object with status.allowed filled (nothing is stored). */
#include "apiserver/server_internal.h"

#include "apimachinery/protobuf.h"
#include "apiserver/response.h"
#include "lib/mem.h"

#include <microhttpd.h>
#include <string.h>

#define SSAR_PATH "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

static enum api_verb
verb_from_name(const char *v)
{
  static const char *const names[] = {"",       "get",   "list",   "watch",           "create",
                                      "update", "patch", "delete", "deletecollection"};
  for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
    if (strcmp(v, names[i]) == 0)
      return (enum api_verb)i;
  return VERB_NONE;
}

static void
copy_attr(char *dst, size_t cap, const json_t *attrs, const char *key)
{
  const char *v = json_string_value(json_object_get(attrs, key));
  snprintf(dst, cap, "%s", v ? v : "");
}

int
ssar_handle(struct apiserver *s, struct api_request *r, const char *path, int *ret)
{
  if (strcmp(path, SSAR_PATH) != 0)
    return 0;
  k8c_err err = {0};
  if (strcmp(r->method, "POST") != 0) {
    k8c_error(&err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
              "the server does not allow this method on the requested resource");
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  /* kubectl 1.32+ sends the review as Kubernetes protobuf, older ones as JSON. */
  json_error_t jerr;
  const char *ctype = request_header(r, "Content-Type");
  bool protobuf =
      ctype && strncmp(ctype, K8S_PROTOBUF_CONTENT_TYPE, strlen(K8S_PROTOBUF_CONTENT_TYPE)) == 0;
  cleanup_json json_t *review =
      protobuf ? k8s_protobuf_decode(r->body.data, r->body.len, &err)
               : json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &jerr);
  k8c_err_clear(&err);
  const json_t *spec = json_object_get(review, "spec");
  const json_t *res_attrs = json_object_get(spec, "resourceAttributes");
  const json_t *nonres_attrs = json_object_get(spec, "nonResourceAttributes");
  if (!json_is_object(review) || (!res_attrs && !nonres_attrs)) {
    k8c_error(
        &err, 422, K8C_REASON_INVALID,
        "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: "
        "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes "
        "must be specified");
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  struct request_info ri = {0};
  const json_t *attrs = res_attrs ? res_attrs : nonres_attrs;
  const char *verb = json_string_value(json_object_get(attrs, "verb"));
  ri.verb = verb_from_name(verb ? verb : "");
  ri.is_resource = res_attrs != NULL;
  if (res_attrs) {
    copy_attr(ri.group, sizeof ri.group, res_attrs, "group");
    copy_attr(ri.version, sizeof ri.version, res_attrs, "version");
    copy_attr(ri.namespace_, sizeof ri.namespace_, res_attrs, "namespace");
    copy_attr(ri.resource, sizeof ri.resource, res_attrs, "resource");
    copy_attr(ri.subresource, sizeof ri.subresource, res_attrs, "subresource");
    copy_attr(ri.name, sizeof ri.name, res_attrs, "name");
  }
  /* A verb outside the API's (e.g. "impersonate", "escalate") is allowed only by a
   * wildcard, which system:masters has. */
  bool allowed = false;
  if (ri.verb != VERB_NONE || !ri.is_resource) {
    allowed = authorize(s, r->who, &ri, &err) == 0;
  } else {
    for (int i = 0; i < r->who->group_count; i++)
      allowed = allowed || strcmp(r->who->groups[i], "system:masters") == 0;
  }
  k8c_err_clear(&err);
  json_object_set_new(review, "apiVersion", json_string("authorization.k8s.io/v1"));
  json_object_set_new(review, "kind", json_string("SelfSubjectAccessReview"));
  if (!json_is_object(json_object_get(review, "metadata")))
    json_object_set_new(review, "metadata", json_object());
  json_object_set_new(json_object_get(review, "metadata"), "creationTimestamp", json_null());
  json_object_set_new(review, "status", json_pack("{s:b}", "allowed", allowed));
  struct negotiated n = {0};
  if (response_negotiate(r, false, &n, &err) < 0) {
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  *ret = response_json(r, 201, review, &n, NULL);
  return 1;
}
