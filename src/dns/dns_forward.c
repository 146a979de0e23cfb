/* dns_forward.c — forwarding to upstream resolvers (see dns_forward.h). An answer is
 * accepted only from the address asked (connected sockets), with the random ID and the
 * same question, which keeps spoofed or stale datagrams out. */
#include "dns/dns_forward.h"
#include "lib/clock.h"

#include "dns/dns_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int
dns_addr_parse(const char *text, uint16_t default_port, struct dns_upstream *out, k8c_err *err)
{
  char host[64];
  const char *port_text = NULL;
  memset(out, 0, sizeof *out);
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (close == NULL || (size_t)(close - text - 1) >= sizeof host)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad address \"%s\"", text);
    memcpy(host, text + 1, (size_t)(close - text - 1));
    host[close - text - 1] = '\0';
    if (close[1] == ':')
      port_text = close + 2;
    else if (close[1] != '\0')
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad address \"%s\"", text);
  } else {
    const char *colon = strchr(text, ':');
    bool v4_with_port = colon != NULL && strchr(colon + 1, ':') == NULL;
    size_t n = v4_with_port ? (size_t)(colon - text) : strlen(text);
    if (n >= sizeof host)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad address \"%s\"", text);
    memcpy(host, text, n);
    host[n] = '\0';
    if (v4_with_port)
      port_text = colon + 1;
  }
  long port = default_port;
  if (port_text != NULL) {
    char *end;
    port = strtol(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || port < 0 || port > 65535)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad port in \"%s\"", text);
  }
  struct sockaddr_in *v4 = (struct sockaddr_in *)&out->addr;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->addr;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    out->len = sizeof *v4;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    out->len = sizeof *v6;
    return 0;
  }
  return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad address \"%s\"", text);
}

static bool
is_loopback(const struct dns_upstream *u)
{
  if (u->addr.ss_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)&u->addr)->sin_addr.s_addr) >> 24) == 127;
  return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&u->addr)->sin6_addr);
}

size_t
dns_upstreams_from_resolv_conf(const char *path, struct dns_upstream *out, size_t max)
{
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return 0;
  char line[512], addr[128];
  size_t n = 0;
  while (n < max && fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, " nameserver %127s", addr) != 1)
      continue;
    char *pct = strchr(addr, '%'); /* fe80::1%eth0: zone ids are not supported */
    if (pct != NULL)
      continue;
    k8c_err err = {0};
    if (dns_addr_parse(addr, 53, &out[n], &err) < 0) {
      k8c_err_clear(&err);
      continue;
    }
    if (!is_loopback(&out[n]))
      n++;
  }
  fclose(f);
  return n;
}

/* Waits until fd is ready for events or the deadline passes; 1 ready, 0 timeout, -1. */
static int
wait_fd(int fd, short events, long long deadline)
{
  for (;;) {
    long long left = deadline - clock_monotonic_ms();
    if (left <= 0)
      return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int rc = poll(&p, 1, (int)left);
    if (rc < 0 && errno == EINTR)
      continue;
    return rc < 0 ? -1 : rc > 0 ? 1 : 0;
  }
}

static bool
same_question(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen)
{
  size_t qoff = DNS_HEADER_LEN, roff = DNS_HEADER_LEN;
  if (dns_get16(q + 4) != 1)
    return true; /* nothing sensible to compare */
  if (rlen < DNS_HEADER_LEN || dns_get16(r + 4) != 1)
    return false;
  char qn[DNS_NAME_MAX + 1], rn[DNS_NAME_MAX + 1], ql[DNS_NAME_MAX + 1], rl[DNS_NAME_MAX + 1];
  int a = dns_name_read(q, qlen, &qoff, qn), b = dns_name_read(r, rlen, &roff, rn);
  if (a < 0 || b < 0 || qoff + 4 > qlen || roff + 4 > rlen || a != b)
    return false;
  dns_name_lower(qn, (size_t)a, ql);
  dns_name_lower(rn, (size_t)b, rl);
  return strcmp(ql, rl) == 0 && memcmp(q + qoff, r + roff, 4) == 0;
}

