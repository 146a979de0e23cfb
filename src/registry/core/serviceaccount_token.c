/* serviceaccount_token.c — TokenRequest and token authentication (see
 * serviceaccount_token.h). Objects are read from the watch cache, as upstream's
 * authenticator reads its informers; nothing here writes to the store. */
#include "registry/core/serviceaccount_token.h"

#include "api/resource.h"
#include "lib/mem.h"
#include "registry/registry.h"
#include "registry/store_internal.h"
#include "registry/strategy_util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The object ns/name of a core/v1 resource from the watch cache (new reference), or NULL. */
static json_t *
cached_core(struct registry *reg, const char *plural, const char *ns, const char *name)
{
  return store_cached_object(reg, api_resource_find("", "v1", plural), ns, name);
}

static void
rfc3339(time_t t, char out[32])
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
invalid_spec(k8c_err *err, const char *name, const char *field, json_int_t value,
             const char *detail)
{
  k8c_error(err, 422, K8C_REASON_INVALID,
            "TokenRequest.authentication.k8s.io \"%s\" is invalid: %s: Invalid value: %lld: %s",
            name, field, (long long)value, detail);
  k8c_err_add_cause(err, "FieldValueInvalid", field, "Invalid value: %lld: %s", (long long)value,
                    detail);
  return -1;
}

/* The bound object named by spec.boundObjectRef, checked as upstream checks it. */
static int
check_bound(struct registry *reg, const char *ns, const char *sa_name, const json_t *ref,
            const char **kind_out, json_t **obj_out, k8c_err *err)
{
  *obj_out = NULL;
  *kind_out = NULL;
  if (ref == NULL || json_is_null(ref))
    return 0;
  const char *kind = json_string_value(json_object_get(ref, "kind"));
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *uid = json_string_value(json_object_get(ref, "uid"));
  const char *plural = NULL;
  if (kind && strcmp(kind, "Pod") == 0)
    plural = "pods";
  else if (kind && strcmp(kind, "Secret") == 0)
    plural = "secrets";
  if (plural == NULL)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "cannot bind token to object of type %s",
                     kind ? kind : "");
  if (name == NULL || name[0] == '\0')
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "TokenRequest.authentication.k8s.io \"%s\" is invalid: "
                     "spec.boundObjectRef.name: Required value",
                     sa_name);
  json_t *obj = cached_core(reg, plural, ns, name);
  if (obj == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "%s \"%s\" not found", plural, name);
  const char *have_uid = obj_str(obj, "metadata.uid");
  if (uid && uid[0] && (have_uid == NULL || strcmp(uid, have_uid) != 0)) {
    json_decref(obj);
    return k8c_error(err, 409, K8C_REASON_CONFLICT,
                     "Operation cannot be fulfilled on %s \"%s\": the UID in the bound object "
                     "reference (%s) does not match the UID in record. The object might have "
                     "been deleted and then recreated",
                     plural, name, uid);
  }
  if (strcmp(plural, "pods") == 0) {
    const char *pod_sa = obj_str(obj, "spec.serviceAccountName");
    if (pod_sa == NULL || strcmp(pod_sa, sa_name) != 0) {
      json_decref(obj);
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "cannot bind token for serviceaccount \"%s\" to pod running with different "
                       "serviceaccount name.",
                       sa_name);
    }
  }
  *kind_out = kind;
  *obj_out = obj;
  return 0;
}

