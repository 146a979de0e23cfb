/* env.c — builds a container's environment from envFrom and env as the kubelet does.
 * The list keeps first-definition order with later definitions overwriting in place, so
 * a variable redefined by env keeps its envFrom position, exactly like upstream's
 * map-then-ordered-slice result seen by the process. */
#include "kubelet/env.h"

#include "apimachinery/quantity.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <nettle/base64.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---------- the list ---------- */

static void
env_set(struct env_list *env, const char *name, const char *value)
{
  for (size_t i = 0; i < env->len; i++) {
    if (strcmp(env->vars[i].name, name) == 0) {
      free(env->vars[i].value);
      env->vars[i].value = xstrdup(value);
      return;
    }
  }
  env->vars = xrealloc(env->vars, (env->len + 1) * sizeof env->vars[0]);
  env->vars[env->len].name = xstrdup(name);
  env->vars[env->len].value = xstrdup(value);
  env->len++;
}

const char *
env_list_get(const struct env_list *env, const char *name)
{
  for (size_t i = 0; i < env->len; i++)
    if (strcmp(env->vars[i].name, name) == 0)
      return env->vars[i].value;
  return NULL;
}

void
env_list_clear(struct env_list *env)
{
  if (env == NULL)
    return;
  for (size_t i = 0; i < env->len; i++) {
    free(env->vars[i].name);
    free(env->vars[i].value);
  }
  free(env->vars);
  env->vars = NULL;
  env->len = 0;
}

char **
env_list_to_strv(const struct env_list *env)
{
  char **strv = xcalloc(env->len + 1, sizeof *strv);
  for (size_t i = 0; i < env->len; i++)
    strv[i] = xasprintf("%s=%s", env->vars[i].name, env->vars[i].value);
  return strv;
}

void
env_strv_free(char **strv)
{
  if (strv == NULL)
    return;
  for (char **p = strv; *p; p++)
    free(*p);
  free(strv);
}

/* ---------- $(VAR) expansion ---------- */

char *
env_expand(const char *s, const struct env_list *env)
{
  buf out = {0};
  for (const char *p = s; *p;) {
    if (p[0] != '$' || p[1] == '\0') {
      buf_append(&out, p, 1);
      p++;
      continue;
    }
    if (p[1] == '$') { /* an escaped dollar */
      buf_append(&out, "$", 1);
      p += 2;
      continue;
    }
    if (p[1] != '(') { /* a lone dollar stays as written */
      buf_append(&out, p, 2);
      p += 2;
      continue;
    }
    const char *close = strchr(p + 2, ')');
    if (close == NULL) { /* unterminated: the rest is literal */
      buf_puts(&out, p);
      break;
    }
    cleanup_free char *name = xstrndup(p + 2, (size_t)(close - p - 2));
    const char *value = name[0] ? env_list_get(env, name) : NULL;
    if (value != NULL)
      buf_puts(&out, value);
    else
      buf_append(&out, p, (size_t)(close - p + 1));
    p = close + 1;
  }
  return buf_steal(&out, NULL);
}

/* ---------- valueFrom ---------- */

/* Upstream's rule for names taken from envFrom: a C identifier-like name of printable
 * characters without '='; invalid ones are skipped. */
static bool
env_name_valid(const char *name)
{
  if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
    return false;
  for (const char *p = name; *p; p++)
    if (*p == '=' || *p < 0x21 || *p > 0x7e)
      return false;
  return true;
}

static char *
base64_to_string(const char *text, k8c_err *err)
{
  size_t len = strlen(text);
  char *out = xmalloc(BASE64_DECODE_LENGTH(len) + 1);
  struct base64_decode_ctx ctx;
  size_t n = BASE64_DECODE_LENGTH(len);
  base64_decode_init(&ctx);
  if (!base64_decode_update(&ctx, &n, (uint8_t *)out, len, text) || !base64_decode_final(&ctx)) {
    free(out);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "secret data is not valid base64");
    return NULL;
  }
  out[n] = '\0';
  return out;
}

/* The string value of key in a ConfigMap (data, then binaryData) or Secret (data,
 * base64-decoded, then stringData). NULL (no error) when the key is absent. */
static char *
source_value(const json_t *obj, bool secret, const char *key, k8c_err *err)
{
  const char *v = json_string_value(json_object_get(json_object_get(obj, "data"), key));
  if (v != NULL)
    return secret ? base64_to_string(v, err) : xstrdup(v);
  if (!secret) {
    v = json_string_value(json_object_get(json_object_get(obj, "binaryData"), key));
    return v ? base64_to_string(v, err) : NULL;
  }
  v = json_string_value(json_object_get(json_object_get(obj, "stringData"), key));
  return v ? xstrdup(v) : NULL;
}

/* Fetches a ConfigMap or Secret; *obj is NULL (return 0) when it is absent. */
static int
fetch_source(const struct env_sources *src, bool secret, const char *ns, const char *name,
             json_t **obj, k8c_err *err)
{
  k8c_err_clear(err);
  json_t *(*get)(void *, const char *, const char *, k8c_err *) =
      secret ? src->get_secret : src->get_configmap;
  *obj = get ? get(src->ctx, ns, name, err) : NULL;
  if (*obj == NULL && err->status != 0 && err->status != 404)
    return -1;
  k8c_err_clear(err);
  return 0;
}

