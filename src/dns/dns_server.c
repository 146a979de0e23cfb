/* dns_server.c — the DNS server's life cycle and its record snapshot (see dns_server.h).
 * Informer events only mark the snapshot dirty; one thread rebuilds it from the caches
 * after a short quiet period and swaps it in under a write lock, so a burst of changes
 * costs one rebuild and queries never wait for informers. */
#include "dns/dns_server_internal.h"

#include "api/resource.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define DEBOUNCE_MS 20
#define OWN_SYNC_TIMEOUT_MS 5000

static const char *const default_listen[] = {"10.43.0.10:53", NULL};

/* ---------- the snapshot ---------- */

static void
mark_dirty(struct dns_server *s)
{
  pthread_mutex_lock(&s->mu);
  s->dirty = true;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mu);
}

static void
on_add(void *ctx, json_t *obj)
{
  (void)obj;
  mark_dirty(ctx);
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (old_obj != new_obj) /* a resync replays the same object: nothing changed */
    mark_dirty(ctx);
}

static void
rebuild(struct dns_server *s)
{
  json_t **svcs = NULL, **slices = NULL;
  size_t nsvcs = 0, nslices = 0;
  if (s->services != NULL)
    informer_list(s->services, &svcs, &nsvcs);
  if (s->slices != NULL)
    informer_list(s->slices, &slices, &nslices);
  struct dns_index *idx = dns_index_build(s->zone, svcs, nsvcs, slices, nslices);
  informer_objs_free(svcs, nsvcs);
  informer_objs_free(slices, nslices);
  pthread_rwlock_wrlock(&s->index_lock);
  struct dns_index *old = s->index;
  s->index = idx;
  pthread_rwlock_unlock(&s->index_lock);
  dns_index_free(old);
  pthread_mutex_lock(&s->mu);
  s->generation++;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mu);
}

static void *
rebuild_loop(void *arg)
{
  struct dns_server *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->dirty && !s->stopping)
      pthread_cond_wait(&s->cond, &s->mu);
    if (s->stopping)
      break;
    /* Quiet period: let a burst of events land before rebuilding once. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += DEBOUNCE_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    while (!s->stopping && pthread_cond_timedwait(&s->cond, &s->mu, &until) != ETIMEDOUT)
      ;
    if (s->stopping)
      break;
    s->dirty = false;
    pthread_mutex_unlock(&s->mu);
    rebuild(s);
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

unsigned long
dns_server_generation(struct dns_server *s)
{
  pthread_mutex_lock(&s->mu);
  unsigned long g = s->generation;
  pthread_mutex_unlock(&s->mu);
  return g;
}

/* ---------- answering with the upstreams ---------- */

static size_t
servfail(const uint8_t *req, size_t len, uint8_t *out, size_t cap)
{
  struct dns_query q;
  enum dns_parse_result pr = dns_query_parse(req, len, &q);
  if (pr == DNS_PARSE_DROP)
    return 0;
  return dns_reply_error(req, pr == DNS_PARSE_OK ? q.question_end : DNS_HEADER_LEN,
                         DNS_RCODE_SERVFAIL, out, cap);
}

static bool
chase_external(struct dns_server *s, const struct dns_chase *chase, uint8_t *out, size_t cap,
               size_t *out_len)
{
  uint8_t query[DNS_NAME_MAX + 64];
  struct dns_writer w;
  dns_writer_init(&w, query, sizeof query);
  dns_put_header(&w, 0, DNS_FLAG_RD, 1, 0, 0, 0);
  if (dns_put_name(&w, chase->target) < 0)
    return true; /* unreachable for names the index accepted: reply with the CNAME */
  dns_put16(&w, chase->qtype);
  dns_put16(&w, DNS_CLASS_IN);
  uint8_t *resp = xmalloc(DNS_TCP_MAX);
  size_t resp_len = 0;
  if (w.overflow || dns_forward_exchange(s->upstreams, s->nupstreams, query, w.len, resp,
                                         DNS_TCP_MAX, &resp_len, s->forward_timeout_ms) < 0)
    resp_len = 0;
  if (dns_reply_append_chase(out, out_len, cap, resp, resp_len, chase) < 0 && resp_len > 0)
    log_debug("dns: upstream answer for %s was malformed", chase->target);
  free(resp);
  return true;
}

