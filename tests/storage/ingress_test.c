/* ingress_test.c — the ingress controller end to end in one process: a real registry,
 * the controller with a real nginx on free high ports of 127.0.0.1, and small HTTP
 * backends on 127.0.0.x that answer their own name and the path they got (EndpointSlices
 * point at them). Checks host routing, Prefix vs Exact, rewrite-target, TLS with a
 * Secret, ssl-redirect, canary by weight (1,000 requests) and header, a missing Secret
 * (an Event, the rest keeps serving), an endpoint change under load without errors,
 * nginx restarted after SIGKILL, status.loadBalancer, and cleanup. */
#include "apiserver/pki_cert.h"
#include "client_fixture.h"
#include "ingress/ingress.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <nettle/base64.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------- backends ---------- */

struct backend {
  char name[16];
  char ip[16];
  int port;
  int fd;
  atomic_bool stop;
  pthread_t thread;
};

static void *
backend_main(void *arg)
{
  struct backend *b = arg;
  while (!atomic_load(&b->stop)) {
    struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
    if (poll(&pfd, 1, 50) <= 0)
      continue;
    int c = accept(b->fd, NULL, NULL);
    if (c < 0)
      continue;
    char req[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof req - 1 && (n = read(c, req + got, sizeof req - 1 - got)) > 0) {
      got += (size_t)n;
      req[got] = '\0';
      if (strstr(req, "\r\n\r\n"))
        break;
    }
    req[got] = '\0';
    char path[1024] = "";
    if (sscanf(req, "%*s %1023s", path) != 1)
      strcpy(path, "?");
    char body[1200];
    int len = snprintf(body, sizeof body, "%s %s", b->name, path);
    char resp[1400];
    int rl =
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len, body);
    if (write(c, resp, (size_t)rl) < 0)
      perror("backend write");
    close(c);
  }
  return NULL;
}

static int
backend_start(struct backend *b, const char *name, const char *ip)
{
  snprintf(b->name, sizeof b->name, "%s", name);
  snprintf(b->ip, sizeof b->ip, "%s", ip);
  b->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(b->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (bind(b->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(b->fd, 128) < 0)
    return -1;
  socklen_t al = sizeof a;
  getsockname(b->fd, (struct sockaddr *)&a, &al);
  b->port = ntohs(a.sin_port);
  atomic_store(&b->stop, false);
  return pthread_create(&b->thread, NULL, backend_main, b) == 0 ? 0 : -1;
}

static void
backend_stop(struct backend *b)
{
  atomic_store(&b->stop, true);
  pthread_join(b->thread, NULL);
  close(b->fd);
}

static int
free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &al) < 0)
    abort();
  close(fd);
  return ntohs(a.sin_port);
}

/* ---------- HTTP client ---------- */

struct http {
  CURL *curl;
  int http_port, https_port;
  char body[2048];
  size_t len;
  char location[512];
};

static size_t
collect(char *data, size_t size, size_t n, void *ctx)
{
  struct http *h = ctx;
  size_t take = size * n;
  if (h->len + take >= sizeof h->body)
    take = sizeof h->body - 1 - h->len;
  memcpy(h->body + h->len, data, take);
  h->len += take;
  h->body[h->len] = '\0';
  return size * n;
}

static void
http_init(struct http *h, int http_port, int https_port)
{
  memset(h, 0, sizeof *h);
  h->curl = curl_easy_init();
  h->http_port = http_port;
  h->https_port = https_port;
}

/* GET host+path over http (or https with --resolve and ca); the status, 0 on a
 * transport error; the body is in h->body. extra: one more header or NULL. */
