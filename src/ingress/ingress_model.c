/* ingress_model.c — Ingress, Service, EndpointSlice and Secret objects → the model, with
 * ingress-nginx's semantics: the oldest Ingress wins a host/path both claim, a canary
 * Ingress only adds an alternative backend to a location a main Ingress owns, regex
 * mode (use-regex or rewrite-target) covers every path of a host, and a missing or
 * broken TLS Secret leaves its host on the default certificate with a problem noted. */
#include "ingress/ingress_model.h"

#include "apimachinery/meta.h"
#include "apiserver/pki_cert.h"
#include "lib/hashmap.h"
#include "lib/mem.h"
#include <nettle/base64.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANN_PREFIX "nginx.ingress.kubernetes.io/"
#define SERVICE_NAME_LABEL "kubernetes.io/service-name"

struct builder {
  const struct ingress_inputs *in;
  struct ingress_model *m;
  hashmap *services;  /* "ns/name" → json_t* (borrowed) */
  hashmap *servers;   /* host → index + 1 */
  hashmap *upstreams; /* name → index + 1 */
  hashmap *certs;     /* secret key → index + 1, or (void*)-1 when broken */
};

/* ---------- small helpers ---------- */

static const char *
annotation(const json_t *ing, const char *name)
{
  char key[128];
  snprintf(key, sizeof key, ANN_PREFIX "%s", name);
  return json_string_value(json_object_get(meta_annotations(ing), key));
}

static bool
annotation_true(const json_t *ing, const char *name, bool dflt)
{
  const char *v = annotation(ing, name);
  if (v == NULL)
    return dflt;
  return strcmp(v, "true") == 0;
}

static const char *
str_at(const json_t *obj, const char *a, const char *b)
{
  return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static void add_problem(struct builder *b, json_t *obj, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add_problem(struct builder *b, json_t *obj, const char *reason, const char *fmt, ...)
{
  struct ingress_model *m = b->m;
  m->problems = xrealloc(m->problems, (m->n_problems + 1) * sizeof *m->problems);
  struct ingress_problem *p = &m->problems[m->n_problems++];
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  p->obj = json_incref(obj);
  p->reason = xstrdup(reason);
  p->message = xstrdup(tmp);
}

/* A path or annotation value that can go into nginx.conf inside double quotes: printable
 * ASCII without whitespace or quotes. */
static bool
safe_config_text(const char *s)
{
  if (s == NULL || *s == '\0')
    return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'')
      return false;
  return true;
}

static bool
safe_header_name(const char *s)
{
  if (s == NULL || *s == '\0' || strlen(s) > 64)
    return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_'))
      return false;
  return true;
}

static int
int_in(const char *s, int lo, int hi, int dflt)
{
  if (s == NULL || *s == '\0')
    return dflt;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end != '\0' || v < lo || v > hi)
    return dflt;
  return (int)v;
}

static int
compare_str_ptrs(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---------- served ---------- */

bool
ingress_is_served(const json_t *ing, const char *class_name, bool class_is_default)
{
  const char *cls = str_at(ing, "spec", "ingressClassName");
  if (cls && *cls)
    return strcmp(cls, class_name) == 0;
  const char *legacy =
      json_string_value(json_object_get(meta_annotations(ing), "kubernetes.io/ingress.class"));
  if (legacy && *legacy)
    return strcmp(legacy, class_name) == 0;
  return class_is_default;
}

/* ---------- upstreams ---------- */

static int
find_service_port(const json_t *svc, const json_t *port_ref, const char **port_name)
{
  json_t *number = json_object_get(port_ref, "number");
  const char *name = json_string_value(json_object_get(port_ref, "name"));
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(json_object_get(svc, "spec"), "ports"), i, p) {
    const char *pname = json_string_value(json_object_get(p, "name"));
    if ((json_is_integer(number) &&
         json_integer_value(json_object_get(p, "port")) == json_integer_value(number)) ||
        (name && pname && strcmp(name, pname) == 0)) {
      *port_name = pname ? pname : "";
      return 0;
    }
  }
  return -1;
}

