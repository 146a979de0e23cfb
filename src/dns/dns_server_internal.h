/* dns_server_internal.h — what the server's parts (snapshot, UDP workers, TCP
 * connections, forwarding pool) share. Not for use outside src/dns/. */
#ifndef K8C_DNS_SERVER_INTERNAL_H
#define K8C_DNS_SERVER_INTERNAL_H

#include "dns/dns_answer.h"
#include "dns/dns_forward.h"
#include "dns/dns_index.h"
#include "dns/dns_server.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_MAX_UPSTREAMS 8
#define DNS_MAX_WORKERS 8

struct dns_listener {
  struct dns_upstream addr; /* as bound (port filled in) */
  int udp_fd[DNS_MAX_WORKERS];
  pthread_t udp_thread[DNS_MAX_WORKERS];
  int nworkers; /* sockets */
  int nstarted; /* worker threads started */
  int tcp_fd;
  pthread_t tcp_thread;
  bool tcp_started;
  struct dns_server *srv;
};

struct dns_fwd_job {
  int fd; /* the listener socket to answer from */
  struct sockaddr_storage peer;
  socklen_t peer_len;
  size_t len;
  uint8_t pkt[DNS_UDP_MAX];
};

struct dns_tcp_conn;

struct dns_server {
  k8c_client *client;
  informer_factory *factory;
  bool own_factory;
  char *zone;
  uint32_t ttl;
  int forward_timeout_ms;
  struct dns_upstream upstreams[DNS_MAX_UPSTREAMS];
  size_t nupstreams;
  int stop_fd; /* an eventfd: readable once stopping */

  /* the snapshot: readers hold the read lock while they use it */
  pthread_rwlock_t index_lock;
  struct dns_index *index;

  /* rebuilds, debounced */
  informer *services, *slices;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool dirty, stopping;
  unsigned long generation;
  pthread_t rebuild_thread;
  bool rebuild_started;

  struct dns_listener *listeners;
  size_t nlisteners;

  /* forwarding pool: a ring of jobs handed from UDP workers to forwarding threads */
  pthread_mutex_t fwd_mu;
  pthread_cond_t fwd_cond;
  struct dns_fwd_job *jobs;
  size_t job_head, job_count, job_cap;
  pthread_t fwd_threads[4];
  int nfwd_threads;

  /* TCP connections, joined at stop */
  pthread_mutex_t conn_mu;
  struct dns_tcp_conn *conns;
};

/* Answers one query completely: from the snapshot, or by forwarding / chasing through
 * the upstreams (blocking up to the forward timeout). Writes the reply to out (cap at
 * least DNS_TCP_MAX). Returns false if nothing is to be sent. */
bool dns_server_resolve(struct dns_server *s, const uint8_t *req, size_t len, bool tcp,
                        uint8_t *out, size_t cap, size_t *out_len);

/* Hands a UDP query that needs the upstreams to the forwarding pool; false if the pool
 * is full (the query is dropped: the client retries). */
bool dns_fwd_enqueue(struct dns_server *s, int fd, const struct sockaddr_storage *peer,
                     socklen_t peer_len, const uint8_t *pkt, size_t len);
int dns_fwd_start(struct dns_server *s, k8c_err *err);
void dns_fwd_stop(struct dns_server *s);

void *dns_udp_worker(void *arg);   /* arg: struct dns_udp_arg* (freed by the worker) */
void *dns_tcp_acceptor(void *arg); /* arg: struct dns_listener* */
void dns_tcp_join_all(struct dns_server *s);

struct dns_udp_arg {
  struct dns_server *srv;
  int fd;
};

#endif
