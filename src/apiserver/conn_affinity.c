/* conn_affinity.c — pins a same-host connection's thread to its client's CPU (see
 * conn_affinity.h). Only the connection's own thread is pinned, and it ends with the
 * connection, so no other work inherits the choice. */
#include "apiserver/conn_affinity.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

/* Looking costs one system call; a client rarely changes CPU, so look now and then. */
#define CONN_AFFINITY_EVERY 16u

void
conn_affinity_init(struct conn_affinity *a)
{
  memset(a, 0, sizeof *a);
  a->cpu = -1;
}

static bool
is_loopback(const struct sockaddr *sa)
{
  if (sa == NULL)
    return false;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a6))
      return true;
    return IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127;
  }
  return false;
}

void
conn_affinity_on_request(struct conn_affinity *a, struct MHD_Connection *conn)
{
  if (!a->decided) {
    a->decided = true;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    a->local = ci != NULL && is_loopback(ci->client_addr);
  }
  if (!a->local)
    return;
  if (a->countdown > 0) {
    a->countdown--;
    return;
  }
  a->countdown = CONN_AFFINITY_EVERY - 1;
  const union MHD_ConnectionInfo *fi =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  int cpu = -1;
  socklen_t len = sizeof cpu;
  if (fi == NULL || getsockopt(fi->connect_fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) != 0 ||
      cpu < 0 || cpu >= CPU_SETSIZE || cpu == a->cpu)
    return;
  if (a->cpu < 0 && pthread_getaffinity_np(pthread_self(), sizeof a->allowed, &a->allowed) != 0)
    return;
  if (!CPU_ISSET(cpu, &a->allowed))
    return; /* the client runs where this process may not */
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0)
    a->cpu = cpu;
}

void
conn_affinity_release(struct conn_affinity *a)
{
  if (a->cpu < 0)
    return;
  if (pthread_setaffinity_np(pthread_self(), sizeof a->allowed, &a->allowed) == 0) {
    a->cpu = -1;
    a->countdown = 0;
  }
}