static int
key_ref_value(const json_t *ref, bool secret, const char *ns, const struct env_sources *src,
              char **out, k8c_err *err)
{
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *key = json_string_value(json_object_get(ref, "key"));
  bool optional = json_is_true(json_object_get(ref, "optional"));
  const char *what = secret ? "secret" : "configmap";
  *out = NULL;
  if (name == NULL || key == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "%s key reference without a name or key", what);
  cleanup_json json_t *obj = NULL;
  if (fetch_source(src, secret, ns, name, &obj, err) < 0)
    return -1;
  if (obj == NULL) {
    if (optional)
      return 0;
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "%s \"%s\" not found", what, name);
  }
  *out = source_value(obj, secret, key, err);
  if (*out == NULL && err->status != 0)
    return -1;
  if (*out == NULL && !optional)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "couldn't find key %s in %s %s/%s", key,
                     secret ? "Secret" : "ConfigMap", ns, name);
  return 0;
}

/* metadata.labels['key'] → "key" (unquoted); NULL if path is not of that form. */
static char *
subscript_key(const char *path, const char *prefix)
{
  size_t n = strlen(prefix);
  if (strncmp(path, prefix, n) != 0 || path[n] != '[')
    return NULL;
  const char *start = path + n + 1;
  char quote = *start;
  if (quote != '\'' && quote != '"')
    return NULL;
  const char *end = strchr(start + 1, quote);
  if (end == NULL || end[1] != ']' || end[2] != '\0')
    return NULL;
  return xstrndup(start + 1, (size_t)(end - start - 1));
}

static const char *
pod_string(const json_t *pod, const char *section, const char *field)
{
  return json_string_value(json_object_get(json_object_get(pod, section), field));
}

/* Joins status.<field>[*].ip with commas (status.podIPs, status.hostIPs). */
static char *
pod_ip_list(const json_t *pod, const char *field)
{
  buf b = {0};
  size_t i;
  json_t *item;
  json_array_foreach (json_object_get(json_object_get(pod, "status"), field), i, item) {
    const char *ip = json_string_value(json_object_get(item, "ip"));
    if (ip == NULL)
      continue;
    if (b.len)
      buf_append(&b, ",", 1);
    buf_puts(&b, ip);
  }
  return buf_steal(&b, NULL);
}

int
env_field_ref_value(const json_t *pod, const json_t *ref, char **out, k8c_err *err)
{
  const char *path = json_string_value(json_object_get(ref, "fieldPath"));
  if (path == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "fieldRef without a fieldPath");
  static const struct {
    const char *path, *section, *field;
  } simple[] = {
      {"metadata.name", "metadata", "name"},
      {"metadata.namespace", "metadata", "namespace"},
      {"metadata.uid", "metadata", "uid"},
      {"spec.nodeName", "spec", "nodeName"},
      {"spec.serviceAccountName", "spec", "serviceAccountName"},
      {"status.hostIP", "status", "hostIP"},
      {"status.podIP", "status", "podIP"},
  };
  for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
    if (strcmp(path, simple[i].path) == 0) {
      const char *v = pod_string(pod, simple[i].section, simple[i].field);
      *out = xstrdup(v ? v : "");
      return 0;
    }
  }
  if (strcmp(path, "status.podIPs") == 0 || strcmp(path, "status.hostIPs") == 0) {
    *out = pod_ip_list(pod, strchr(path, '.') + 1);
    return 0;
  }
  static const char *const maps[] = {"metadata.labels", "metadata.annotations"};
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *key = subscript_key(path, maps[i]);
    if (key == NULL)
      continue;
    const json_t *map = json_object_get(json_object_get(pod, "metadata"), strchr(maps[i], '.') + 1);
    const char *v = json_string_value(json_object_get(map, key));
    *out = xstrdup(v ? v : "");
    return 0;
  }
  return k8c_error(err, 422, K8C_REASON_INVALID, "unsupported fieldPath: %s", path);
}

/* The container's named resource (limits.cpu …), with the node's allocatable standing
 * in for an unset limit; the value divided by the divisor, rounded up. */
