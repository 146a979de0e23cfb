/* dns_bench.c — `k8c testing-dns-bench` (hidden): a DNS load generator. Without
 * --server it builds a throw-away registry with --services Services, starts the cluster
 * DNS server on loopback and measures it; it keeps --window queries in flight per client
 * thread (sendmmsg/recvmmsg) and reports queries/s and latency percentiles. */
#include "cmd/cmd.h"
#include "dns/dns_forward.h"
#include "dns/dns_server.h"
#include "dns/dns_wire.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "registry/registry.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW 1024
#define HIST_US 20000 /* latency histogram: 1 µs bins up to 20 ms, then one overflow bin */
#define LOST_AFTER_NS 500000000LL

struct bench_opts {
  const char *server;
  const char *windows; /* comma-separated: one measurement per value */
  int services, duration_s, window, clients, workers;
};

struct client_state {
  const struct bench_opts *o;
  struct dns_upstream target;
  uint8_t (*queries)[300];
  size_t *query_len;
  size_t nqueries;
  unsigned long long done, lost;
  unsigned *hist;
  double cpu_s; /* this client thread's CPU time */
};

static long long
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------- the load ---------- */

static void *
client_run(void *arg)
{
  struct client_state *c = arg;
  int fd = socket(c->target.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&c->target.addr, c->target.len) < 0) {
    perror("testing-dns-bench: socket");
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  int window = c->o->window;
  long long *sent_at = xcalloc((size_t)window, sizeof *sent_at);
  uint8_t(*out)[300] = xmalloc((size_t)window * sizeof *out);
  uint8_t(*in)[DNS_UDP_MAX] = xmalloc(64 * sizeof *in);
  struct mmsghdr msgs[MAX_WINDOW];
  struct iovec iov[MAX_WINDOW];
  int pending[MAX_WINDOW];
  size_t next_query = 0;
  long long end = now_ns() + (long long)c->o->duration_s * 1000000000LL;
  for (long long now = now_ns(); now < end; now = now_ns()) {
    int npend = 0;
    for (int s = 0; s < window; s++) {
      if (sent_at[s] != 0 && now - sent_at[s] > LOST_AFTER_NS) {
        c->lost++;
        sent_at[s] = 0;
      }
      if (sent_at[s] == 0)
        pending[npend++] = s;
    }
    for (int i = 0; i < npend; i++) {
      int s = pending[i];
      size_t q = next_query++ % c->nqueries;
      memcpy(out[s], c->queries[q], c->query_len[q]);
      out[s][0] = (uint8_t)(s >> 8);
      out[s][1] = (uint8_t)s;
      iov[i] = (struct iovec){out[s], c->query_len[q]};
      msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
      sent_at[s] = now;
    }
    for (int i = 0; i < npend;) {
      int rc = sendmmsg(fd, msgs + i, (unsigned)(npend - i), 0);
      if (rc <= 0) {
        for (; i < npend; i++) /* send buffer full: retry these later */
          sent_at[pending[i]] = 0;
        break;
      }
      i += rc;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0)
      continue;
    for (int i = 0; i < 64; i++) {
      iov[i] = (struct iovec){in[i], DNS_UDP_MAX};
      msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, msgs, 64, MSG_DONTWAIT, NULL);
    long long t = now_ns();
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_len < DNS_HEADER_LEN)
        continue;
      int s = dns_get16(in[i]);
      if (s >= window || sent_at[s] == 0)
        continue;
      long long us = (t - sent_at[s]) / 1000;
      c->hist[us < HIST_US ? us : HIST_US]++;
      c->done++;
      sent_at[s] = 0;
    }
  }
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) == 0)
    c->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  free(sent_at);
  free(out);
  free(in);
  close(fd);
  return NULL;
}

static long long
percentile(const unsigned *hist, unsigned long long total, double p)
{
  unsigned long long want = (unsigned long long)((double)total * p), seen = 0;
  for (long long us = 0; us <= HIST_US; us++) {
    seen += hist[us];
    if (seen > want)
      return us;
  }
  return HIST_US;
}