bool
dns_server_resolve(struct dns_server *s, const uint8_t *req, size_t len, bool tcp, uint8_t *out,
                   size_t cap, size_t *out_len)
{
  struct dns_chase chase;
  pthread_rwlock_rdlock(&s->index_lock);
  enum dns_action act = dns_answer(s->index, s->ttl, req, len, tcp, out, cap, out_len, &chase);
  pthread_rwlock_unlock(&s->index_lock);
  switch (act) {
  case DNS_ACTION_REPLY:
    return true;
  case DNS_ACTION_DROP:
    return false;
  case DNS_ACTION_CHASE:
    return chase_external(s, &chase, out, cap, out_len);
  case DNS_ACTION_FORWARD:
    break;
  }
  if (dns_forward_exchange(s->upstreams, s->nupstreams, req, len, out, cap, out_len,
                           s->forward_timeout_ms) < 0) {
    *out_len = servfail(req, len, out, cap);
    return *out_len > 0;
  }
  if (!tcp) {
    struct dns_query q;
    size_t limit = dns_query_parse(req, len, &q) == DNS_PARSE_OK ? q.udp_size : DNS_UDP_MIN;
    *out_len = dns_reply_truncate(out, *out_len, limit);
  }
  return true;
}

/* ---------- sockets ---------- */

/* The port of a bound (or parsed) address. */
static int
sockaddr_port(const struct sockaddr_storage *a)
{
  if (a->ss_family == AF_INET)
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
  return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

/* Binds a socket of type to addr (filling in the port the kernel picked for port 0).
 * *in_use tells a failure because another socket has the address. */
static int
bind_socket(struct dns_upstream *addr, int type, bool reuseport, bool *in_use, k8c_err *err)
{
  *in_use = false;
  int fd = socket(addr->addr.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: socket: %s", strerror(errno));
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
      (addr->addr.ss_family == AF_INET &&
       setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) < 0) ||
      (addr->addr.ss_family == AF_INET6 &&
       (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0 ||
        setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one) < 0))) {
    close(fd);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: setsockopt: %s", strerror(errno));
  }
  if (bind(fd, (struct sockaddr *)&addr->addr, addr->len) < 0 ||
      (type == SOCK_STREAM && listen(fd, 128) < 0)) {
    int e = errno;
    close(fd);
    *in_use = e == EADDRINUSE;
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: bind: %s", strerror(e));
  }
  /* With port 0 the first socket picks the port; the others reuse it. */
  socklen_t len = addr->len;
  if (getsockname(fd, (struct sockaddr *)&addr->addr, &len) < 0) {
    close(fd);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: getsockname: %s", strerror(errno));
  }
  return fd;
}

/* Closes what bind_all opened of a listener. */
static void
close_listener_sockets(struct dns_listener *l)
{
  for (int i = 0; i < l->nworkers; i++) {
    close(l->udp_fd[i]);
    l->udp_fd[i] = -1;
  }
  l->nworkers = 0;
  if (l->tcp_fd >= 0)
    close(l->tcp_fd);
  l->tcp_fd = -1;
}

/* The UDP sockets (one per worker, sharing the port) and the TCP socket of l->addr. */
static int
bind_all(struct dns_listener *l, const char *text, int workers, bool *in_use, k8c_err *err)
{
  for (int i = 0; i < workers; i++) {
    l->udp_fd[i] = bind_socket(&l->addr, SOCK_DGRAM, true, in_use, err);
    if (l->udp_fd[i] < 0)
      return k8c_err_prefix(err, "listening on %s", text);
    l->nworkers++;
  }
  l->tcp_fd = bind_socket(&l->addr, SOCK_STREAM, false, in_use, err);
  if (l->tcp_fd < 0)
    return k8c_err_prefix(err, "listening on %s/tcp", text);
  return 0;
}

/* With port 0 the kernel picks a free UDP port, which TCP may have in use: then the
 * listener tries again with another pick, a few times. */
