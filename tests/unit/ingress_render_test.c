/* ingress_render_test.c — Ingress objects → model → nginx.conf, checked by golden
 * fragments: hosts, path kinds and their order, rewrite-target, canary split by weight
 * and header, TLS with a valid and a missing Secret, ssl-redirect, default backends,
 * Services without endpoints, and tracing a config line back to its Ingress. */
#include "apiserver/pki_cert.h"
#include "ingress/ingress_model.h"
#include "ingress/ingress_render.h"
#include "lib/mem.h"
#include "testlib.h"

#include <nettle/base64.h>
#include <string.h>
#include <time.h>

#define STATE "/run/k8c-ingress-test"

static json_t *
J(const char *text)
{
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  if (j == NULL) {
    fprintf(stderr, "bad JSON: %s: %s\n", e.text, text);
    abort();
  }
  return j;
}

static json_t *
ingress(const char *name, const char *created, const char *annotations, const char *spec)
{
  char *t = xasprintf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\","
                      "\"creationTimestamp\":\"%s\",\"resourceVersion\":\"1\",\"annotations\":%s},"
                      "\"spec\":%s}",
                      name, created, annotations ? annotations : "{}", spec);
  json_t *j = J(t);
  free(t);
  return j;
}

static json_t *
service(const char *name)
{
  char *t = xasprintf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\"},\"spec\":"
                      "{\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080}]}}",
                      name);
  json_t *j = J(t);
  free(t);
  return j;
}

/* A slice of svc with ready endpoints ips (comma separated) on 8080 and one not ready. */
static json_t *
slice(const char *svc, const char *ips)
{
  json_t *eps = json_array();
  char *list = xstrdup(ips), *save = NULL;
  for (char *ip = strtok_r(list, ",", &save); ip; ip = strtok_r(NULL, ",", &save))
    json_array_append_new(eps,
                          json_pack("{s:[s],s:{s:b}}", "addresses", ip, "conditions", "ready", 1));
  free(list);
  json_array_append_new(
      eps, json_pack("{s:[s],s:{s:b}}", "addresses", "10.9.9.9", "conditions", "ready", 0));
  return json_pack("{s:{s:s,s:s,s:{s:s}},s:s,s:[{s:s,s:i}],s:o}", "metadata", "name", svc,
                   "namespace", "default", "labels", "kubernetes.io/service-name", svc,
                   "addressType", "IPv4", "ports", "name", "http", "port", 8080, "endpoints", eps);
}

struct fixture {
  json_t *objs[32];
  size_t n;
  struct ingress_inputs in;
  json_t *ings[8], *svcs[8], *slices[8], *secrets[4];
  struct ingress_model m;
  char *conf;
};

static void
fx_build(struct fixture *f)
{
  f->in = (struct ingress_inputs){
      .ingresses = f->ings, .services = f->svcs, .slices = f->slices, .secrets = f->secrets};
  for (size_t i = 0; i < 8 && f->ings[i]; i++)
    f->in.n_ingresses++;
  for (size_t i = 0; i < 8 && f->svcs[i]; i++)
    f->in.n_services++;
  for (size_t i = 0; i < 8 && f->slices[i]; i++)
    f->in.n_slices++;
  for (size_t i = 0; i < 4 && f->secrets[i]; i++)
    f->in.n_secrets++;
  ingress_model_build(&f->in, &f->m);
  struct ingress_render_config cfg = {.state_dir = STATE,
                                      .http_listen = "127.0.0.1:8080",
                                      .https_listen = "127.0.0.1:8443",
                                      .https_port = 8443};
  f->conf = ingress_render(&f->m, &cfg);
}

static void
fx_free(struct fixture *f)
{
  free(f->conf);
  ingress_model_clear(&f->m);
  json_t **lists[] = {f->ings, f->svcs, f->slices};
  for (size_t l = 0; l < 3; l++)
    for (size_t i = 0; i < 8; i++)
      json_decref(lists[l][i]);
  for (size_t i = 0; i < 4; i++)
    json_decref(f->secrets[i]);
}