static void
add_slice_endpoints(const json_t *slice, const char *port_name, hashmap *seen)
{
  const char *family = json_string_value(json_object_get(slice, "addressType"));
  bool v6 = family && strcmp(family, "IPv6") == 0;
  if (family && !v6 && strcmp(family, "IPv4") != 0)
    return; /* FQDN slices are not served */
  long long port = -1;
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(slice, "ports"), i, p) {
    const char *n = json_string_value(json_object_get(p, "name"));
    if (strcmp(n ? n : "", port_name) == 0 && json_is_integer(json_object_get(p, "port")))
      port = json_integer_value(json_object_get(p, "port"));
  }
  if (port <= 0 || port > 65535)
    return;
  json_t *ep;
  json_array_foreach (json_object_get(slice, "endpoints"), i, ep) {
    json_t *ready = json_object_get(json_object_get(ep, "conditions"), "ready");
    if (json_is_false(ready))
      continue;
    size_t j;
    json_t *addr;
    json_array_foreach (json_object_get(ep, "addresses"), j, addr) {
      const char *a = json_string_value(addr);
      if (a == NULL || !safe_config_text(a) || strchr(a, ';') || strchr(a, '{'))
        continue;
      char *hp = v6 ? xasprintf("[%s]:%lld", a, port) : xasprintf("%s:%lld", a, port);
      hashmap_put(seen, hp, (void *)1);
      free(hp);
    }
  }
}

/* The upstream for an IngressServiceBackend of ns (created on first use); its name, or
 * NULL when the backend is unusable (problem noted). */
static const char *
upstream_for(struct builder *b, json_t *ing, const json_t *backend)
{
  const json_t *svc_ref = json_object_get(backend, "service");
  const char *svc_name = json_string_value(json_object_get(svc_ref, "name"));
  const char *ns = meta_namespace(ing);
  if (svc_name == NULL) {
    if (json_object_get(backend, "resource"))
      add_problem(b, ing, "UnsupportedBackend", "resource backends are not supported");
    return NULL;
  }
  const json_t *port_ref = json_object_get(svc_ref, "port");
  json_t *num = json_object_get(port_ref, "number");
  const char *pname = json_string_value(json_object_get(port_ref, "name"));
  char *name = json_is_integer(num) ? xasprintf("%s-%s-%lld", ns, svc_name, json_integer_value(num))
                                    : xasprintf("%s-%s-%s", ns, svc_name, pname ? pname : "");
  uintptr_t idx = (uintptr_t)hashmap_get(b->upstreams, name);
  if (idx) {
    free(name);
    return b->m->upstreams[idx - 1].name;
  }
  struct ingress_model *m = b->m;
  m->upstreams = xrealloc(m->upstreams, (m->n_upstreams + 1) * sizeof *m->upstreams);
  struct ingress_upstream *u = &m->upstreams[m->n_upstreams++];
  memset(u, 0, sizeof *u);
  u->name = name;
  hashmap_put(b->upstreams, name, (void *)(uintptr_t)m->n_upstreams);

  char *svc_key = xasprintf("%s/%s", ns, svc_name);
  json_t *svc = hashmap_get(b->services, svc_key);
  const char *port_name = NULL;
  if (svc == NULL) {
    add_problem(b, ing, "ServiceNotFound", "service %s not found", svc_key);
  } else if (find_service_port(svc, port_ref, &port_name) < 0) {
    add_problem(b, ing, "ServicePortNotFound", "service %s has no port %s", svc_key,
                json_is_integer(num) ? "with that number"
                : pname              ? pname
                                     : "(none)");
  } else {
    hashmap *seen = hashmap_new();
    for (size_t i = 0; i < b->in->n_slices; i++) {
      json_t *s = b->in->slices[i];
      const char *owner = json_string_value(json_object_get(meta_labels(s), SERVICE_NAME_LABEL));
      const char *sns = meta_namespace(s);
      if (owner && sns && strcmp(owner, svc_name) == 0 && strcmp(sns, ns) == 0)
        add_slice_endpoints(s, port_name, seen);
    }
    u->n_endpoints = hashmap_count(seen);
    u->endpoints = xcalloc(u->n_endpoints + 1, sizeof *u->endpoints);
    hashmap_iter it = {0};
    const char *k;
    void *v;
    size_t n = 0;
    while (hashmap_next(seen, &it, &k, &v))
      u->endpoints[n++] = xstrdup(k);
    qsort(u->endpoints, n, sizeof *u->endpoints, compare_str_ptrs);
    hashmap_free(seen, NULL);
  }
  free(svc_key);
  return u->name;
}

