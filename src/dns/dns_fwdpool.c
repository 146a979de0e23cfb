/* dns_fwdpool.c — UDP queries that need the upstream resolvers leave the fast path here:
 * a bounded ring of copied queries served by a few threads that block on the upstreams,
 * so a slow resolver never stalls the answers the server gives from its own records. */
#include "dns/dns_server_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>

#define FWD_QUEUE 128
#define FWD_THREADS 4

bool
dns_fwd_enqueue(struct dns_server *s, int fd, const struct sockaddr_storage *peer,
                socklen_t peer_len, const uint8_t *pkt, size_t len)
{
  if (len > DNS_UDP_MAX)
    return false;
  pthread_mutex_lock(&s->fwd_mu);
  bool ok = s->job_count < s->job_cap && !__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
  if (ok) {
    struct dns_fwd_job *j = &s->jobs[(s->job_head + s->job_count) % s->job_cap];
    j->fd = fd;
    memcpy(&j->peer, peer, peer_len);
    j->peer_len = peer_len;
    j->len = len;
    memcpy(j->pkt, pkt, len);
    s->job_count++;
    pthread_cond_signal(&s->fwd_cond);
  }
  pthread_mutex_unlock(&s->fwd_mu);
  return ok;
}

static void *
fwd_thread(void *arg)
{
  struct dns_server *s = arg;
  struct dns_fwd_job *job = xmalloc(sizeof *job);
  uint8_t *out = xmalloc(DNS_TCP_MAX);
  for (;;) {
    pthread_mutex_lock(&s->fwd_mu);
    while (s->job_count == 0 && !__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
      pthread_cond_wait(&s->fwd_cond, &s->fwd_mu);
    if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
      pthread_mutex_unlock(&s->fwd_mu);
      break;
    }
    memcpy(job, &s->jobs[s->job_head], sizeof *job);
    s->job_head = (s->job_head + 1) % s->job_cap;
    s->job_count--;
    pthread_mutex_unlock(&s->fwd_mu);
    size_t out_len = 0;
    if (dns_server_resolve(s, job->pkt, job->len, false, out, DNS_TCP_MAX, &out_len) &&
        sendto(job->fd, out, out_len, MSG_DONTWAIT, (struct sockaddr *)&job->peer, job->peer_len) <
            0)
      log_debug("dns: sending a forwarded answer: %s", strerror(errno));
  }
  free(out);
  free(job);
  return NULL;
}

int
dns_fwd_start(struct dns_server *s, k8c_err *err)
{
  s->job_cap = FWD_QUEUE;
  s->jobs = xcalloc(s->job_cap, sizeof *s->jobs);
  for (int i = 0; i < FWD_THREADS; i++) {
    if (pthread_create(&s->fwd_threads[i], NULL, fwd_thread, s) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "dns: cannot start a forwarding thread");
    s->nfwd_threads++;
  }
  return 0;
}

void
dns_fwd_stop(struct dns_server *s)
{
  pthread_mutex_lock(&s->fwd_mu);
  pthread_cond_broadcast(&s->fwd_cond); /* s->stopping is already set */
  pthread_mutex_unlock(&s->fwd_mu);
  for (int i = 0; i < s->nfwd_threads; i++)
    pthread_join(s->fwd_threads[i], NULL);
  s->nfwd_threads = 0;
  free(s->jobs);
  s->jobs = NULL;
}
