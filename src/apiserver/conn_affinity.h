/* conn_affinity.h — runs the thread of a connection from this same host on the CPU its
 * client sends from. A request/response ping-pong between two threads costs least when
 * they take turns on one CPU (a wake-up on another CPU is an inter-processor interrupt,
 * far dearer in a VM), and the scheduler alone does not pair them. Loopback TCP delivers
 * a segment on the sender's CPU, so SO_INCOMING_CPU names the client's CPU; remote
 * clients (whose segments land wherever the NIC interrupts) are left to the scheduler. */
#ifndef K8C_APISERVER_CONN_AFFINITY_H
#define K8C_APISERVER_CONN_AFFINITY_H

#include <microhttpd.h>
#include <sched.h>
#include <stdbool.h>

struct conn_affinity {
  bool decided;       /* whether the peer was classified yet */
  bool local;         /* the peer is on a loopback address */
  int cpu;            /* the CPU the thread is pinned to, -1 if none */
  unsigned countdown; /* requests until the next look at the client's CPU */
  cpu_set_t allowed;  /* the thread's CPUs before the first pin (what taskset etc. allow) */
};

void conn_affinity_init(struct conn_affinity *a);

/* Called on the connection's own thread (thread-per-connection daemon) for each request
 * that is not a long-running stream (watch, pod logs/exec/attach/port-forward):
 * for a loopback peer, pins the thread to the client's CPU when that changed, looking
 * only every few requests (one getsockopt) so a client the scheduler moves is followed. */
void conn_affinity_on_request(struct conn_affinity *a, struct MHD_Connection *conn);

/* Gives the thread back the CPUs it had before it was pinned (a long-running stream starts
 * on the connection). */
void conn_affinity_release(struct conn_affinity *a);

#endif