static bool
has(const char *conf, const char *fragment)
{
  if (strstr(conf, fragment))
    return true;
  fprintf(stderr, "missing fragment:\n%s\n--- in ---\n%s\n", fragment, conf);
  return false;
}

static long
pos(const char *conf, const char *fragment)
{
  const char *p = strstr(conf, fragment);
  return p ? p - conf : -1;
}

#define BACKEND(svc) "{\"service\":{\"name\":\"" svc "\",\"port\":{\"number\":80}}}"

TEST(hosts_route_to_their_services_with_ready_endpoints)
{
  struct fixture f = {0};
  f.ings[0] =
      ingress("fe-be", "2024-01-01T00:00:00Z", NULL,
              "{\"ingressClassName\":\"nginx\",\"rules\":["
              "{\"host\":\"example.com\",\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":"
              "\"Prefix\",\"backend\":" BACKEND(
                  "web-svc") "}]}},"
                             "{\"host\":\"api.example.com\",\"http\":{\"paths\":[{\"path\":\"/\","
                             "\"pathType\":\"Prefix\",\"backend\":" BACKEND("api-svc") "}]}}]}");
  f.svcs[0] = service("web-svc");
  f.svcs[1] = service("api-svc");
  f.slices[0] = slice("web-svc", "10.0.0.2,10.0.0.1");
  f.slices[1] = slice("api-svc", "10.0.1.1");
  fx_build(&f);
  CHECK(has(f.conf, "  upstream default-web-svc-80 {\n    server 10.0.0.1:8080 max_fails=0;\n"
                    "    server 10.0.0.2:8080 max_fails=0;\n    keepalive 32;\n  }\n"));
  CHECK(has(f.conf, "  upstream default-api-svc-80 {\n    server 10.0.1.1:8080 max_fails=0;\n"));
  CHECK(strstr(f.conf, "10.9.9.9") == NULL); /* not ready */
  CHECK(has(f.conf, "    listen 127.0.0.1:8080;\n    listen 127.0.0.1:8443 ssl;\n"
                    "    server_name api.example.com;\n"));
  CHECK(has(f.conf, "    location \"/\" { # ingress default/fe-be\n"
                    "      proxy_pass http://default-web-svc-80;\n    }\n"));
  /* The catch-all server answers 404 without a default backend. */
  CHECK(has(f.conf, "    listen 127.0.0.1:8080 default_server;\n"
                    "    listen 127.0.0.1:8443 ssl default_server;\n    server_name _;\n"
                    "    ssl_certificate " STATE "/tls/default.pem;\n"));
  CHECK(has(f.conf, "    location \"/\" { # ingress -\n      return 404;\n    }\n"));
  CHECK_INT((long)f.m.n_served, 1);
  CHECK_INT((long)f.m.n_problems, 0);
  fx_free(&f);
}

TEST(prefix_is_element_wise_exact_is_exact_and_longest_paths_come_first)
{
  struct fixture f = {0};
  f.ings[0] = ingress(
      "paths", "2024-01-01T00:00:00Z", NULL,
      "{\"rules\":[{\"host\":\"p.test\",\"http\":{\"paths\":["
      "{\"path\":\"/foo/\",\"pathType\":\"Prefix\",\"backend\":" BACKEND(
          "a") "},"
               "{\"path\":\"/foo/bar\",\"pathType\":\"Exact\",\"backend\":" BACKEND(
                   "b") "},"
                        "{\"path\":\"/foo\",\"pathType\":\"Exact\",\"backend\":" BACKEND(
                            "b") "},"
                                 "{\"path\":\"/"
                                 "x\",\"pathType\":\"ImplementationSpecific\",\"backend\":" BACKEND(
                                     "a") "}]}}]}");
  f.svcs[0] = service("a");
  f.svcs[1] = service("b");
  fx_build(&f);
  CHECK(has(f.conf, "    location = \"/foo/bar\" { # ingress default/paths\n"
                    "      proxy_pass http://default-b-80;\n"));
  CHECK(has(f.conf, "    location \"/foo/\" { # ingress default/paths\n"
                    "      proxy_pass http://default-a-80;\n"));
  /* Exact /foo wins over the exact half of Prefix /foo/ (same location, listed once). */
  CHECK(has(f.conf, "    location = \"/foo\" { # ingress default/paths\n"
                    "      proxy_pass http://default-b-80;\n"));
  CHECK(strstr(strstr(f.conf, "location = \"/foo\" {") + 1, "location = \"/foo\" {") == NULL);
  CHECK(has(f.conf, "    location = \"/x\" {"));
  CHECK(has(f.conf, "    location \"/x/\" {"));
  CHECK(pos(f.conf, "\"/foo/bar\"") < pos(f.conf, "\"/foo/\""));
  /* No "/" path: the host's fallback is the built-in 404. */
  CHECK(has(f.conf, "    location \"/\" { # ingress -\n      return 404;\n"));
  /* No endpoints: the upstream points at the internal 503 server. */
  CHECK(has(f.conf, "  upstream default-a-80 {\n    server unix:" STATE
                    "/unavailable.sock; # no ready endpoints\n  }\n"));
  CHECK(has(f.conf, "    listen unix:" STATE "/unavailable.sock;\n    return 503;\n"));
  fx_free(&f);
}

