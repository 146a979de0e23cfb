/* auth.c — WWW-Authenticate challenges and the distribution token endpoint.
 *
 * Bearer: GET realm?service=S&scope=repository:R:pull (with Basic credentials when
 * configured) and use the "token" (or "access_token") it returns. Basic: send the
 * configured credentials directly. */
#include "kubelet/images/auth.h"
#include "kubelet/images/registry_http.h"
#include "lib/mem.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

static char *
parse_value(const char **p)
{
  const char *s = *p;
  if (*s == '"') {
    s++;
    buf b;
    buf_init(&b);
    while (*s && *s != '"') {
      if (*s == '\\' && s[1])
        s++;
      buf_append(&b, s, 1);
      s++;
    }
    if (*s == '"')
      s++;
    *p = s;
    return buf_steal(&b, NULL) ?: xstrdup("");
  }
  size_t len = strcspn(s, ", \t");
  *p = s + len;
  return xstrndup(s, len);
}

int
auth_challenge_parse(const char *header, struct auth_challenge *out)
{
  memset(out, 0, sizeof(*out));
  if (header == NULL)
    return -1;
  const char *p = header;
  while (isspace((unsigned char)*p))
    p++;
  size_t scheme_len = strcspn(p, " \t");
  if (scheme_len == 0)
    return -1;
  out->scheme = xstrndup(p, scheme_len);
  p += scheme_len;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '\0')
      break;
    size_t key_len = strcspn(p, "=, \t");
    const char *key = p;
    p += key_len;
    if (*p != '=')
      continue;
    p++;
    char *value = parse_value(&p);
    char **slot = NULL;
    if (key_len == 5 && strncasecmp(key, "realm", 5) == 0)
      slot = &out->realm;
    else if (key_len == 7 && strncasecmp(key, "service", 7) == 0)
      slot = &out->service;
    else if (key_len == 5 && strncasecmp(key, "scope", 5) == 0)
      slot = &out->scope;
    if (slot != NULL) {
      free(*slot);
      *slot = value;
    } else {
      free(value);
    }
  }
  return 0;
}

void
auth_challenge_free(struct auth_challenge *c)
{
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  memset(c, 0, sizeof(*c));
}

static char *
url_escape(const char *s)
{
  char *escaped = curl_easy_escape(NULL, s, 0);
  char *copy = xstrdup(escaped ? escaped : "");
  curl_free(escaped);
  return copy;
}

char *
auth_authorize(const struct auth_challenge *challenge, const char *repository,
               const struct registry_host_config *config, int timeout_seconds, k8c_err *err)
{
  const char *basic = config ? config->basic_auth : NULL;
  if (strcasecmp(challenge->scheme, "Basic") == 0) {
    if (basic == NULL) {
      k8c_error(err, 401, K8C_REASON_UNAUTHORIZED,
                "unauthorized: the registry wants credentials and registries.yaml has none");
      return NULL;
    }
    return xasprintf("Basic %s", basic);
  }
  if (strcasecmp(challenge->scheme, "Bearer") != 0 || challenge->realm == NULL) {
    k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, "unauthorized: unsupported challenge \"%s\"",
              challenge->scheme);
    return NULL;
  }
  if (strncmp(challenge->realm, "https://", 8) != 0 &&
      strncmp(challenge->realm, "http://", 7) != 0) {
    k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, "unauthorized: bad token realm \"%s\"",
              challenge->realm);
    return NULL;
  }
  cleanup_free char *default_scope = xasprintf("repository:%s:pull", repository);
  cleanup_free char *scope = url_escape(challenge->scope ? challenge->scope : default_scope);
  cleanup_free char *service = challenge->service ? url_escape(challenge->service) : NULL;
  cleanup_free char *url =
      xasprintf("%s%sscope=%s%s%s", challenge->realm, strchr(challenge->realm, '?') ? "&" : "?",
                scope, service ? "&service=" : "", service ? service : "");
  cleanup_free char *authorization = basic ? xasprintf("Basic %s", basic) : NULL;
  struct registry_http_options opts = {
      .config = config,
      .timeout_seconds = timeout_seconds,
      .authorization = authorization,
      .accept = "application/json",
  };
  buf body;
  buf_init(&body);
  struct registry_http_response resp;
  if (registry_http_get(url, &opts, registry_http_sink_buf, &body, &resp, err) < 0) {
    registry_http_response_free(&resp);
    buf_free(&body);
    k8c_err_prefix(err, "getting a registry token");
    return NULL;
  }
  if (resp.status < 200 || resp.status >= 300) {
    registry_http_status_error(&resp, "getting a registry token", err);
    registry_http_response_free(&resp);
    buf_free(&body);
    return NULL;
  }
  registry_http_response_free(&resp);
  json_t *answer = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
  buf_free(&body);
  const char *token = json_string_value(json_object_get(answer, "token"));
  if (token == NULL || *token == '\0')
    token = json_string_value(json_object_get(answer, "access_token"));
  char *result = token && *token ? xasprintf("Bearer %s", token) : NULL;
  json_decref(answer);
  if (result == NULL)
    k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, "unauthorized: the token endpoint gave no token");
  return result;
}