static bool
read_full(int fd, uint8_t *p, size_t n, long long deadline)
{
  size_t got = 0;
  while (got < n) {
    if (wait_fd(fd, POLLIN, deadline) <= 0)
      return false;
    ssize_t r = read(fd, p + got, n - got);
    if (r <= 0) {
      if (r < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      return false;
    }
    got += (size_t)r;
  }
  return true;
}

static int
exchange_tcp(const struct dns_upstream *u, const uint8_t *q, size_t qlen, uint8_t *resp, size_t cap,
             size_t *resp_len, long long deadline)
{
  int fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int rc = -1;
  if (connect(fd, (const struct sockaddr *)&u->addr, u->len) < 0 && errno != EINPROGRESS)
    goto out;
  if (wait_fd(fd, POLLOUT, deadline) <= 0)
    goto out;
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)
    goto out;
  uint8_t lenbuf[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
  struct iovec iov[2] = {{lenbuf, 2}, {(void *)q, qlen}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
    goto out;
  for (;;) {
    if (!read_full(fd, lenbuf, 2, deadline))
      goto out;
    size_t n = dns_get16(lenbuf);
    if (n > cap || n < DNS_HEADER_LEN || !read_full(fd, resp, n, deadline))
      goto out;
    if (dns_get16(resp) == dns_get16(q) && same_question(q, qlen, resp, n)) {
      *resp_len = n;
      rc = 0;
      break;
    }
  }
out:
  close(fd);
  return rc;
}

static int
exchange_udp(const struct dns_upstream *u, const uint8_t *q, size_t qlen, uint8_t *resp, size_t cap,
             size_t *resp_len, long long deadline)
{
  int fd = socket(u->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int rc = -1;
  if (connect(fd, (const struct sockaddr *)&u->addr, u->len) < 0 ||
      send(fd, q, qlen, 0) != (ssize_t)qlen)
    goto out;
  while (wait_fd(fd, POLLIN, deadline) > 0) {
    ssize_t n = recv(fd, resp, cap, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      break; /* ECONNREFUSED: nobody listens there */
    }
    if ((size_t)n < DNS_HEADER_LEN || dns_get16(resp) != dns_get16(q) ||
        !(dns_get16(resp + 2) & DNS_FLAG_QR) || !same_question(q, qlen, resp, (size_t)n))
      continue; /* not our answer */
    *resp_len = (size_t)n;
    rc = 0;
    break;
  }
out:
  close(fd);
  return rc;
}

int
dns_forward_exchange(const struct dns_upstream *ups, size_t nups, const uint8_t *query, size_t qlen,
                     uint8_t *resp, size_t cap, size_t *resp_len, int timeout_ms)
{
  if (nups == 0 || qlen < DNS_HEADER_LEN || qlen > DNS_TCP_MAX)
    return -1;
  uint8_t q[DNS_TCP_MAX];
  memcpy(q, query, qlen);
  uint16_t id;
  if (getrandom(&id, sizeof id, 0) != sizeof id)
    id = (uint16_t)(clock_monotonic_ms() ^ (long long)getpid());
  q[0] = (uint8_t)(id >> 8);
  q[1] = (uint8_t)id;
  long long start = clock_monotonic_ms(), end = start + timeout_ms;
  for (size_t i = 0; i < nups; i++) {
    /* Each resolver gets an equal share of what remains of the timeout. */
    long long now = clock_monotonic_ms();
    if (now >= end)
      break;
    long long deadline = now + (end - now) / (long long)(nups - i);
    int rc = exchange_udp(&ups[i], q, qlen, resp, cap, resp_len, deadline);
    if (rc == 0 && (dns_get16(resp + 2) & DNS_FLAG_TC))
      rc = exchange_tcp(&ups[i], q, qlen, resp, cap, resp_len, deadline);
    if (rc == 0) {
      resp[0] = query[0];
      resp[1] = query[1];
      return 0;
    }
  }
  return -1;
}

size_t
dns_reply_truncate(uint8_t *resp, size_t len, size_t limit)
{
  if (len <= limit)
    return len;
  size_t off = DNS_HEADER_LEN;
  uint16_t qd = dns_get16(resp + 4);
  if (qd != 1 || dns_name_skip(resp, len, &off) < 0 || off + 4 > limit) {
    off = DNS_HEADER_LEN;
    qd = 0;
  } else {
    off += 4;
  }
  uint16_t flags = dns_get16(resp + 2) | DNS_FLAG_TC;
  resp[2] = (uint8_t)(flags >> 8);
  resp[3] = (uint8_t)flags;
  resp[4] = 0;
  resp[5] = (uint8_t)qd;
  memset(resp + 6, 0, 6);
  return off;
}