static int
run_load(const struct bench_opts *o, const char *server)
{
  struct dns_upstream target;
  k8c_err err = {0};
  if (dns_addr_parse(server, 53, &target, &err) < 0) {
    fprintf(stderr, "testing-dns-bench: %s\n", err.message);
    k8c_err_clear(&err);
    return 1;
  }
  size_t nq = o->services > 0 ? (size_t)(o->services < 1024 ? o->services : 1024) : 1;
  uint8_t(*queries)[300] = xmalloc(nq * sizeof *queries);
  size_t *qlen = xmalloc(nq * sizeof *qlen);
  for (size_t i = 0; i < nq; i++) {
    char name[128];
    snprintf(name, sizeof name, "svc-%zu.default.svc.cluster.local", i);
    struct dns_writer w;
    dns_writer_init(&w, queries[i], sizeof queries[i]);
    dns_put_header(&w, 0, DNS_FLAG_RD, 1, 0, 0, 0);
    if (dns_put_name(&w, name) < 0)
      abort();
    dns_put16(&w, DNS_TYPE_A);
    dns_put16(&w, DNS_CLASS_IN);
    qlen[i] = w.len;
  }
  struct client_state *cs = xcalloc((size_t)o->clients, sizeof *cs);
  pthread_t *threads = xcalloc((size_t)o->clients, sizeof *threads);
  long long start = now_ns();
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  for (int i = 0; i < o->clients; i++) {
    cs[i] = (struct client_state){.o = o,
                                  .target = target,
                                  .queries = queries,
                                  .query_len = qlen,
                                  .nqueries = nq,
                                  .hist = xcalloc(HIST_US + 1, sizeof(unsigned))};
    if (pthread_create(&threads[i], NULL, client_run, &cs[i]) != 0)
      abort();
  }
  unsigned *hist = xcalloc(HIST_US + 1, sizeof(unsigned));
  unsigned long long done = 0, lost = 0;
  double client_cpu = 0;
  for (int i = 0; i < o->clients; i++) {
    pthread_join(threads[i], NULL);
    client_cpu += cs[i].cpu_s;
    for (int us = 0; us <= HIST_US; us++)
      hist[us] += cs[i].hist[us];
    done += cs[i].done;
    lost += cs[i].lost;
    free(cs[i].hist);
  }
  double secs = (double)(now_ns() - start) / 1e9;
  printf("window: %d in flight per client, %d client(s)\n", o->window, o->clients);
  printf("queries: %llu in %.2f s, lost %llu\n", done, secs, lost);
  printf("qps: %.0f\n", (double)done / secs);
  printf("latency_us: p50 %lld p90 %lld p99 %lld p99.9 %lld\n", percentile(hist, done, 0.5),
         percentile(hist, done, 0.9), percentile(hist, done, 0.99), percentile(hist, done, 0.999));
  getrusage(RUSAGE_SELF, &after);
  double proc_cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
                    (double)(after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
                    (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
                    (double)(after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
  if (done > 0)
    printf("cpu_us_per_query: client %.2f, rest of the process (the server when "
           "in-process) %.2f\n",
           client_cpu * 1e6 / (double)done, (proc_cpu - client_cpu) * 1e6 / (double)done);
  free(hist);
  free(cs);
  free(threads);
  free(queries);
  free(qlen);
  return done > 0 ? 0 : 1;
}

/* One measurement per window size of o->windows. */
static int
run_windows(const struct bench_opts *o, const char *server)
{
  struct bench_opts one = *o;
  const char *p = o->windows;
  int rc = 0;
  while (*p != '\0') {
    char *end;
    long w = strtol(p, &end, 10);
    if (end == p || w < 1 || w > MAX_WINDOW || (*end != ',' && *end != '\0')) {
      fprintf(stderr, "testing-dns-bench: bad --window \"%s\"\n", o->windows);
      return 2;
    }
    one.window = (int)w;
    if (run_load(&one, server) != 0)
      rc = 1;
    p = *end == ',' ? end + 1 : end;
  }
  return rc;
}

/* ---------- a server to measure ---------- */

struct creator {
  k8c_client *client;
  int first, step, n;
  int rc;
  k8c_err err;
};

static void *
creator_run(void *arg)
{
  struct creator *c = arg;
  const struct api_resource *svcres = api_resource_find("", "v1", "services");
  for (int i = c->first; i < c->n && c->rc == 0; i += c->step) {
    char name[64];
    snprintf(name, sizeof name, "svc-%d", i);
    json_t *svc = json_pack("{s:{s:s},s:{s:[{s:s,s:i}]}}", "metadata", "name", name, "spec",
                            "ports", "name", "http", "port", 80);
    c->rc = client_create(c->client, svcres, "default", svc, NULL, NULL, &c->err);
    json_decref(svc);
  }
  return NULL;
}

static int
create_services(k8c_client *client, int n, k8c_err *err)
{
  const struct api_resource *nsres = api_resource_find("", "v1", "namespaces");
  json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "default");
  int rc = client_create(client, nsres, "", ns, NULL, NULL, err);
  json_decref(ns);
  if (rc < 0)
    return -1;
  /* Several writers share the store's commits. */
  enum { CREATORS = 8 };
  struct creator cs[CREATORS];
  pthread_t threads[CREATORS];
  for (int i = 0; i < CREATORS; i++) {
    cs[i] = (struct creator){.client = client, .first = i, .step = CREATORS, .n = n};
    if (pthread_create(&threads[i], NULL, creator_run, &cs[i]) != 0)
      abort();
  }
  rc = 0;
  for (int i = 0; i < CREATORS; i++) {
    pthread_join(threads[i], NULL);
    if (cs[i].rc < 0 && rc == 0) {
      k8c_err_move(err, &cs[i].err);
      rc = -1;
    }
    k8c_err_clear(&cs[i].err);
  }
  if (rc < 0)
    return -1;
  return 0;
}

static int
run_self(const struct bench_opts *o)
{
  char dir[] = "/tmp/k8c-dns-bench-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("testing-dns-bench: mkdtemp");
    return 1;
  }
  k8c_err err = {0};
  int rc = 1;
  struct registry reg;
  bool reg_ok = false;
  k8c_client *client = NULL;
  struct dns_server *srv = NULL;
  char endpoint[128];
  snprintf(endpoint, sizeof endpoint, "sqlite://%s/state.db?sync=normal", dir);
  storage *s = storage_open(endpoint, dir, &err);
  if (s == NULL)
    goto out;
  struct registry_config rcfg = {
      .service_cidr = "10.43.0.0/16", .node_port_min = 30000, .node_port_max = 32767};
  if (registry_init(&reg, s, &rcfg, &err) < 0)
    goto out;
  reg_ok = true;
  client = client_inprocess_new(&reg, "dns-bench");
  if (create_services(client, o->services, &err) < 0)
    goto out;
  const char *listen[] = {"127.0.0.1:0", NULL};
  const char *upstreams[] = {"127.0.0.1:1", NULL};
  struct dns_config cfg = {.listen = listen, .upstreams = upstreams, .udp_workers = o->workers};
  srv = dns_server_start(client, NULL, &cfg, &err);
  if (srv == NULL)
    goto out;
  char server[64];
  snprintf(server, sizeof server, "127.0.0.1:%d", dns_server_port(srv, 0));
  printf("server: in-process, %d services, %d UDP worker(s) on %s\n", o->services, o->workers,
         server);
  rc = run_windows(o, server);
out:
  if (err.status != 0)
    fprintf(stderr, "testing-dns-bench: %s\n", err.message);
  k8c_err_clear(&err);
  dns_server_stop(srv);
  if (client != NULL)
    client_free(client);
  if (reg_ok)
    registry_destroy(&reg);
  if (s != NULL)
    s->ops->destroy(s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "testing-dns-bench: could not remove %s\n", dir);
  return rc;
}

int
cmd_testing_dns_bench(int argc, char **argv)
{
  struct bench_opts o = {
      .services = 1000, .duration_s = 5, .window = 128, .clients = 1, .workers = 1};
  static const struct option longopts[] = {
      {"server", required_argument, NULL, 's'},   {"services", required_argument, NULL, 'n'},
      {"duration", required_argument, NULL, 'd'}, {"window", required_argument, NULL, 'w'},
      {"clients", required_argument, NULL, 'c'},  {"workers", required_argument, NULL, 'W'},
      {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case 's':
      o.server = optarg;
      break;
    case 'n':
      o.services = atoi(optarg);
      break;
    case 'd':
      o.duration_s = atoi(optarg);
      break;
    case 'w':
      o.windows = optarg;
      break;
    case 'c':
      o.clients = atoi(optarg);
      break;
    case 'W':
      o.workers = atoi(optarg);
      break;
    default:
      fprintf(ch == 'h' ? stdout : stderr,
              "usage: k8c testing-dns-bench [--server IP:PORT] [--services N] [--duration S]\n"
              "         [--window W[,W...]] [--clients C] [--workers N]\n"
              "Without --server: an in-process registry with N Services (svc-0..) and the\n"
              "cluster DNS server on 127.0.0.1. Queries svc-I.default.svc.cluster.local A.\n");
      return ch == 'h' ? 0 : 2;
    }
  }
  if (o.clients < 1 || o.clients > 16 || o.duration_s < 1 || o.services < 0 || o.workers < 1) {
    fprintf(stderr, "testing-dns-bench: bad option value\n");
    return 2;
  }
  log_set_level(LOG_WARN);
  return o.server ? run_windows(&o, o.server) : run_self(&o);
}
