/* registries.c — reading registries.yaml (k3s format) and choosing endpoints from it.
 *
 * The YAML goes through the project's YAML→JSON decoder, then each known key is copied
 * into plain structs; unknown keys are ignored as k3s ignores them. */
#include "kubelet/images/registries.h"
#include "apimachinery/yaml.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nettle/base64.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

static int parse_mirror(const char *host, json_t *value, struct registry_mirror *m, k8c_err *err);
static int parse_config(const char *host, json_t *value, struct registry_host_config *c,
                        k8c_err *err);
static char *endpoint_api_base(const char *endpoint, char **host_out);
static char *apply_rewrites(const struct registry_mirror *m, const char *repository);

struct registries_config *
registries_parse(const char *text, size_t len, k8c_err *err)
{
  k8c_err yaml_err = {0};
  cleanup_json json_t *doc = yaml_to_json(text, len, &yaml_err);
  if (doc == NULL && yaml_err.status != 0) {
    if (err != NULL)
      k8c_err_move(err, &yaml_err);
    k8c_err_clear(&yaml_err);
    return NULL;
  }
  struct registries_config *cfg = xcalloc(1, sizeof(*cfg));
  if (doc == NULL || json_is_null(doc))
    return cfg;
  if (!json_is_object(doc)) {
    registries_free(cfg);
    k8c_error(err, 400, K8C_REASON_INVALID, "registries: the document must be a mapping");
    return NULL;
  }
  json_t *mirrors = json_object_get(doc, "mirrors");
  json_t *configs = json_object_get(doc, "configs");
  if ((mirrors && !json_is_object(mirrors) && !json_is_null(mirrors)) ||
      (configs && !json_is_object(configs) && !json_is_null(configs))) {
    registries_free(cfg);
    k8c_error(err, 400, K8C_REASON_INVALID, "registries: mirrors and configs must be mappings");
    return NULL;
  }
  const char *key;
  json_t *value;
  if (json_is_object(mirrors)) {
    cfg->mirrors = xcalloc(json_object_size(mirrors) + 1, sizeof(*cfg->mirrors));
    json_object_foreach (mirrors, key, value) {
      if (parse_mirror(key, value, &cfg->mirrors[cfg->n_mirrors++], err) < 0) {
        registries_free(cfg);
        return NULL;
      }
    }
  }
  if (json_is_object(configs)) {
    cfg->configs = xcalloc(json_object_size(configs) + 1, sizeof(*cfg->configs));
    json_object_foreach (configs, key, value) {
      if (parse_config(key, value, &cfg->configs[cfg->n_configs++], err) < 0) {
        registries_free(cfg);
        return NULL;
      }
    }
  }
  return cfg;
}

struct registries_config *
registries_load(const char *path, k8c_err *err)
{
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    if (errno == ENOENT)
      return xcalloc(1, sizeof(struct registries_config));
    k8c_error(err, 500, K8C_REASON_INTERNAL, "opening %s: %s", path, strerror(errno));
    return NULL;
  }
  char *text = NULL;
  size_t cap = 0;
  ssize_t len = getdelim(&text, &cap, '\0', f);
  fclose(f);
  struct registries_config *cfg =
      registries_parse(text ? text : "", len > 0 ? (size_t)len : 0, err);
  free(text);
  if (cfg == NULL)
    k8c_err_prefix(err, "%s", path);
  return cfg;
}

void
registries_free(struct registries_config *cfg)
{
  if (cfg == NULL)
    return;
  for (size_t i = 0; i < cfg->n_mirrors; i++) {
    struct registry_mirror *m = &cfg->mirrors[i];
    free(m->host);
    for (size_t j = 0; j < m->n_endpoints; j++)
      free(m->endpoints[j]);
    free(m->endpoints);
    for (size_t j = 0; j < m->n_rewrites; j++) {
      free(m->rewrites[j].pattern);
      free(m->rewrites[j].replacement);
    }
    free(m->rewrites);
  }
  free(cfg->mirrors);
  for (size_t i = 0; i < cfg->n_configs; i++) {
    struct registry_host_config *c = &cfg->configs[i];
    free(c->host);
    if (c->basic_auth != NULL)
      explicit_bzero(c->basic_auth, strlen(c->basic_auth));
    free(c->basic_auth);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
  }
  free(cfg->configs);
  free(cfg);
}