static long
http_get(struct http *h, bool tls, const char *host, const char *path, const char *extra,
         const char *ca)
{
  CURL *c = h->curl;
  curl_easy_reset(c);
  char url[512];
  struct curl_slist *hdrs = NULL, *resolve = NULL;
  char hosthdr[256];
  if (tls) {
    snprintf(url, sizeof url, "https://%s:%d%s", host, h->https_port, path);
    char r[256];
    snprintf(r, sizeof r, "%s:%d:127.0.0.1", host, h->https_port);
    resolve = curl_slist_append(NULL, r);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    if (ca)
      curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    else
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L),
          curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", h->http_port, path);
    snprintf(hosthdr, sizeof hosthdr, "Host: %s", host);
    hdrs = curl_slist_append(hdrs, hosthdr);
  }
  if (extra)
    hdrs = curl_slist_append(hdrs, extra);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  h->len = 0;
  h->body[0] = '\0';
  h->location[0] = '\0';
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char *loc = NULL;
    if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
      snprintf(h->location, sizeof h->location, "%s", loc);
  }
  curl_slist_free_all(hdrs);
  curl_slist_free_all(resolve);
  return status;
}

/* Polls until host+path answers 200 with a body starting with want (up to 10 s). */
static bool
wait_body(struct http *h, const char *host, const char *path, const char *want)
{
  for (int i = 0; i < 1000; i++) {
    if (http_get(h, false, host, path, NULL, NULL) == 200 &&
        strncmp(h->body, want, strlen(want)) == 0)
      return true;
    usleep(10000);
  }
  fprintf(stderr, "%s%s: last answer [%s]\n", host, path, h->body);
  return false;
}

/* ---------- objects ---------- */

static struct client_fixture fx;

static const struct api_resource *
res(const char *group, const char *plural)
{
  return api_resource_find(group, "v1", plural);
}

static void
create_obj(const char *group, const char *plural, json_t *obj)
{
  k8c_err err = {0};
  if (client_create(fx.client, res(group, plural), "default", obj, NULL, NULL, &err) < 0)
    fprintf(stderr, "create %s: %s\n", plural, err.message);
  CHECK_INT(err.status, 0);
  k8c_err_clear(&err);
  json_decref(obj);
}

static void
create_service(const char *name)
{
  create_obj("", "services",
             json_pack("{s:{s:s},s:{s:[{s:s,s:i,s:i}]}}", "metadata", "name", name, "spec", "ports",
                       "name", "http", "port", 80, "targetPort", 8080));
}

static json_t *
slice_obj(const char *svc, const struct backend *b)
{
  return json_pack("{s:{s:s,s:{s:s}},s:s,s:[{s:s,s:i,s:s}],s:[{s:[s],s:{s:b}}]}", "metadata",
                   "name", svc, "labels", "kubernetes.io/service-name", svc, "addressType", "IPv4",
                   "ports", "name", "http", "port", b->port, "protocol", "TCP", "endpoints",
                   "addresses", b->ip, "conditions", "ready", 1);
}

static void
create_ingress(const char *name, const char *annotations, const char *spec)
{
  char *t = xasprintf("{\"metadata\":{\"name\":\"%s\",\"annotations\":%s},\"spec\":%s}", name,
                      annotations ? annotations : "{}", spec);
  create_obj("networking.k8s.io", "ingresses", json_of(t));
  free(t);
}

#define RULE(host, path, type, svc)                                                                \
  "{\"host\":\"" host "\",\"http\":{\"paths\":[{\"path\":\"" path "\",\"pathType\":\"" type        \
  "\",\"backend\":{\"service\":{\"name\":\"" svc "\",\"port\":{\"number\":80}}}}]}}"

static char *
base64_of(const char *s)
{
  size_t n = strlen(s);
  char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
  base64_encode_raw(out, n, (const uint8_t *)s);
  out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
  return out;
}