/* ---------- servers and locations ---------- */

static struct ingress_server *
server_for(struct builder *b, const char *host, json_t *ing)
{
  uintptr_t idx = (uintptr_t)hashmap_get(b->servers, host);
  if (idx)
    return &b->m->servers[idx - 1];
  struct ingress_model *m = b->m;
  m->servers = xrealloc(m->servers, (m->n_servers + 1) * sizeof *m->servers);
  struct ingress_server *s = &m->servers[m->n_servers++];
  memset(s, 0, sizeof *s);
  s->host = xstrdup(host);
  hashmap_put(b->servers, host, (void *)(uintptr_t)m->n_servers);
  json_t *dflt = ing ? json_object_get(json_object_get(ing, "spec"), "defaultBackend") : NULL;
  if (dflt && strcmp(host, INGRESS_DEFAULT_SERVER) != 0) {
    const char *u = upstream_for(b, ing, dflt);
    s->fallback_upstream = u ? xstrdup(u) : NULL;
  }
  return s;
}

static struct ingress_location *
find_location(struct ingress_server *s, const char *path, enum ingress_path_kind kind)
{
  for (size_t i = 0; i < s->n_locs; i++)
    if (strcmp(s->locs[i].path, path) == 0 &&
        (s->locs[i].kind == INGRESS_PATH_EXACT) == (kind == INGRESS_PATH_EXACT))
      return &s->locs[i];
  return NULL;
}

static void
attach_canary(struct builder *b, json_t *ing, struct ingress_location *loc, const json_t *backend)
{
  if (loc->canary)
    return; /* the oldest canary wins, as for main Ingresses */
  const char *up = upstream_for(b, ing, backend);
  if (up == NULL)
    return;
  struct ingress_canary *c = xcalloc(1, sizeof *c);
  c->upstream = xstrdup(up);
  c->weight_total = int_in(annotation(ing, "canary-weight-total"), 1, 1000000, 100);
  c->weight = int_in(annotation(ing, "canary-weight"), 0, c->weight_total, 0);
  const char *h = annotation(ing, "canary-by-header");
  if (h && safe_header_name(h)) {
    c->header = xstrdup(h);
    const char *hv = annotation(ing, "canary-by-header-value");
    if (hv && safe_config_text(hv) && !strchr(hv, '\\'))
      c->header_value = xstrdup(hv);
  } else if (h) {
    add_problem(b, ing, "InvalidAnnotation", "canary-by-header %s is not a header name", h);
  }
  loc->canary = c;
}

static void
add_path(struct builder *b, json_t *ing, struct ingress_server *s, const json_t *path, bool canary)
{
  const char *p = json_string_value(json_object_get(path, "path"));
  const char *type = json_string_value(json_object_get(path, "pathType"));
  if (p == NULL || *p == '\0')
    p = "/";
  if (!safe_config_text(p)) {
    add_problem(b, ing, "InvalidPath", "path %s cannot be served", p);
    return;
  }
  enum ingress_path_kind kind =
      type && strcmp(type, "Exact") == 0 ? INGRESS_PATH_EXACT : INGRESS_PATH_PREFIX;
  const json_t *backend = json_object_get(path, "backend");
  struct ingress_location *loc = find_location(s, p, kind);
  if (canary) {
    if (loc == NULL)
      add_problem(b, ing, "CanaryWithoutMain",
                  "no main Ingress serves host %s path %s: canary ignored", s->host, p);
    else
      attach_canary(b, ing, loc, backend);
    return;
  }
  if (loc != NULL)
    return; /* an older Ingress owns this host and path */
  const char *rewrite = annotation(ing, "rewrite-target");
  if (rewrite && !safe_config_text(rewrite)) {
    add_problem(b, ing, "InvalidAnnotation", "rewrite-target %s cannot be used", rewrite);
    rewrite = NULL;
  }
  const char *up = upstream_for(b, ing, backend);
  s->locs = xrealloc(s->locs, (s->n_locs + 1) * sizeof *s->locs);
  loc = &s->locs[s->n_locs++];
  memset(loc, 0, sizeof *loc);
  loc->path = xstrdup(p);
  loc->kind = kind;
  loc->upstream = up ? xstrdup(up) : NULL;
  loc->rewrite_target = rewrite ? xstrdup(rewrite) : NULL;
  loc->ssl_redirect = annotation_true(ing, "ssl-redirect", true);
  loc->owner = xasprintf("%s/%s", meta_namespace(ing), meta_name(ing));
  if (rewrite || annotation_true(ing, "use-regex", false))
    s->regex = true;
}