static int
open_listener(struct dns_server *s, struct dns_listener *l, const char *text, int workers,
              k8c_err *err)
{
  l->srv = s;
  l->tcp_fd = -1;
  for (int i = 0; i < DNS_MAX_WORKERS; i++)
    l->udp_fd[i] = -1;
  if (dns_addr_parse(text, 53, &l->addr, err) < 0)
    return -1;
  struct dns_upstream wanted = l->addr;
  bool any_port = sockaddr_port(&wanted.addr) == 0;
  for (int attempt = 1;; attempt++) {
    bool in_use = false;
    if (bind_all(l, text, workers, &in_use, err) == 0)
      return 0;
    if (!any_port || !in_use || attempt == 10)
      return -1;
    close_listener_sockets(l);
    l->addr = wanted;
    k8c_err_clear(err);
  }
}

static int
start_threads(struct dns_server *s, k8c_err *err)
{
  if (pthread_create(&s->rebuild_thread, NULL, rebuild_loop, s) != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: cannot start a thread");
  s->rebuild_started = true;
  if (dns_fwd_start(s, err) < 0)
    return -1;
  for (size_t i = 0; i < s->nlisteners; i++) {
    struct dns_listener *l = &s->listeners[i];
    for (int w = 0; w < l->nworkers; w++) {
      struct dns_udp_arg *arg = xmalloc(sizeof *arg);
      *arg = (struct dns_udp_arg){.srv = s, .fd = l->udp_fd[w]};
      if (pthread_create(&l->udp_thread[w], NULL, dns_udp_worker, arg) != 0) {
        free(arg);
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: cannot start a thread");
      }
      l->nstarted++;
    }
    if (pthread_create(&l->tcp_thread, NULL, dns_tcp_acceptor, l) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: cannot start a thread");
    l->tcp_started = true;
  }
  return 0;
}

static int
subscribe(struct dns_server *s, k8c_err *err)
{
  const struct api_resource *svc_res = api_resource_find("", "v1", "services");
  const struct api_resource *slice_res =
      api_resource_find("discovery.k8s.io", "v1", "endpointslices");
  if (svc_res == NULL || slice_res == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: services or endpointslices unknown");
  s->services = informer_factory_get(s->factory, svc_res, "", NULL, NULL);
  s->slices = informer_factory_get(s->factory, slice_res, "", NULL, NULL);
  struct informer_handlers h = {.on_add = on_add,
                                .on_update = on_update,
                                .on_delete = on_add,
                                .ctx = s,
                                .resync_period_ms = -1};
  informer_add_handlers(s->services, &h);
  informer_add_handlers(s->slices, &h);
  if (!s->own_factory)
    return 0;
  if (informer_factory_start(s->factory, err) < 0)
    return -1;
  if (!informer_factory_wait_synced(s->factory, OWN_SYNC_TIMEOUT_MS))
    log_warn("dns: services and endpointslices not synced after 5 s; answering anyway");
  return 0;
}

/* ---------- public ---------- */

struct dns_server *
dns_server_start(k8c_client *client, informer_factory *informers, const struct dns_config *cfg,
                 k8c_err *err)
{
  static const struct dns_config defaults = {0};
  if (cfg == NULL)
    cfg = &defaults;
  struct dns_server *s = xcalloc(1, sizeof *s);
  s->client = client;
  s->zone = xstrdup(cfg->cluster_domain ? cfg->cluster_domain : "cluster.local");
  size_t zl = strlen(s->zone);
  if (zl > 0 && s->zone[zl - 1] == '.')
    s->zone[zl - 1] = '\0';
  s->ttl = cfg->ttl ? cfg->ttl : 5;
  s->forward_timeout_ms = cfg->forward_timeout_ms > 0 ? cfg->forward_timeout_ms : 2000;
  s->stop_fd = -1;
  /* Writers first: a steady stream of readers must not hold a new snapshot back. */
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&s->index_lock, &attr);
  pthread_rwlockattr_destroy(&attr);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond, NULL);
  pthread_mutex_init(&s->fwd_mu, NULL);
  pthread_cond_init(&s->fwd_cond, NULL);
  pthread_mutex_init(&s->conn_mu, NULL);
  s->index = dns_index_build(s->zone, NULL, 0, NULL, 0);

  if (cfg->upstreams != NULL) {
    for (size_t i = 0; cfg->upstreams[i] && s->nupstreams < DNS_MAX_UPSTREAMS; i++)
      if (dns_addr_parse(cfg->upstreams[i], 53, &s->upstreams[s->nupstreams++], err) < 0)
        goto fail;
  } else {
    const char *path = cfg->resolv_conf ? cfg->resolv_conf : "/etc/resolv.conf";
    s->nupstreams = dns_upstreams_from_resolv_conf(path, s->upstreams, DNS_MAX_UPSTREAMS);
    if (s->nupstreams == 0)
      log_warn("dns: no usable nameserver in %s: outside names will fail", path);
  }

  s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->stop_fd < 0) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: eventfd: %s", strerror(errno));
    goto fail;
  }
  const char *const *listen = cfg->listen ? cfg->listen : default_listen;
  int workers = cfg->udp_workers > 0 ? cfg->udp_workers : 1;
  if (workers > DNS_MAX_WORKERS)
    workers = DNS_MAX_WORKERS;
  while (listen[s->nlisteners] != NULL)
    s->nlisteners++;
  s->listeners = xcalloc(s->nlisteners, sizeof *s->listeners);
  for (size_t i = 0; i < s->nlisteners; i++)
    if (open_listener(s, &s->listeners[i], listen[i], workers, err) < 0)
      goto fail;

  s->own_factory = informers == NULL;
  s->factory = informers ? informers : informer_factory_new(client, 0);
  if (subscribe(s, err) < 0)
    goto fail;
  rebuild(s); /* what the caches hold now */
  if (start_threads(s, err) < 0)
    goto fail;
  log_info("dns: serving %s on %zu address(es), %zu upstream(s)", s->zone, s->nlisteners,
           s->nupstreams);
  return s;
