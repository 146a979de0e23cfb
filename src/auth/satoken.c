/* satoken.c — ServiceAccount token claims and their checks (see satoken.h). The
 * signature itself is jwt.c's; this file decides what a valid token says. */
#include "auth/satoken.h"

#include "apimachinery/meta.h"
#include "auth/jwt.h"
#include "lib/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* go-jose's default leeway, which upstream's validator uses for nbf and exp. */
#define LEEWAY_SECONDS 60

struct satoken_issuer {
  struct jwt_signer *signer;
  char *issuer;
};

struct satoken_issuer *
satoken_issuer_new(const char *key_pem, const char *issuer, k8c_err *err)
{
  struct jwt_signer *signer = jwt_signer_new(key_pem, err);
  if (signer == NULL)
    return NULL;
  struct satoken_issuer *t = xcalloc(1, sizeof *t);
  t->signer = signer;
  t->issuer = xstrdup(issuer && issuer[0] ? issuer : SATOKEN_DEFAULT_ISSUER);
  return t;
}

void
satoken_issuer_free(struct satoken_issuer *t)
{
  if (t == NULL)
    return;
  jwt_signer_free(t->signer);
  free(t->issuer);
  free(t);
}

const char *
satoken_issuer_name(const struct satoken_issuer *t)
{
  return t->issuer;
}

char *
satoken_issue(const struct satoken_issuer *t, const struct satoken_request *req, k8c_err *err)
{
  json_t *aud = json_array();
  for (size_t i = 0; req->audiences && req->audiences[i]; i++)
    json_array_append_new(aud, json_string(req->audiences[i]));
  if (json_array_size(aud) == 0)
    json_array_append_new(aud, json_string(t->issuer));
  json_t *k8s = json_pack("{s:s,s:{s:s,s:s}}", "namespace", req->ns, "serviceaccount", "name",
                          req->sa_name, "uid", req->sa_uid ? req->sa_uid : "");
  if (req->bound_kind && req->bound_kind[0]) {
    const char *field = strcmp(req->bound_kind, "Pod") == 0 ? "pod" : "secret";
    json_object_set_new(k8s, field,
                        json_pack("{s:s,s:s}", "name", req->bound_name ? req->bound_name : "",
                                  "uid", req->bound_uid ? req->bound_uid : ""));
  }
  cleanup_free char *sub = xasprintf("system:serviceaccount:%s:%s", req->ns, req->sa_name);
  cleanup_free char *jti = meta_new_uid();
  json_int_t now = (json_int_t)req->now;
  cleanup_json json_t *claims =
      json_pack("{s:o,s:I,s:I,s:s,s:s,s:o,s:I,s:s}", "aud", aud, "exp",
                now + (json_int_t)req->expiration_seconds, "iat", now, "iss", t->issuer, "jti", jti,
                "kubernetes.io", k8s, "nbf", now, "sub", sub);
  if (claims == NULL) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "serviceaccount token: building the claims");
    return NULL;
  }
  return jwt_sign(t->signer, claims, err);
}

static int
invalid(k8c_err *err, const char *why)
{
  return k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, "invalid bearer token: %s", why);
}

static int
copy_field(char *out, size_t size, const json_t *v)
{
  const char *s = json_string_value(v);
  if (s == NULL || strlen(s) >= size)
    return -1;
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

static bool
audience_ok(const json_t *aud, const char *want)
{
  if (json_is_string(aud))
    return strcmp(json_string_value(aud), want) == 0;
  size_t i;
  json_t *a;
  json_array_foreach (aud, i, a) {
    if (json_is_string(a) && strcmp(json_string_value(a), want) == 0)
      return true;
  }
  return false;
}

int
satoken_validate(const struct satoken_issuer *t, const char *token, time_t now,
                 struct satoken_subject *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  cleanup_json json_t *claims = jwt_verify(t->signer, token, strlen(token), err);
  if (claims == NULL)
    return -1;
  const char *iss = json_string_value(json_object_get(claims, "iss"));
  if (iss == NULL || strcmp(iss, t->issuer) != 0)
    return invalid(err, "unknown issuer");
  if (!audience_ok(json_object_get(claims, "aud"), t->issuer))
    return invalid(err, "token audiences do not include the API server");
  json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
  if (!json_is_integer(exp) || json_integer_value(exp) + LEEWAY_SECONDS < (json_int_t)now)
    return invalid(err, "token has expired");
  if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > (json_int_t)now + LEEWAY_SECONDS))
    return invalid(err, "token is not valid yet");
  out->expires = (time_t)json_integer_value(exp);

  json_t *k8s = json_object_get(claims, "kubernetes.io");
  json_t *sa = json_object_get(k8s, "serviceaccount");
  if (copy_field(out->ns, sizeof out->ns, json_object_get(k8s, "namespace")) < 0 ||
      copy_field(out->sa_name, sizeof out->sa_name, json_object_get(sa, "name")) < 0 ||
      copy_field(out->sa_uid, sizeof out->sa_uid, json_object_get(sa, "uid")) < 0)
    return invalid(err, "malformed kubernetes.io claim");
  char sub[600];
  snprintf(sub, sizeof sub, "system:serviceaccount:%s:%s", out->ns, out->sa_name);
  const char *claimed = json_string_value(json_object_get(claims, "sub"));
  if (claimed == NULL || strcmp(claimed, sub) != 0)
    return invalid(err, "subject does not match the service account");
  static const struct {
    const char *field, *kind;
  } bound[] = {{"pod", "Pod"}, {"secret", "Secret"}};
  for (size_t i = 0; i < sizeof bound / sizeof bound[0]; i++) {
    json_t *ref = json_object_get(k8s, bound[i].field);
    if (ref == NULL)
      continue;
    if (copy_field(out->bound_name, sizeof out->bound_name, json_object_get(ref, "name")) < 0 ||
        copy_field(out->bound_uid, sizeof out->bound_uid, json_object_get(ref, "uid")) < 0)
      return invalid(err, "malformed bound object reference");
    snprintf(out->bound_kind, sizeof out->bound_kind, "%s", bound[i].kind);
    break;
  }
  return 0;
}