int
registry_token_request(struct registry *reg, const char *ns, const char *name, const json_t *body,
                       json_t **out, k8c_err *err)
{
  *out = NULL;
  if (reg->token_issuer == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
  const char *kind = json_string_value(json_object_get(body, "kind"));
  if (!json_is_object(body) || (kind && strcmp(kind, "TokenRequest") != 0))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "the body must be a TokenRequest");
  cleanup_json json_t *sa = cached_core(reg, "serviceaccounts", ns, name);
  if (sa == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "serviceaccounts \"%s\" not found", name);

  json_t *spec = json_object_get(body, "spec");
  json_t *exp_v = json_object_get(spec, "expirationSeconds");
  json_int_t expiration =
      json_is_integer(exp_v) ? json_integer_value(exp_v) : SATOKEN_DEFAULT_EXPIRATION_SECONDS;
  if (expiration < SATOKEN_MIN_EXPIRATION_SECONDS)
    return invalid_spec(err, name, "spec.expirationSeconds", expiration,
                        "may not specify a duration less than 10 minutes");
  if (expiration > SATOKEN_MAX_EXPIRATION_SECONDS)
    return invalid_spec(err, name, "spec.expirationSeconds", expiration,
                        "may not specify a duration larger than 2^32 seconds");

  const char *bound_kind = NULL;
  cleanup_json json_t *bound = NULL;
  json_t *ref = json_object_get(spec, "boundObjectRef");
  if (check_bound(reg, ns, name, ref, &bound_kind, &bound, err) < 0)
    return -1;

  json_t *aud_in = json_object_get(spec, "audiences");
  size_t naud = json_array_size(aud_in);
  const char **audiences = xcalloc(naud + 1, sizeof *audiences);
  for (size_t i = 0; i < naud; i++)
    audiences[i] = json_string_value(json_array_get(aud_in, i));
  for (size_t i = 0; i < naud; i++)
    if (audiences[i] == NULL || audiences[i][0] == '\0') {
      free(audiences);
      return k8c_error(err, 422, K8C_REASON_INVALID,
                       "TokenRequest.authentication.k8s.io \"%s\" is invalid: spec.audiences[%zu]: "
                       "Required value",
                       name, i);
    }
  json_int_t lifetime = expiration;
  if (expiration == SATOKEN_KUBELET_DEFAULT_SECONDS && bound_kind && strcmp(bound_kind, "Pod") == 0)
    lifetime = SATOKEN_EXTENDED_SECONDS;
  time_t now = time(NULL);
  struct satoken_request req = {
      .ns = ns,
      .sa_name = name,
      .sa_uid = obj_str(sa, "metadata.uid"),
      .audiences = audiences,
      .expiration_seconds = lifetime,
      .bound_kind = bound_kind,
      .bound_name = bound ? obj_str(bound, "metadata.name") : NULL,
      .bound_uid = bound ? obj_str(bound, "metadata.uid") : NULL,
      .now = now,
  };
  cleanup_free char *token = satoken_issue(reg->token_issuer, &req, err);
  free(audiences);
  if (token == NULL)
    return -1;

  json_t *aud_out =
      naud ? json_deep_copy(aud_in) : json_pack("[s]", satoken_issuer_name(reg->token_issuer));
  json_t *spec_out = json_pack("{s:o,s:I}", "audiences", aud_out, "expirationSeconds", expiration);
  if (bound)
    json_object_set_new(spec_out, "boundObjectRef",
                        json_pack("{s:s,s:s,s:s,s:s}", "kind", bound_kind, "apiVersion", "v1",
                                  "name", obj_str(bound, "metadata.name"), "uid",
                                  obj_str(bound, "metadata.uid")));
  char created[32], expires[32];
  rfc3339(now, created);
  rfc3339(now + (time_t)lifetime, expires);
  *out = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:o,s:{s:s,s:s}}", "kind", "TokenRequest",
                   "apiVersion", "authentication.k8s.io/v1", "metadata", "name", name, "namespace",
                   ns, "creationTimestamp", created, "spec", spec_out, "status", "token", token,
                   "expirationTimestamp", expires);
  explicit_bzero(token, strlen(token));
  return 0;
}

static int
invalidated(k8c_err *err, const char *why)
{
  return k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, "invalid bearer token: %s", why);
}

int
registry_token_authenticate(struct registry *reg, const char *token, struct satoken_subject *who,
                            k8c_err *err)
{
  if (reg->token_issuer == NULL)
    return invalidated(err, "no service account token issuer");
  time_t now = time(NULL);
  if (satoken_validate(reg->token_issuer, token, now, who, err) < 0)
    return -1;
  cleanup_json json_t *sa = cached_core(reg, "serviceaccounts", who->ns, who->sa_name);
  const char *sa_uid = sa ? obj_str(sa, "metadata.uid") : NULL;
  if (sa_uid == NULL || strcmp(sa_uid, who->sa_uid) != 0)
    return invalidated(err, "service account token has been invalidated");
  if (who->bound_kind[0] == '\0')
    return 0;
  const char *plural = strcmp(who->bound_kind, "Pod") == 0 ? "pods" : "secrets";
  cleanup_json json_t *bound = cached_core(reg, plural, who->ns, who->bound_name);
  const char *uid = bound ? obj_str(bound, "metadata.uid") : NULL;
  if (uid == NULL || strcmp(uid, who->bound_uid) != 0)
    return invalidated(err, "the bound object of the token no longer exists");
  const char *deleting = obj_str(bound, "metadata.deletionTimestamp");
  if (deleting != NULL) {
    struct tm tm = {0};
    if (strptime(deleting, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL && timegm(&tm) < now)
      return invalidated(err, "the bound object of the token is being deleted");
  }
  return 0;
}