/* ---------- TLS ---------- */

static char *
base64_decode_text(const char *in, size_t *len)
{
  size_t n = strlen(in);
  char *out = xmalloc(BASE64_DECODE_LENGTH(n) + 1);
  struct base64_decode_ctx ctx;
  base64_decode_init(&ctx);
  size_t dst_len = BASE64_DECODE_LENGTH(n);
  if (!base64_decode_update(&ctx, &dst_len, (uint8_t *)out, n, in) || !base64_decode_final(&ctx)) {
    free(out);
    return NULL;
  }
  out[dst_len] = '\0';
  *len = dst_len;
  return out;
}

char *
ingress_secret_pem(const json_t *secret, const char **why)
{
  const char *type = json_string_value(json_object_get(secret, "type"));
  if (type == NULL || strcmp(type, "kubernetes.io/tls") != 0) {
    *why = "is not of type kubernetes.io/tls";
    return NULL;
  }
  const char *crt64 = str_at(secret, "data", "tls.crt");
  const char *key64 = str_at(secret, "data", "tls.key");
  if (crt64 == NULL || key64 == NULL) {
    *why = "lacks tls.crt or tls.key";
    return NULL;
  }
  size_t crt_len, key_len;
  char *crt = base64_decode_text(crt64, &crt_len);
  char *key = base64_decode_text(key64, &key_len);
  char *pem = NULL;
  struct pki_keypair kp = {0};
  k8c_err err = {0};
  if (crt == NULL || key == NULL)
    *why = "has data that is not base64";
  else if (strlen(crt) != crt_len || strlen(key) != key_len)
    *why = "has binary data where PEM is expected";
  else if (pki_keypair_load(crt, key, &kp, &err) < 0)
    *why = "holds a certificate and key that do not parse or do not match";
  else
    pem = xasprintf("%s%s%s", crt, crt_len && crt[crt_len - 1] != '\n' ? "\n" : "", key);
  pki_keypair_clear(&kp);
  k8c_err_clear(&err);
  free(crt);
  if (key) {
    memset(key, 0, key_len);
    free(key);
  }
  return pem;
}

/* The secret key to serve a host of ing with, or NULL (the default certificate). */
static const char *
cert_for(struct builder *b, json_t *ing, const char *secret_name, hashmap *secrets)
{
  char *key = xasprintf("%s/%s", meta_namespace(ing), secret_name);
  uintptr_t idx = (uintptr_t)hashmap_get(b->certs, key);
  if (idx == 0) {
    json_t *secret = hashmap_get(secrets, key);
    const char *why = "not found";
    char *pem = secret ? ingress_secret_pem(secret, &why) : NULL;
    if (pem == NULL) {
      add_problem(b, ing, "InvalidSecret",
                  "TLS secret %s %s: its hosts are served with the default certificate", key, why);
      idx = UINTPTR_MAX;
    } else {
      struct ingress_model *m = b->m;
      m->certs = xrealloc(m->certs, (m->n_certs + 1) * sizeof *m->certs);
      m->certs[m->n_certs].secret = xstrdup(key);
      m->certs[m->n_certs].pem = pem;
      idx = ++m->n_certs;
    }
    hashmap_put(b->certs, key, (void *)idx);
  }
  free(key);
  return idx == UINTPTR_MAX ? NULL : b->m->certs[idx - 1].secret;
}

/* ---------- build ---------- */

