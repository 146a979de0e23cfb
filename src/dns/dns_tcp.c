/* dns_tcp.c — DNS over TCP (RFC 7766): an acceptor per address and a thread per
 * connection reading length-prefixed queries one after another until the client closes
 * or stays idle. Connection threads are tracked so stopping the server joins them all. */
#include "dns/dns_server_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IDLE_TIMEOUT_MS 10000
#define MAX_CONNS 128

struct dns_tcp_conn {
  struct dns_server *srv;
  int fd;
  pthread_t thread;
  bool done;
  struct dns_tcp_conn *next;
};

/* Reads exactly n bytes, waking for the stop signal; false on close, error, idle or stop. */
static bool
read_exact(struct dns_tcp_conn *c, uint8_t *p, size_t n)
{
  size_t got = 0;
  while (got < n) {
    struct pollfd pf[2] = {{.fd = c->fd, .events = POLLIN},
                           {.fd = c->srv->stop_fd, .events = POLLIN}};
    int rc = poll(pf, 2, IDLE_TIMEOUT_MS);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc <= 0 || pf[1].revents)
      return false;
    ssize_t r = read(c->fd, p + got, n - got);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (r <= 0)
      return false;
    got += (size_t)r;
  }
  return true;
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

static void *
conn_thread(void *arg)
{
  struct dns_tcp_conn *c = arg;
  uint8_t *req = xmalloc(DNS_TCP_MAX), *out = xmalloc(DNS_TCP_MAX + 2);
  uint8_t lenbuf[2];
  while (read_exact(c, lenbuf, 2)) {
    size_t len = dns_get16(lenbuf);
    if (!read_exact(c, req, len))
      break;
    size_t out_len = 0;
    if (!dns_server_resolve(c->srv, req, len, true, out + 2, DNS_TCP_MAX, &out_len))
      break; /* undecodable: close the connection, as for a framing error */
    out[0] = (uint8_t)(out_len >> 8);
    out[1] = (uint8_t)out_len;
    if (!write_all(c->fd, out, out_len + 2))
      break;
  }
  free(req);
  free(out);
  pthread_mutex_lock(&c->srv->conn_mu);
  c->done = true;
  pthread_mutex_unlock(&c->srv->conn_mu);
  return NULL;
}

/* Joins and frees finished connections (all of them with all = true); returns how many
 * remain. */
static size_t
reap(struct dns_server *s, bool all)
{
  size_t left = 0;
  pthread_mutex_lock(&s->conn_mu);
  struct dns_tcp_conn **pp = &s->conns;
  while (*pp != NULL) {
    struct dns_tcp_conn *c = *pp;
    if (!all && !c->done) {
      left++;
      pp = &c->next;
      continue;
    }
    *pp = c->next;
    pthread_mutex_unlock(&s->conn_mu);
    pthread_join(c->thread, NULL);
    close(c->fd);
    free(c);
    pthread_mutex_lock(&s->conn_mu);
  }
  pthread_mutex_unlock(&s->conn_mu);
  return left;
}

void *
dns_tcp_acceptor(void *arg)
{
  struct dns_listener *l = arg;
  struct dns_server *s = l->srv;
  for (;;) {
    struct pollfd p[2] = {{.fd = l->tcp_fd, .events = POLLIN},
                          {.fd = s->stop_fd, .events = POLLIN}};
    int rc = poll(p, 2, 1000);
    if (rc < 0 && errno != EINTR)
      break;
    if (p[1].revents)
      break;
    size_t open_conns = reap(s, false);
    if (rc <= 0 || !(p[0].revents & POLLIN))
      continue;
    int fd = accept4(l->tcp_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    if (open_conns >= MAX_CONNS) {
      close(fd);
      continue;
    }
    struct dns_tcp_conn *c = xcalloc(1, sizeof *c);
    c->srv = s;
    c->fd = fd;
    pthread_mutex_lock(&s->conn_mu);
    if (pthread_create(&c->thread, NULL, conn_thread, c) != 0) {
      pthread_mutex_unlock(&s->conn_mu);
      close(fd);
      free(c);
      continue;
    }
    c->next = s->conns;
    s->conns = c;
    pthread_mutex_unlock(&s->conn_mu);
  }
  return NULL;
}

void
dns_tcp_join_all(struct dns_server *s)
{
  reap(s, true);
}