const struct registry_host_config *
registries_host_config(const struct registries_config *cfg, const char *host)
{
  if (cfg == NULL)
    return NULL;
  const struct registry_host_config *wildcard = NULL;
  for (size_t i = 0; i < cfg->n_configs; i++) {
    if (strcmp(cfg->configs[i].host, host) == 0)
      return &cfg->configs[i];
    if (strcmp(cfg->configs[i].host, "*") == 0)
      wildcard = &cfg->configs[i];
  }
  return wildcard;
}

bool
registry_host_is_loopback(const char *host)
{
  char name[256];
  const char *end;
  if (host[0] == '[') {
    end = strchr(host, ']');
    if (end == NULL || (size_t)(end - host - 1) >= sizeof(name))
      return false;
    memcpy(name, host + 1, (size_t)(end - host - 1));
    name[end - host - 1] = '\0';
  } else {
    end = strchr(host, ':');
    size_t len = end ? (size_t)(end - host) : strlen(host);
    if (len >= sizeof(name))
      return false;
    memcpy(name, host, len);
    name[len] = '\0';
  }
  if (strcmp(name, "localhost") == 0)
    return true;
  struct in_addr v4;
  if (inet_pton(AF_INET, name, &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  struct in6_addr v6;
  if (inet_pton(AF_INET6, name, &v6) == 1)
    return memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
  return false;
}

int
registries_endpoints(const struct registries_config *cfg, const struct image_ref *ref,
                     bool include_default, struct registry_endpoint **out, size_t *n, k8c_err *err)
{
  const struct registry_mirror *mirror = NULL, *wildcard = NULL;
  for (size_t i = 0; cfg != NULL && i < cfg->n_mirrors; i++) {
    if (strcmp(cfg->mirrors[i].host, ref->domain) == 0)
      mirror = &cfg->mirrors[i];
    else if (strcmp(cfg->mirrors[i].host, "*") == 0)
      wildcard = &cfg->mirrors[i];
  }
  if (mirror == NULL)
    mirror = wildcard;
  size_t count = mirror ? mirror->n_endpoints : 0;
  struct registry_endpoint *list = xcalloc(count + 1, sizeof(*list));
  size_t used = 0;
  for (size_t i = 0; i < count; i++) {
    struct registry_endpoint *e = &list[used];
    e->api_base = endpoint_api_base(mirror->endpoints[i], &e->host);
    if (e->api_base == NULL) {
      registry_endpoints_free(list, used);
      return k8c_error(err, 400, K8C_REASON_INVALID, "registries: bad endpoint \"%s\" for %s",
                       mirror->endpoints[i], mirror->host);
    }
    e->repository = apply_rewrites(mirror, ref->path);
    e->config = registries_host_config(cfg, e->host);
    used++;
  }
  if (include_default || used == 0) {
    struct registry_endpoint *e = &list[used++];
    const char *host =
        strcmp(ref->domain, IMAGE_REF_DEFAULT_DOMAIN) == 0 ? "registry-1.docker.io" : ref->domain;
    e->api_base = xasprintf("%s://%s/v2", registry_host_is_loopback(host) ? "http" : "https", host);
    e->host = xstrdup(ref->domain);
    e->repository = xstrdup(ref->path);
    e->config = registries_host_config(cfg, ref->domain);
  }
  *out = list;
  *n = used;
  return 0;
}

void
registry_endpoints_free(struct registry_endpoint *endpoints, size_t n)
{
  if (endpoints == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    free(endpoints[i].api_base);
    free(endpoints[i].host);
    free(endpoints[i].repository);
  }
  free(endpoints);
}

/* ---- parsing helpers ---- */

static int
copy_string(json_t *obj, const char *key, char **out, const char *where, k8c_err *err)
{
  json_t *v = json_object_get(obj, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return k8c_error(err, 400, K8C_REASON_INVALID, "registries: %s.%s must be a string", where,
                     key);
  *out = xstrdup(json_string_value(v));
  return 0;
}

static int
parse_mirror(const char *host, json_t *value, struct registry_mirror *m, k8c_err *err)
{
  m->host = xstrdup(host);
  if (json_is_null(value))
    return 0;
  if (!json_is_object(value))
    return k8c_error(err, 400, K8C_REASON_INVALID, "registries: mirrors.%s must be a mapping",
                     host);
  json_t *endpoints = json_object_get(value, "endpoint");
  if (endpoints != NULL && !json_is_null(endpoints)) {
    if (!json_is_array(endpoints))
      return k8c_error(err, 400, K8C_REASON_INVALID,
                       "registries: mirrors.%s.endpoint must be a list", host);
    m->endpoints = xcalloc(json_array_size(endpoints) + 1, sizeof(char *));
    size_t i;
    json_t *ep;
    json_array_foreach (endpoints, i, ep) {
      if (!json_is_string(ep) || json_string_length(ep) == 0)
        return k8c_error(err, 400, K8C_REASON_INVALID,
                         "registries: mirrors.%s.endpoint[%zu] must be a URL", host, i);
      cleanup_free char *host_part = NULL;
      cleanup_free char *base = endpoint_api_base(json_string_value(ep), &host_part);
      if (base == NULL)
        return k8c_error(err, 400, K8C_REASON_INVALID,
                         "registries: mirrors.%s.endpoint[%zu]: bad URL \"%s\"", host, i,
                         json_string_value(ep));
      m->endpoints[m->n_endpoints++] = xstrdup(json_string_value(ep));
    }
  }
  json_t *rewrite = json_object_get(value, "rewrite");
  if (rewrite != NULL && !json_is_null(rewrite)) {
    if (!json_is_object(rewrite))
      return k8c_error(err, 400, K8C_REASON_INVALID,
                       "registries: mirrors.%s.rewrite must be a mapping", host);
    m->rewrites = xcalloc(json_object_size(rewrite) + 1, sizeof(*m->rewrites));
    const char *pattern;
    json_t *replacement;
    json_object_foreach (rewrite, pattern, replacement) {
      regex_t re;
      if (!json_is_string(replacement) || regcomp(&re, pattern, REG_EXTENDED) != 0)
        return k8c_error(err, 400, K8C_REASON_INVALID,
                         "registries: mirrors.%s.rewrite: bad rule \"%s\"", host, pattern);
      regfree(&re);
      m->rewrites[m->n_rewrites].pattern = xstrdup(pattern);
      m->rewrites[m->n_rewrites].replacement = xstrdup(json_string_value(replacement));
      m->n_rewrites++;
    }
  }
  return 0;
}

static char *
base64_basic(const char *user, const char *password)
{
  cleanup_free char *plain = xasprintf("%s:%s", user, password);
  size_t len = strlen(plain);
  char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
  base64_encode_raw(out, len, (const uint8_t *)plain);
  out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
  explicit_bzero(plain, len);
  return out;
}

static int
parse_config(const char *host, json_t *value, struct registry_host_config *c, k8c_err *err)
{
  c->host = xstrdup(host);
  if (json_is_null(value))
    return 0;
  if (!json_is_object(value))
    return k8c_error(err, 400, K8C_REASON_INVALID, "registries: configs.%s must be a mapping",
                     host);
  json_t *auth = json_object_get(value, "auth");
  if (json_is_object(auth)) {
    cleanup_free char *user = NULL;
    cleanup_free char *password = NULL;
    cleanup_free char *encoded = NULL;
    cleanup_free char *where = xasprintf("configs.%s.auth", host);
    if (copy_string(auth, "username", &user, where, err) < 0 ||
        copy_string(auth, "password", &password, where, err) < 0 ||
        copy_string(auth, "auth", &encoded, where, err) < 0)
      return -1;
    if (encoded != NULL)
      c->basic_auth = steal_ptr(encoded);
    else if (user != NULL)
      c->basic_auth = base64_basic(user, password ? password : "");
    if (password != NULL)
      explicit_bzero(password, strlen(password));
  } else if (auth != NULL && !json_is_null(auth)) {
    return k8c_error(err, 400, K8C_REASON_INVALID, "registries: configs.%s.auth must be a mapping",
                     host);
  }
  json_t *tls = json_object_get(value, "tls");
  if (json_is_object(tls)) {
    cleanup_free char *where = xasprintf("configs.%s.tls", host);
    json_t *skip = json_object_get(tls, "insecure_skip_verify");
    if (json_is_boolean(skip))
      c->insecure_skip_verify = json_is_true(skip);
    else if (json_is_string(skip))
      c->insecure_skip_verify = strcmp(json_string_value(skip), "true") == 0;
    else if (skip != NULL && !json_is_null(skip))
      return k8c_error(err, 400, K8C_REASON_INVALID,
                       "registries: %s.insecure_skip_verify must be a boolean", where);
    if (copy_string(tls, "ca_file", &c->ca_file, where, err) < 0 ||
        copy_string(tls, "cert_file", &c->cert_file, where, err) < 0 ||
        copy_string(tls, "key_file", &c->key_file, where, err) < 0)
      return -1;
  } else if (tls != NULL && !json_is_null(tls)) {
    return k8c_error(err, 400, K8C_REASON_INVALID, "registries: configs.%s.tls must be a mapping",
                     host);
  }
  return 0;
}

/* "https://host:port/prefix" → "https://host:port/prefix/v2"; no scheme means https
 * (http for a loopback host). *host_out gets "host:port". NULL if it is not a URL. */
static char *
endpoint_api_base(const char *endpoint, char **host_out)
{
  const char *scheme = NULL;
  const char *rest = endpoint;
  if (strncmp(endpoint, "https://", 8) == 0) {
    scheme = "https";
    rest = endpoint + 8;
  } else if (strncmp(endpoint, "http://", 7) == 0) {
    scheme = "http";
    rest = endpoint + 7;
  } else if (strstr(endpoint, "://") != NULL) {
    return NULL;
  }
  size_t host_len = strcspn(rest, "/?#");
  if (host_len == 0 || rest[host_len] == '?' || rest[host_len] == '#')
    return NULL;
  for (size_t i = 0; i < host_len; i++)
    if (rest[i] == '@' || rest[i] == ' ')
      return NULL;
  char *host = xstrndup(rest, host_len);
  if (scheme == NULL)
    scheme = registry_host_is_loopback(host) ? "http" : "https";
  const char *path = rest + host_len;
  size_t path_len = strlen(path);
  while (path_len > 0 && path[path_len - 1] == '/')
    path_len--;
  bool has_v2 = path_len >= 3 && strncmp(path + path_len - 3, "/v2", 3) == 0;
  char *base = xasprintf("%s://%s%.*s%s", scheme, host, (int)path_len, path, has_v2 ? "" : "/v2");
  *host_out = host;
  return base;
}

/* The first rewrite whose pattern matches wins; "$N" in its replacement is group N. */
static char *
apply_rewrites(const struct registry_mirror *m, const char *repository)
{
  for (size_t i = 0; i < m->n_rewrites; i++) {
    regex_t re;
    if (regcomp(&re, m->rewrites[i].pattern, REG_EXTENDED) != 0)
      continue;
    regmatch_t groups[10];
    int matched = regexec(&re, repository, 10, groups, 0) == 0;
    regfree(&re);
    if (!matched)
      continue;
    size_t cap = strlen(repository) + strlen(m->rewrites[i].replacement) * 4 + 256;
    char *out = xcalloc(1, cap);
    size_t len = 0;
    /* text before and after the match stays, as regexp.ReplaceAllString leaves it */
    size_t prefix = (size_t)groups[0].rm_so;
    memcpy(out, repository, prefix);
    len = prefix;
    for (const char *r = m->rewrites[i].replacement; *r; r++) {
      if (r[0] == '$' && r[1] >= '0' && r[1] <= '9') {
        int g = r[1] - '0';
        r++;
        if (groups[g].rm_so < 0)
          continue;
        size_t glen = (size_t)(groups[g].rm_eo - groups[g].rm_so);
        if (len + glen + 1 >= cap) {
          cap = (len + glen + 1) * 2;
          out = xrealloc(out, cap);
        }
        memcpy(out + len, repository + groups[g].rm_so, glen);
        len += glen;
      } else {
        if (len + 2 >= cap) {
          cap *= 2;
          out = xrealloc(out, cap);
        }
        out[len++] = *r;
      }
    }
    const char *suffix = repository + groups[0].rm_eo;
    size_t slen = strlen(suffix);
    out = xrealloc(out, len + slen + 1);
    memcpy(out + len, suffix, slen + 1);
    return out;
  }
  return xstrdup(repository);
}