static int
compare_ingresses(const void *a, const void *b)
{
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  const char *tx = meta_string(x, "creationTimestamp"), *ty = meta_string(y, "creationTimestamp");
  int c = strcmp(tx ? tx : "", ty ? ty : "");
  if (c == 0)
    c = strcmp(meta_namespace(x) ? meta_namespace(x) : "",
               meta_namespace(y) ? meta_namespace(y) : "");
  if (c == 0)
    c = strcmp(meta_name(x) ? meta_name(x) : "", meta_name(y) ? meta_name(y) : "");
  return c;
}

static void
add_ingress(struct builder *b, json_t *ing, bool canary, hashmap *secrets)
{
  json_t *spec = json_object_get(ing, "spec");
  size_t i, j;
  json_t *rule, *path;
  json_array_foreach (json_object_get(spec, "rules"), i, rule) {
    const char *host = json_string_value(json_object_get(rule, "host"));
    if (host == NULL || *host == '\0')
      host = INGRESS_DEFAULT_SERVER;
    struct ingress_server *s = server_for(b, host, canary ? NULL : ing);
    json_array_foreach (json_object_get(json_object_get(rule, "http"), "paths"), j, path) {
      add_path(b, ing, s, path, canary);
      s = server_for(b, host, NULL); /* add_path may have moved the array */
    }
  }
  if (canary)
    return;
  json_t *dflt = json_object_get(spec, "defaultBackend");
  struct ingress_server *def = &b->m->servers[0];
  if (dflt && def->fallback_upstream == NULL) {
    const char *u = upstream_for(b, ing, dflt);
    def = &b->m->servers[0];
    def->fallback_upstream = u ? xstrdup(u) : NULL;
  }
  json_t *tls;
  json_array_foreach (json_object_get(spec, "tls"), i, tls) {
    const char *secret_name = json_string_value(json_object_get(tls, "secretName"));
    json_t *h;
    json_array_foreach (json_object_get(tls, "hosts"), j, h) {
      const char *host = json_string_value(h);
      if (host == NULL || *host == '\0')
        continue;
      const char *cert = secret_name ? cert_for(b, ing, secret_name, secrets) : NULL;
      struct ingress_server *s = server_for(b, host, ing);
      if (!s->tls) {
        s->tls = true;
        s->tls_secret = cert ? xstrdup(cert) : NULL;
      }
    }
  }
}

/* A Prefix path's length without trailing slashes ("/foo/" is "/foo"). */
static size_t
match_length(const struct ingress_location *l)
{
  size_t len = strlen(l->path);
  while (l->kind == INGRESS_PATH_PREFIX && len > 1 && l->path[len - 1] == '/')
    len--;
  return len;
}

static int
compare_locations(const void *a, const void *b)
{
  const struct ingress_location *x = a, *y = b;
  size_t lx = match_length(x), ly = match_length(y);
  if (lx != ly)
    return lx > ly ? -1 : 1; /* longest first, as ingress-nginx orders them */
  if (x->kind != y->kind)
    return (int)x->kind - (int)y->kind;
  return strcmp(x->path, y->path);
}

static int
compare_servers(const void *a, const void *b)
{
  const struct ingress_server *x = a, *y = b;
  bool dx = strcmp(x->host, INGRESS_DEFAULT_SERVER) == 0;
  bool dy = strcmp(y->host, INGRESS_DEFAULT_SERVER) == 0;
  if (dx != dy)
    return dx ? -1 : 1;
  return strcmp(x->host, y->host);
}

static int
compare_upstreams(const void *a, const void *b)
{
  return strcmp(((const struct ingress_upstream *)a)->name,
                ((const struct ingress_upstream *)b)->name);
}

static int
compare_certs(const void *a, const void *b)
{
  return strcmp(((const struct ingress_cert *)a)->secret, ((const struct ingress_cert *)b)->secret);
}