TEST(rewrite_target_turns_the_host_to_regex_with_capture_groups)
{
  struct fixture f = {0};
  f.ings[0] = ingress(
      "rw", "2024-01-01T00:00:00Z", "{\"nginx.ingress.kubernetes.io/rewrite-target\":\"/$2\"}",
      "{\"rules\":[{\"host\":\"rw.test\",\"http\":{\"paths\":["
      "{\"path\":\"/api(/|$)(.*)\",\"pathType\":\"ImplementationSpecific\","
      "\"backend\":" BACKEND("a") "},"
                                  "{\"path\":\"/a\",\"pathType\":\"Prefix\",\"backend\":" BACKEND(
                                      "a") "}]}}]}");
  f.svcs[0] = service("a");
  fx_build(&f);
  CHECK(has(f.conf, "    location ~* \"^/api(/|$)(.*)\" { # ingress default/rw\n"
                    "      rewrite \"(?i)^/api(/|$)(.*)\" \"/$2\" break;\n"
                    "      proxy_pass http://default-a-80;\n"));
  CHECK(has(f.conf, "    location ~* \"^/a\" {"));
  CHECK(pos(f.conf, "\"^/api(/|$)(.*)\"") < pos(f.conf, "\"^/a\""));
  fx_free(&f);
}

TEST(canary_by_weight_and_by_header_choose_per_request)
{
  struct fixture f = {0};
  const char *spec = "{\"rules\":[{\"host\":\"example.com\",\"http\":{\"paths\":[{\"path\":\"/\","
                     "\"pathType\":\"Prefix\",\"backend\":" BACKEND("%s") "}]}}]}";
  char *main_spec = xasprintf(spec, "web");
  char *canary_spec = xasprintf(spec, "web-canary");
  f.ings[0] = ingress("main", "2024-01-01T00:00:00Z", NULL, main_spec);
  f.ings[1] = ingress("canary", "2023-01-01T00:00:00Z",
                      "{\"nginx.ingress.kubernetes.io/canary\":\"true\","
                      "\"nginx.ingress.kubernetes.io/canary-weight\":\"10\","
                      "\"nginx.ingress.kubernetes.io/canary-by-header\":\"X-Canary\"}",
                      canary_spec);
  f.svcs[0] = service("web");
  f.svcs[1] = service("web-canary");
  fx_build(&f);
  CHECK(has(f.conf, "  split_clients \"${request_id}\" $k8c_canary_weight_1 {\n"
                    "    10.00% default-web-canary-80;\n    * default-web-80;\n  }\n"));
  CHECK(has(f.conf, "  map $http_x_canary $k8c_canary_1 {\n"
                    "    \"always\" default-web-canary-80;\n    \"never\" default-web-80;\n"
                    "    default $k8c_canary_weight_1;\n  }\n"));
  CHECK(has(f.conf, "    location \"/\" { # ingress default/main\n"
                    "      proxy_pass http://$k8c_canary_1;\n"));
  /* The canary never owns the location, though it is older. */
  CHECK(strstr(f.conf, "# ingress default/canary") == NULL);
  CHECK_INT((long)f.m.n_served, 2);
  fx_free(&f);
  free(main_spec);

  struct fixture g = {0};
  char *main2 = xasprintf(spec, "web");
  g.ings[0] = ingress("main", "2024-01-01T00:00:00Z", NULL, main2);
  g.ings[1] = ingress("canary", "2024-01-02T00:00:00Z",
                      "{\"nginx.ingress.kubernetes.io/canary\":\"true\","
                      "\"nginx.ingress.kubernetes.io/canary-weight\":\"1\","
                      "\"nginx.ingress.kubernetes.io/canary-weight-total\":\"3\","
                      "\"nginx.ingress.kubernetes.io/canary-by-header\":\"Beta\","
                      "\"nginx.ingress.kubernetes.io/canary-by-header-value\":\"yes\"}",
                      canary_spec);
  fx_build(&g);
  CHECK(has(g.conf, "    33.33% default-web-canary-80;\n"));
  CHECK(has(g.conf, "  map $http_beta $k8c_canary_1 {\n    \"yes\" default-web-canary-80;\n"
                    "    default $k8c_canary_weight_1;\n  }\n"));
  fx_free(&g);
  free(main2);
  free(canary_spec);
}