int
env_resource_ref_value(const json_t *container, const json_t *ref, const struct env_sources *src,
                       char **out, k8c_err *err)
{
  const char *resource = json_string_value(json_object_get(ref, "resource"));
  if (resource == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "resourceFieldRef without a resource");
  const char *dot = strchr(resource, '.');
  if (dot == NULL || (strncmp(resource, "limits", 6) != 0 && strncmp(resource, "requests", 8) != 0))
    return k8c_error(err, 422, K8C_REASON_INVALID, "unsupported container resource: %s", resource);
  cleanup_free char *section = xstrndup(resource, (size_t)(dot - resource));
  const char *name = dot + 1;
  const char *text = json_string_value(
      json_object_get(json_object_get(json_object_get(container, "resources"), section), name));
  if (text == NULL && strcmp(section, "limits") == 0 && src->node_allocatable)
    text = json_string_value(json_object_get(src->node_allocatable, name));
  quantity q = quantity_from_int64(0, QUANTITY_DECIMAL_SI),
           divisor = quantity_from_int64(1, QUANTITY_DECIMAL_SI);
  if (text != NULL && quantity_parse(text, &q, err) < 0)
    return -1;
  const char *div = json_string_value(json_object_get(ref, "divisor"));
  if (div != NULL && quantity_parse(div, &divisor, err) < 0)
    return -1;
  bool cpu = strcmp(name, "cpu") == 0;
  int64_t num = cpu ? quantity_milli_value(&q) : quantity_value(&q);
  int64_t den = cpu ? quantity_milli_value(&divisor) : quantity_value(&divisor);
  if (den <= 0)
    return k8c_error(err, 422, K8C_REASON_INVALID, "invalid divisor for %s", resource);
  int64_t value = num / den + (num % den != 0 ? 1 : 0);
  /* A CPU limit never reads as zero cores: upstream rounds a fraction up to 1. */
  if (cpu && value == 0 && num > 0)
    value = 1;
  *out = xasprintf("%lld", (long long)value);
  return 0;
}

static int
value_from(const json_t *pod, const json_t *container, const json_t *from,
           const struct env_sources *src, char **out, k8c_err *err)
{
  const char *ns = pod_string(pod, "metadata", "namespace");
  ns = ns ? ns : "default";
  const json_t *ref;
  if ((ref = json_object_get(from, "fieldRef")) != NULL)
    return env_field_ref_value(pod, ref, out, err);
  if ((ref = json_object_get(from, "resourceFieldRef")) != NULL)
    return env_resource_ref_value(container, ref, src, out, err);
  if ((ref = json_object_get(from, "configMapKeyRef")) != NULL)
    return key_ref_value(ref, false, ns, src, out, err);
  if ((ref = json_object_get(from, "secretKeyRef")) != NULL)
    return key_ref_value(ref, true, ns, src, out, err);
  return k8c_error(err, 422, K8C_REASON_INVALID, "valueFrom without a source");
}

/* ---------- envFrom ---------- */

static int
env_from_source(const json_t *pod, const json_t *source, const struct env_sources *src,
                struct env_list *env, k8c_err *err)
{
  const char *ns = pod_string(pod, "metadata", "namespace");
  ns = ns ? ns : "default";
  bool secret = json_object_get(source, "secretRef") != NULL;
  const json_t *ref = json_object_get(source, secret ? "secretRef" : "configMapRef");
  const char *name = json_string_value(json_object_get(ref, "name"));
  const char *prefix = json_string_value(json_object_get(source, "prefix"));
  if (name == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "envFrom source without a name");
  cleanup_json json_t *obj = NULL;
  if (fetch_source(src, secret, ns, name, &obj, err) < 0)
    return -1;
  if (obj == NULL) {
    if (json_is_true(json_object_get(ref, "optional")))
      return 0;
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "%s \"%s\" not found",
                     secret ? "secret" : "configmap", name);
  }
  static const char *const sections[] = {"data", "binaryData", "stringData"};
  for (size_t s = 0; s < 3; s++) {
    if ((secret && s == 1) || (!secret && s == 2))
      continue;
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get(obj, sections[s]), key, v) {
      cleanup_free char *full = xasprintf("%s%s", prefix ? prefix : "", key);
      if (!env_name_valid(full))
        continue; /* upstream skips it, with an event */
      bool decode = (secret && s == 0) || (!secret && s == 1);
      cleanup_free char *value =
          decode ? base64_to_string(json_string_value(v) ? json_string_value(v) : "", err)
                 : xstrdup(json_string_value(v) ? json_string_value(v) : "");
      if (value == NULL)
        return -1;
      env_set(env, full, value);
    }
  }
  return 0;
}

/* ---------- entry point ---------- */

int
env_resolve(const json_t *pod, const json_t *container, const struct env_sources *src,
            struct env_list *out, k8c_err *err)
{
  struct env_list env = {0};
  size_t i;
  json_t *item;
  json_array_foreach (json_object_get(container, "envFrom"), i, item) {
    if (env_from_source(pod, item, src, &env, err) < 0)
      goto fail;
  }
  json_array_foreach (json_object_get(container, "env"), i, item) {
    const char *name = json_string_value(json_object_get(item, "name"));
    if (name == NULL)
      continue;
    const json_t *from = json_object_get(item, "valueFrom");
    cleanup_free char *value = NULL;
    if (from != NULL) {
      if (value_from(pod, container, from, src, &value, err) < 0)
        goto fail;
      if (value == NULL) /* an optional key that is absent: the variable is not set */
        continue;
    } else {
      const char *raw = json_string_value(json_object_get(item, "value"));
      value = env_expand(raw ? raw : "", &env);
    }
    env_set(&env, name, value);
  }
  *out = env;
  return 0;
fail:
  env_list_clear(&env);
  return -1;
}
