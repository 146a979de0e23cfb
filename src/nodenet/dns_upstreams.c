/* dns_upstreams.c — which resolvers the node's cluster DNS forwards to. The one idea: a
 * loopback nameserver is only as good as what listens on it in this namespace, so it is
 * probed with a bind (EADDRINUSE = someone serves there) instead of being trusted or
 * dropped blindly. */
#include "nodenet/node_dns.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Whether a UDP socket is bound to ip:53 here (our bind is refused). */
static bool
loopback_is_served(const struct sockaddr *sa, socklen_t len)
{
  int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  bool served = bind(fd, sa, len) < 0 && errno == EADDRINUSE;
  close(fd);
  return served;
}

/* Whether nameserver text is usable from here. */
static bool
usable(const char *ns, const char *cluster_dns)
{
  if (cluster_dns && strcmp(ns, cluster_dns) == 0)
    return false;
  struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(53)};
  struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
  if (inet_pton(AF_INET, ns, &v4.sin_addr) == 1) {
    if ((ntohl(v4.sin_addr.s_addr) >> 24) != 127)
      return true;
    return loopback_is_served((struct sockaddr *)&v4, sizeof v4);
  }
  if (inet_pton(AF_INET6, ns, &v6.sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr))
      return true;
    return loopback_is_served((struct sockaddr *)&v6, sizeof v6);
  }
  return false; /* zone ids and names are not supported */
}

static size_t
read_nameservers(const char *path, const char *cluster_dns, char **out, size_t max)
{
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return 0;
  char line[512], addr[128];
  size_t n = 0;
  while (n < max && fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, " nameserver %127s", addr) == 1 && usable(addr, cluster_dns))
      out[n++] = xstrdup(addr);
  fclose(f);
  return n;
}

char **
node_dns_upstreams(const char *resolv_conf, const char *cluster_dns)
{
  enum { MAX_UPSTREAMS = 8 };
  char **v = xcalloc(MAX_UPSTREAMS + 1, sizeof *v);
  const char *path = resolv_conf && *resolv_conf ? resolv_conf : "/etc/resolv.conf";
  size_t n = read_nameservers(path, cluster_dns, v, MAX_UPSTREAMS);
  if (n == 0 && strcmp(path, "/etc/resolv.conf") == 0)
    read_nameservers("/run/systemd/resolve/resolv.conf", cluster_dns, v, MAX_UPSTREAMS);
  return v;
}

void
node_dns_strv_free(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}