static char *
base64_of(const char *s)
{
  size_t n = strlen(s);
  char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
  base64_encode_raw(out, n, (const uint8_t *)s);
  out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
  return out;
}

TEST(tls_from_a_secret_ssl_redirect_and_a_missing_secret)
{
  struct pki_keypair kp = {0};
  k8c_err err = {0};
  time_t now = time(NULL);
  static const char *const dns[] = {"secure.test", NULL};
  struct pki_cert_spec spec = {.cn = "secure.test",
                               .usage = PKI_USAGE_SERVER,
                               .san_dns = dns,
                               .not_before = now - 60,
                               .not_after = now + 3600};
  char *crt = NULL, *key = NULL;
  CHECK_INT(pki_cert_create(&spec, NULL, &kp, &err), 0);
  CHECK_INT(pki_keypair_export(&kp, &crt, &key, &err), 0);
  char *crt64 = base64_of(crt), *key64 = base64_of(key);
  struct fixture f = {0};
  f.ings[0] = ingress("secure", "2024-01-01T00:00:00Z", NULL,
                      "{\"tls\":[{\"hosts\":[\"secure.test\"],\"secretName\":\"good\"}],"
                      "\"rules\":[{\"host\":\"secure.test\",\"http\":{\"paths\":[{\"path\":\"/\","
                      "\"pathType\":\"Prefix\",\"backend\":" BACKEND("a") "}]}}]}");
  f.ings[1] = ingress("plain", "2024-01-01T00:00:01Z",
                      "{\"nginx.ingress.kubernetes.io/ssl-redirect\":\"false\"}",
                      "{\"tls\":[{\"hosts\":[\"broken.test\"],\"secretName\":\"missing\"}],"
                      "\"rules\":[{\"host\":\"broken.test\",\"http\":{\"paths\":[{\"path\":\"/\","
                      "\"pathType\":\"Prefix\",\"backend\":" BACKEND("a") "}]}}]}");
  f.svcs[0] = service("a");
  f.secrets[0] =
      json_pack("{s:{s:s,s:s},s:s,s:{s:s,s:s}}", "metadata", "name", "good", "namespace", "default",
                "type", "kubernetes.io/tls", "data", "tls.crt", crt64, "tls.key", key64);
  fx_build(&f);
  CHECK_INT((long)f.m.n_certs, 1);
  CHECK_STR(f.m.certs[0].secret, "default/good");
  CHECK(strstr(f.m.certs[0].pem, "BEGIN CERTIFICATE") && strstr(f.m.certs[0].pem, "PRIVATE KEY"));
  CHECK(has(f.conf,
            "    server_name secure.test;\n    ssl_certificate " STATE "/tls/default_good.pem;\n"));
  CHECK(has(f.conf, "    location \"/\" { # ingress default/secure\n"
                    "      if ($scheme = \"http\") { return 308 https://$host:8443$request_uri; }\n"
                    "      proxy_pass http://default-a-80;\n"));
  /* The missing secret: default certificate, a problem, and (ssl-redirect false) no redirect. */
  CHECK(has(f.conf,
            "    server_name broken.test;\n    ssl_certificate " STATE "/tls/default.pem;\n"));
  CHECK(has(f.conf, "    location \"/\" { # ingress default/plain\n"
                    "      proxy_pass http://default-a-80;\n"));
  CHECK_INT((long)f.m.n_problems, 1);
  CHECK_STR(f.m.problems[0].reason, "InvalidSecret");
  CHECK(strstr(f.m.problems[0].message, "default/missing") != NULL);
  const char *why = NULL;
  json_t *opaque = J("{\"type\":\"Opaque\",\"data\":{}}");
  CHECK(ingress_secret_pem(opaque, &why) == NULL && why != NULL);
  json_decref(opaque);
  fx_free(&f);
  pki_keypair_clear(&kp);
  free(crt);
  free(key);
  free(crt64);
  free(key64);
}