/* A CA (written to ca_path) and a certificate for secure.test it signed, as a Secret. */
static void
create_tls_secret(const char *ca_path)
{
  time_t now = time(NULL);
  struct pki_cert_spec ca_spec = {.cn = "ingress-test-ca",
                                  .usage = PKI_USAGE_CA,
                                  .not_before = now - 60,
                                  .not_after = now + 3600};
  static const char *const dns[] = {"secure.test", NULL};
  struct pki_cert_spec spec = {.cn = "secure.test",
                               .usage = PKI_USAGE_SERVER,
                               .san_dns = dns,
                               .not_before = now - 60,
                               .not_after = now + 3600};
  struct pki_keypair ca = {0}, kp = {0};
  k8c_err err = {0};
  char *ca_pem = NULL, *crt = NULL, *key = NULL;
  CHECK_INT(pki_cert_create(&ca_spec, NULL, &ca, &err), 0);
  CHECK_INT(pki_cert_create(&spec, &ca, &kp, &err), 0);
  CHECK_INT(pki_keypair_export(&ca, &ca_pem, NULL, &err), 0);
  CHECK_INT(pki_keypair_export(&kp, &crt, &key, &err), 0);
  FILE *f = fopen(ca_path, "w");
  fputs(ca_pem, f);
  fclose(f);
  char *c64 = base64_of(crt), *k64 = base64_of(key);
  create_obj("", "secrets",
             json_pack("{s:{s:s},s:s,s:{s:s,s:s}}", "metadata", "name", "secure-tls", "type",
                       "kubernetes.io/tls", "data", "tls.crt", c64, "tls.key", k64));
  free(c64);
  free(k64);
  free(ca_pem);
  free(crt);
  free(key);
  pki_keypair_clear(&ca);
  pki_keypair_clear(&kp);
}

/* ---------- a client loop for the reload check ---------- */

struct loop {
  int http_port;
  atomic_bool stop;
  atomic_int ok, errors, api2;
  pthread_t thread;
};

static void *
loop_main(void *arg)
{
  struct loop *l = arg;
  struct http h;
  http_init(&h, l->http_port, 0);
  while (!atomic_load(&l->stop)) {
    long st = http_get(&h, false, "api.example.com", "/", NULL, NULL);
    if (st == 200 && strncmp(h.body, "api", 3) == 0) {
      atomic_fetch_add(&l->ok, 1);
      if (strncmp(h.body, "api2 ", 5) == 0)
        atomic_fetch_add(&l->api2, 1);
    } else {
      atomic_fetch_add(&l->errors, 1);
      fprintf(stderr, "loop: status %ld body [%s]\n", st, h.body);
    }
  }
  curl_easy_cleanup(h.curl);
  return NULL;
}

static long long
now_ms(void)
{
  return fixture_now_ms();
}

static bool
has_event(const char *ingress, const char *reason)
{
  json_t *list = NULL;
  k8c_err err = {0};
  bool found = false;
  if (client_list(fx.client, res("", "events"), "default", NULL, &list, &err) == 0) {
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(list, "items"), i, e) {
      const char *n =
          json_string_value(json_object_get(json_object_get(e, "involvedObject"), "name"));
      const char *r = json_string_value(json_object_get(e, "reason"));
      if (n && r && strcmp(n, ingress) == 0 && strcmp(r, reason) == 0)
        found = true;
    }
  }
  json_decref(list);
  k8c_err_clear(&err);
  return found;
}