fail:
  dns_server_stop(s);
  return NULL;
}

void
dns_server_stop(struct dns_server *s)
{
  if (s == NULL)
    return;
  if (s->own_factory && s->factory != NULL)
    informer_factory_stop(s->factory); /* no handler runs after this */
  pthread_mutex_lock(&s->mu);
  __atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mu);
  /* Wakes the UDP workers blocked in recvmmsg. */
  for (size_t i = 0; i < s->nlisteners; i++)
    for (int w = 0; w < s->listeners[i].nworkers; w++)
      if (shutdown(s->listeners[i].udp_fd[w], SHUT_RD) < 0 && errno != ENOTCONN)
        log_warn("dns: shutdown: %s", strerror(errno));
  if (s->stop_fd >= 0) {
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof one) != sizeof one)
      log_warn("dns: cannot signal the workers to stop: %s", strerror(errno));
  }
  for (size_t i = 0; i < s->nlisteners; i++) {
    struct dns_listener *l = &s->listeners[i];
    for (int w = 0; w < l->nstarted; w++)
      pthread_join(l->udp_thread[w], NULL);
    if (l->tcp_started)
      pthread_join(l->tcp_thread, NULL);
  }
  dns_tcp_join_all(s);
  dns_fwd_stop(s);
  if (s->rebuild_started)
    pthread_join(s->rebuild_thread, NULL);
  for (size_t i = 0; i < s->nlisteners; i++) {
    struct dns_listener *l = &s->listeners[i];
    for (int w = 0; w < DNS_MAX_WORKERS; w++)
      if (l->udp_fd[w] >= 0)
        close(l->udp_fd[w]);
    if (l->tcp_fd >= 0)
      close(l->tcp_fd);
  }
  if (s->own_factory && s->factory != NULL)
    informer_factory_free(s->factory);
  if (s->stop_fd >= 0)
    close(s->stop_fd);
  free(s->listeners);
  dns_index_free(s->index);
  pthread_rwlock_destroy(&s->index_lock);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->fwd_mu);
  pthread_cond_destroy(&s->fwd_cond);
  pthread_mutex_destroy(&s->conn_mu);
  free(s->zone);
  free(s);
}

int
dns_server_port(const struct dns_server *s, size_t i)
{
  if (i >= s->nlisteners)
    return -1;
  return sockaddr_port(&s->listeners[i].addr.addr);
}