void
ingress_model_build(const struct ingress_inputs *in, struct ingress_model *out)
{
  struct builder b = {.in = in,
                      .m = out,
                      .services = hashmap_new(),
                      .servers = hashmap_new(),
                      .upstreams = hashmap_new(),
                      .certs = hashmap_new()};
  hashmap *secrets = hashmap_new();
  for (size_t i = 0; i < in->n_services; i++) {
    char *k = xasprintf("%s/%s", meta_namespace(in->services[i]), meta_name(in->services[i]));
    hashmap_put(b.services, k, in->services[i]);
    free(k);
  }
  for (size_t i = 0; i < in->n_secrets; i++) {
    char *k = xasprintf("%s/%s", meta_namespace(in->secrets[i]), meta_name(in->secrets[i]));
    hashmap_put(secrets, k, in->secrets[i]);
    free(k);
  }
  server_for(&b, INGRESS_DEFAULT_SERVER, NULL);
  json_t **ings = xcalloc(in->n_ingresses + 1, sizeof *ings);
  memcpy(ings, in->ingresses, in->n_ingresses * sizeof *ings);
  qsort(ings, in->n_ingresses, sizeof *ings, compare_ingresses);
  out->served = xcalloc(in->n_ingresses + 1, sizeof *out->served);
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < in->n_ingresses; i++) {
      bool canary = annotation_true(ings[i], "canary", false);
      if (canary != (pass == 1))
        continue;
      add_ingress(&b, ings[i], canary, secrets);
      out->served[out->n_served++] =
          xasprintf("%s/%s", meta_namespace(ings[i]), meta_name(ings[i]));
    }
  qsort(out->served, out->n_served, sizeof *out->served, compare_str_ptrs);
  free(ings);
  for (size_t i = 0; i < out->n_servers; i++) {
    struct ingress_server *s = &out->servers[i];
    for (size_t j = 0; j < s->n_locs && s->regex; j++)
      if (s->locs[j].kind == INGRESS_PATH_PREFIX)
        s->locs[j].kind = INGRESS_PATH_REGEX;
    if (s->n_locs > 1)
      qsort(s->locs, s->n_locs, sizeof *s->locs, compare_locations);
  }
  qsort(out->servers, out->n_servers, sizeof *out->servers, compare_servers);
  if (out->n_upstreams > 1)
    qsort(out->upstreams, out->n_upstreams, sizeof *out->upstreams, compare_upstreams);
  if (out->n_certs > 1)
    qsort(out->certs, out->n_certs, sizeof *out->certs, compare_certs);
  hashmap_free(b.services, NULL);
  hashmap_free(b.servers, NULL);
  hashmap_free(b.upstreams, NULL);
  hashmap_free(b.certs, NULL);
  hashmap_free(secrets, NULL);
}

void
ingress_model_clear(struct ingress_model *m)
{
  for (size_t i = 0; i < m->n_servers; i++) {
    struct ingress_server *s = &m->servers[i];
    for (size_t j = 0; j < s->n_locs; j++) {
      struct ingress_location *l = &s->locs[j];
      free(l->path);
      free(l->upstream);
      free(l->rewrite_target);
      free(l->owner);
      if (l->canary) {
        free(l->canary->upstream);
        free(l->canary->header);
        free(l->canary->header_value);
        free(l->canary);
      }
    }
    free(s->locs);
    free(s->host);
    free(s->tls_secret);
    free(s->fallback_upstream);
  }
  free(m->servers);
  for (size_t i = 0; i < m->n_upstreams; i++) {
    for (size_t j = 0; j < m->upstreams[i].n_endpoints; j++)
      free(m->upstreams[i].endpoints[j]);
    free(m->upstreams[i].endpoints);
    free(m->upstreams[i].name);
  }
  free(m->upstreams);
  for (size_t i = 0; i < m->n_certs; i++) {
    free(m->certs[i].secret);
    if (m->certs[i].pem) {
      memset(m->certs[i].pem, 0, strlen(m->certs[i].pem));
      free(m->certs[i].pem);
    }
  }
  free(m->certs);
  for (size_t i = 0; i < m->n_problems; i++) {
    json_decref(m->problems[i].obj);
    free(m->problems[i].reason);
    free(m->problems[i].message);
  }
  free(m->problems);
  for (size_t i = 0; i < m->n_served; i++)
    free(m->served[i]);
  free(m->served);
  memset(m, 0, sizeof *m);
}