TEST(ingress_controller_with_real_nginx)
{
  if (access("/usr/sbin/nginx", X_OK) != 0) {
    fprintf(stderr, "FATAL: /usr/sbin/nginx is missing (install nginx-light)\n");
    CHECK(false);
    return;
  }
  long long t_start = now_ms();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CHECK_INT(client_fixture_open(&fx), 0);
  struct backend web = {0}, api = {0}, canary = {0}, api2 = {0};
  CHECK_INT(backend_start(&web, "web", "127.0.0.2"), 0);
  CHECK_INT(backend_start(&api, "api", "127.0.0.3"), 0);
  CHECK_INT(backend_start(&canary, "canary", "127.0.0.4"), 0);
  CHECK_INT(backend_start(&api2, "api2", "127.0.0.5"), 0);
  create_service("web-svc");
  create_service("api-svc");
  create_service("web-canary");
  create_obj("discovery.k8s.io", "endpointslices", slice_obj("web-svc", &web));
  create_obj("discovery.k8s.io", "endpointslices", slice_obj("api-svc", &api));
  create_obj("discovery.k8s.io", "endpointslices", slice_obj("web-canary", &canary));
  char *ca_path = xasprintf("%s/ca.pem", fx.dir);
  create_tls_secret(ca_path);

  int http_port = free_port(), https_port = free_port();
  char *state = xasprintf("%s/ingress", fx.dir);
  struct ingress_config cfg = {.state_dir = state,
                               .http_address = "127.0.0.1",
                               .http_port = http_port,
                               .https_port = https_port,
                               .publish_address = "127.0.0.1"};
  k8c_err err = {0};
  struct ingress_controller *ic = ingress_start(fx.client, NULL, &cfg, &err);
  CHECK(ic != NULL);
  if (ic == NULL) {
    fprintf(stderr, "ingress_start: %s\n", err.message);
    goto out;
  }
  struct http h;
  http_init(&h, http_port, https_port);

  /* The seed's two-host Ingress. */
  create_ingress("fe-be", NULL,
                 "{\"ingressClassName\":\"nginx\",\"rules\":[" RULE(
                     "example.com", "/", "Prefix", "web-svc") "," RULE("api.example.com", "/",
                                                                       "Prefix", "api-svc") "]}");
  CHECK(wait_body(&h, "example.com", "/", "web /"));
  CHECK(wait_body(&h, "api.example.com", "/x", "api /x"));
  CHECK_INT(http_get(&h, false, "unknown.test", "/", NULL, NULL), 404);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "The IngressClass ");
  /* The IngressClass exists, is default; the status carries our address. */
  json_t *cls = NULL, *ing = NULL;
  CHECK_INT(
      client_get(fx.client, res("networking.k8s.io", "ingressclasses"), "", "nginx", &cls, &err),
      0);
  CHECK_STR(json_string_value(
                json_object_get(json_object_get(json_object_get(cls, "metadata"), "annotations"),
                                "ingressclass.kubernetes.io/is-default-class")),
            "true");
  json_decref(cls);
  for (int i = 0; i < 200; i++) {
    json_decref(ing);
    ing = NULL;
    CHECK_INT(client_get(fx.client, res("networking.k8s.io", "ingresses"), "default", "fe-be", &ing,
                         &err),
              0);
    json_t *lb =
        json_object_get(json_object_get(json_object_get(ing, "status"), "loadBalancer"), "ingress");
    if (json_array_size(lb) == 1)
      break;
    usleep(20000);
  }
  CHECK_JSON(json_object_get(json_object_get(ing, "status"), "loadBalancer"),
             "{\"ingress\":[{\"ip\":\"127.0.0.1\"}]}");
  json_decref(ing);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "Prefix (element-w");
  /* Prefix (element-wise) vs Exact; class by default (no ingressClassName). */
  create_ingress("paths", NULL,
                 "{\"rules\":[{\"host\":\"paths.test\",\"http\":{\"paths\":["
                 "{\"path\":\"/app\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":"
                 "\"api-svc\",\"port\":{\"number\":80}}}},"
                 "{\"path\":\"/exact\",\"pathType\":\"Exact\",\"backend\":{\"service\":{\"name\":"
                 "\"web-svc\",\"port\":{\"name\":\"http\"}}}}]}}]}");
  CHECK(wait_body(&h, "paths.test", "/app/x", "api /app/x"));
  CHECK(wait_body(&h, "paths.test", "/app", "api /app"));
  CHECK_INT(http_get(&h, false, "paths.test", "/appx", NULL, NULL), 404);
  CHECK(wait_body(&h, "paths.test", "/exact", "web /exact"));
  CHECK_INT(http_get(&h, false, "paths.test", "/exact/y", NULL, NULL), 404);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "rewrite-target wi");
  /* rewrite-target with capture groups. */
  create_ingress(
      "rewrite",
      "{\"nginx.ingress.kubernetes.io/use-regex\":\"true\","
      "\"nginx.ingress.kubernetes.io/rewrite-target\":\"/$2\"}",
      "{\"rules\":[" RULE("rw.test", "/svc(/|$)(.*)", "ImplementationSpecific", "api-svc") "]}");
  CHECK(wait_body(&h, "rw.test", "/svc/hello/world", "api /hello/world"));

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "TLS from a Secret");
  /* TLS from a Secret, and ssl-redirect. */
  create_ingress("secure", NULL,
                 "{\"tls\":[{\"hosts\":[\"secure.test\"],\"secretName\":\"secure-tls\"}],"
                 "\"rules\":[" RULE("secure.test", "/", "Prefix", "web-svc") "]}");
  long st = 0;
  for (int i = 0; i < 500 && st != 200; i++) {
    st = http_get(&h, true, "secure.test", "/tls", NULL, ca_path);
    if (st != 200)
      usleep(10000);
  }
  CHECK_INT(st, 200);
  CHECK_STR(h.body, "web /tls");
  /* The HTTPS check came on a new connection; plain HTTP reuses a kept-alive one, which an
   * nginx worker of the configuration before the reload may still be serving. */
  for (int i = 0; i < 500 && (st = http_get(&h, false, "secure.test", "/a?b=1", NULL, NULL)) != 308;
       i++)
    usleep(10000);
  CHECK_INT(st, 308);
  char *want_loc = xasprintf("https://secure.test:%d/a?b=1", https_port);
  CHECK_STR(h.location, want_loc);
  free(want_loc);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "A missing TLS sec");
  /* A missing TLS secret: an Event; that host on the default certificate; others fine. */
  create_ingress("broken", NULL,
                 "{\"tls\":[{\"hosts\":[\"broken.test\"],\"secretName\":\"nope\"}],"
                 "\"rules\":[" RULE("broken.test", "/", "Prefix", "api-svc") "]}");
  bool event = false;
  for (int i = 0; i < 300 && !event; i++) {
    event = has_event("broken", "InvalidSecret");
    if (!event)
      usleep(10000);
  }
  CHECK(event);
  st = 0;
  for (int i = 0; i < 300 && st != 200; i++) {
    st = http_get(&h, true, "broken.test", "/", NULL, NULL);
    if (st != 200)
      usleep(10000);
  }
  CHECK_INT(st, 200);
  CHECK_INT(http_get(&h, true, "broken.test", "/", NULL, ca_path), 0); /* not our CA's cert */
  CHECK(wait_body(&h, "example.com", "/", "web /"));

  /* A path nginx rejects: that Ingress is left out with an Event, the rest is applied. */
  create_ingress(
      "badregex", "{\"nginx.ingress.kubernetes.io/use-regex\":\"true\"}",
      "{\"rules\":[" RULE("bad.test", "/x(", "ImplementationSpecific",
                          "web-svc") "," RULE("later.test", "/", "Prefix", "web-svc") "]}");
  create_ingress("after-bad", NULL,
                 "{\"rules\":[" RULE("good.test", "/", "Prefix", "api-svc") "]}");
  CHECK(wait_body(&h, "good.test", "/", "api /"));
  event = false;
  for (int i = 0; i < 300 && !event; i++) {
    event = has_event("badregex", "RejectedByNginx");
    if (!event)
      usleep(10000);
  }
  CHECK(event);
  CHECK_INT(http_get(&h, false, "later.test", "/", NULL, NULL), 404);
  CHECK(wait_body(&h, "example.com", "/", "web /"));

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "Canary by weight:");
  /* Canary by weight: 10 % ± 3 % of 1,000 requests from one client; and by header. */
  create_ingress("web-canary",
                 "{\"nginx.ingress.kubernetes.io/canary\":\"true\","
                 "\"nginx.ingress.kubernetes.io/canary-weight\":\"10\","
                 "\"nginx.ingress.kubernetes.io/canary-by-header\":\"X-Canary\"}",
                 "{\"ingressClassName\":\"nginx\",\"rules\":[" RULE("example.com", "/", "Prefix",
                                                                    "web-canary") "]}");
  CHECK(wait_body(&h, "example.com", "/", "canary"));
  int canaries = 0, errors = 0;
  for (int i = 0; i < 1000; i++) {
    if (http_get(&h, false, "example.com", "/", NULL, NULL) != 200)
      errors++;
    else if (strncmp(h.body, "canary", 6) == 0)
      canaries++;
  }
  fprintf(stderr, "canary share: %d of 1000\n", canaries);
  CHECK_INT(errors, 0);
  CHECK(canaries >= 70 && canaries <= 130);
  int always = 0, never = 0;
  for (int i = 0; i < 50; i++) {
    always += http_get(&h, false, "example.com", "/", "X-Canary: always", NULL) == 200 &&
              strncmp(h.body, "canary", 6) == 0;
    never += http_get(&h, false, "example.com", "/", "X-Canary: never", NULL) == 200 &&
             strncmp(h.body, "web", 3) == 0;
  }
  CHECK_INT(always, 50);
  CHECK_INT(never, 50);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "An endpoint chang");
  /* An endpoint change followed under load with no failed request. */
  struct loop lp = {.http_port = http_port};
  pthread_create(&lp.thread, NULL, loop_main, &lp);
  usleep(200000);
  struct ingress_stats before;
  ingress_stats(ic, &before);
  json_t *sl = NULL;
  CHECK_INT(client_get(fx.client, res("discovery.k8s.io", "endpointslices"), "default", "api-svc",
                       &sl, &err),
            0);
  json_t *changed = slice_obj("api-svc", &api2);
  json_object_set(json_object_get(changed, "metadata"), "resourceVersion",
                  json_object_get(json_object_get(sl, "metadata"), "resourceVersion"));
  long long t0 = now_ms();
  CHECK_INT(client_update(fx.client, res("discovery.k8s.io", "endpointslices"), "default",
                          "api-svc", changed, NULL, NULL, &err),
            0);
  json_decref(changed);
  json_decref(sl);
  long long served_ms = -1;
  for (int i = 0; i < 2000 && served_ms < 0; i++) {
    if (atomic_load(&lp.api2) > 0)
      served_ms = now_ms() - t0;
    else
      usleep(1000);
  }
  usleep(300000);
  atomic_store(&lp.stop, true);
  pthread_join(lp.thread, NULL);
  struct ingress_stats after;
  ingress_stats(ic, &after);
  fprintf(stderr,
          "endpoint change: config rendered in %.2f ms, nginx -t + reload signal %.1f ms, "
          "new upstream served after %lld ms; loop: %d ok, %d errors\n",
          after.last_render_ms, after.last_apply_ms, served_ms, atomic_load(&lp.ok),
          atomic_load(&lp.errors));
  CHECK(served_ms >= 0 && served_ms < 2000);
  CHECK(after.reloads > before.reloads);
  CHECK_INT(atomic_load(&lp.errors), 0);
  CHECK(atomic_load(&lp.ok) > 10);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "A resync with no ");
  /* A resync with no change does not reload. */
  CHECK(ingress_wait_sync(ic, 5000));
  struct ingress_stats same;
  ingress_stats(ic, &same);
  CHECK(ingress_wait_sync(ic, 5000));
  struct ingress_stats same2;
  ingress_stats(ic, &same2);
  CHECK_INT(same2.reloads, same.reloads);

  fprintf(stderr, "[%lld ms] %s\n", now_ms() - t_start, "nginx killed:");
  /* nginx killed: restarted, and serving again. */
  int old_pid = after.nginx_pid;
  CHECK(old_pid > 0);
  kill(old_pid, SIGKILL);
  struct ingress_stats rs = {0};
  for (int i = 0; i < 500; i++) {
    ingress_stats(ic, &rs);
    if (rs.nginx_starts >= 2 && rs.nginx_pid > 0 && rs.nginx_pid != old_pid)
      break;
    usleep(10000);
  }
  CHECK(rs.nginx_starts >= 2);
  CHECK(wait_body(&h, "api.example.com", "/", "api2 /"));

  curl_easy_cleanup(h.curl);
  ingress_stats(ic, &rs);
  ingress_stop(ic);
  /* Nothing of nginx is left. */
  CHECK(rs.nginx_pid > 0 && kill(rs.nginx_pid, 0) < 0 && errno == ESRCH);
  struct http probe;
  http_init(&probe, http_port, https_port);
  CHECK_INT(http_get(&probe, false, "example.com", "/", NULL, NULL), 0);
  curl_easy_cleanup(probe.curl);
out:
  k8c_err_clear(&err);
  backend_stop(&web);
  backend_stop(&api);
  backend_stop(&canary);
  backend_stop(&api2);
  free(state);
  free(ca_path);
  client_fixture_close(&fx);
  curl_global_cleanup();
}

TEST_MAIN()
