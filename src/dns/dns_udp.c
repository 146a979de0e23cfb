/* dns_udp.c — a UDP worker: takes queries in batches with a blocking recvmmsg, answers
 * the whole batch under one read lock of the snapshot into preallocated buffers and
 * sends the answers with one sendmmsg — no allocation and two system calls a batch. */
#include "dns/dns_server_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 32

struct udp_batch {
  struct mmsghdr in[BATCH], out[BATCH];
  struct iovec in_iov[BATCH], out_iov[BATCH];
  struct sockaddr_storage peer[BATCH];
  uint8_t req[BATCH][DNS_UDP_MAX];
  uint8_t resp[BATCH][DNS_UDP_MAX];
};

static void
answer_batch(struct dns_server *s, int fd, struct udp_batch *b, int n)
{
  unsigned nout = 0;
  struct dns_chase chase;
  pthread_rwlock_rdlock(&s->index_lock);
  for (int i = 0; i < n; i++) {
    size_t len = b->in[i].msg_len, out_len = 0;
    if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC)
      continue; /* larger than any query we accept */
    enum dns_action act = dns_answer(s->index, s->ttl, b->req[i], len, false, b->resp[nout],
                                     DNS_UDP_MAX, &out_len, &chase);
    if (act == DNS_ACTION_REPLY) {
      b->out_iov[nout] = (struct iovec){b->resp[nout], out_len};
      b->out[nout].msg_hdr = (struct msghdr){.msg_name = &b->peer[i],
                                             .msg_namelen = b->in[i].msg_hdr.msg_namelen,
                                             .msg_iov = &b->out_iov[nout],
                                             .msg_iovlen = 1};
      nout++;
    } else if (act == DNS_ACTION_FORWARD || act == DNS_ACTION_CHASE) {
      if (!dns_fwd_enqueue(s, fd, &b->peer[i], b->in[i].msg_hdr.msg_namelen, b->req[i], len))
        log_debug("dns: forwarding queue full, query dropped");
    }
  }
  pthread_rwlock_unlock(&s->index_lock);
  for (unsigned sent = 0; sent < nout;) {
    int rc = sendmmsg(fd, b->out + sent, nout - sent, MSG_DONTWAIT);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      sent++; /* skip the datagram that failed (e.g. an unreachable peer) */
      continue;
    }
    sent += (unsigned)rc;
  }
}

void *
dns_udp_worker(void *arg)
{
  struct dns_udp_arg a = *(struct dns_udp_arg *)arg;
  free(arg);
  struct dns_server *s = a.srv;
  struct udp_batch *b = xmalloc(sizeof *b);
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      b->in_iov[i] = (struct iovec){b->req[i], DNS_UDP_MAX};
      b->in[i].msg_hdr = (struct msghdr){.msg_name = &b->peer[i],
                                         .msg_namelen = sizeof b->peer[i],
                                         .msg_iov = &b->in_iov[i],
                                         .msg_iovlen = 1};
      b->in[i].msg_len = 0;
    }
    /* Blocks for the first datagram, then takes whatever else is queued; stopping
     * shuts the socket down, which wakes this call. */
    int n = recvmmsg(a.fd, b->in, BATCH, MSG_WAITFORONE, NULL);
    if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
      break;
    if (n <= 0) {
      if (n < 0 && errno != EINTR && errno != EAGAIN && errno != ECONNREFUSED)
        log_debug("dns: recvmmsg: %s", strerror(errno));
      continue;
    }
    answer_batch(s, a.fd, b, n);
  }
  free(b);
  return NULL;
}