TEST(default_backend_oldest_wins_and_owner_of_a_line)
{
  struct fixture f = {0};
  f.ings[0] = ingress(
      "newer", "2024-02-01T00:00:00Z", NULL,
      "{\"defaultBackend\":" BACKEND(
          "b") ",\"rules\":[{\"host\":\"h.test\","
               "\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":" BACKEND(
                   "b") "}]}}]}");
  f.ings[1] = ingress(
      "older", "2024-01-01T00:00:00Z", NULL,
      "{\"defaultBackend\":" BACKEND(
          "a") ",\"rules\":[{\"host\":\"h.test\","
               "\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":" BACKEND(
                   "a") "}]}}]}");
  f.svcs[0] = service("a");
  f.svcs[1] = service("b");
  fx_build(&f);
  CHECK(has(f.conf, "    server_name _;\n    ssl_certificate " STATE "/tls/default.pem;\n"
                    "    ssl_certificate_key " STATE "/tls/default.pem;\n"
                    "    location \"/\" { # ingress -\n      proxy_pass http://default-a-80;\n"));
  CHECK(has(f.conf, "    location \"/\" { # ingress default/older\n"
                    "      proxy_pass http://default-a-80;\n"));
  CHECK(strstr(f.conf, "# ingress default/newer") == NULL);
  int line = 1;
  for (const char *p = f.conf; p < strstr(f.conf, "# ingress default/older"); p++)
    line += *p == '\n';
  char *owner = ingress_render_owner_of_line(f.conf, line + 1);
  CHECK_STR(owner, "default/older");
  free(owner);
  CHECK(ingress_render_owner_of_line(f.conf, 3) == NULL);
  fx_free(&f);
}

TEST(class_selection_and_unsafe_paths)
{
  json_t *named = J("{\"spec\":{\"ingressClassName\":\"nginx\"}}");
  json_t *other = J("{\"spec\":{\"ingressClassName\":\"traefik\"}}");
  json_t *none = J("{\"spec\":{}}");
  json_t *legacy =
      J("{\"metadata\":{\"annotations\":{\"kubernetes.io/ingress.class\":\"nginx\"}}}");
  CHECK(ingress_is_served(named, "nginx", false));
  CHECK(!ingress_is_served(other, "nginx", true));
  CHECK(ingress_is_served(none, "nginx", true));
  CHECK(!ingress_is_served(none, "nginx", false));
  CHECK(ingress_is_served(legacy, "nginx", false));
  json_decref(named);
  json_decref(other);
  json_decref(none);
  json_decref(legacy);

  struct fixture f = {0};
  f.ings[0] =
      ingress("evil", "2024-01-01T00:00:00Z", NULL,
              "{\"rules\":[{\"host\":\"e.test\",\"http\":{\"paths\":["
              "{\"path\":\"/a\\\" { return 200; } #\",\"pathType\":\"ImplementationSpecific\","
              "\"backend\":" BACKEND("a") "}]}}]}");
  fx_build(&f);
  CHECK(strstr(f.conf, "return 200") == NULL);
  CHECK_INT((long)f.m.n_problems, 1);
  CHECK_STR(f.m.problems[0].reason, "InvalidPath");
  fx_free(&f);
}

TEST_MAIN()
