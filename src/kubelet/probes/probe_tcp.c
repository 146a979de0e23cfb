/* probe_tcp.c — the tcpSocket probe: a TCP connect from the node to host:port within the
 * timeout; success as soon as the handshake completes (the connection is closed at once). */
#include "kubelet/probes/probe.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connects within timeout_ms: 0 on success, else an errno value (ETIMEDOUT on timeout). */
static int
connect_within(const char *host, int port, int timeout_ms)
{
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  char service[8];
  snprintf(service, sizeof service, "%d", port);
  if (getaddrinfo(host, service, &hints, &ai) != 0 || ai == NULL)
    return EHOSTUNREACH;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    freeaddrinfo(ai);
    return e;
  }
  int result = 0;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    if (errno != EINPROGRESS) {
      result = errno;
    } else {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int n = poll(&p, 1, timeout_ms);
      if (n == 0) {
        result = ETIMEDOUT;
      } else if (n < 0) {
        result = errno;
      } else {
        socklen_t len = sizeof result;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &len) < 0)
          result = errno;
      }
    }
  }
  close(fd);
  freeaddrinfo(ai);
  return result;
}

enum probe_result
probe_tcp_run(const json_t *tcp, const struct probe_target *t, int timeout_ms, char **message)
{
  int port = probe_port(json_object_get(tcp, "port"), t->container);
  const char *host = json_string_value(json_object_get(tcp, "host"));
  host = host && host[0] ? host : t->pod_ip;
  if (port < 0 || host == NULL) {
    *message = xstrdup("tcpSocket probe: invalid port or no pod IP");
    return PROBE_FAILURE;
  }
  int e = connect_within(host, port, timeout_ms);
  if (e == 0)
    return PROBE_SUCCESS;
  bool v6 = strchr(host, ':') != NULL;
  if (e == ETIMEDOUT)
    *message =
        xasprintf("dial tcp %s%s%s:%d: i/o timeout", v6 ? "[" : "", host, v6 ? "]" : "", port);
  else
    *message = xasprintf("dial tcp %s%s%s:%d: connect: %s", v6 ? "[" : "", host, v6 ? "]" : "",
                         port, e == ECONNREFUSED ? "connection refused" : strerror(e));
  return PROBE_FAILURE;
}
