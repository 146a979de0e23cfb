/* podnet.c — IPv4 forwarding and the cluster-egress masquerade table (see podnet.h),
 * written through libnftables in one atomic transaction (add, delete, re-add). */
#include "nodenet/podnet.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
podnet_enable_forwarding(k8c_err *err)
{
  int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opening /proc/sys/net/ipv4/ip_forward: %m");
  ssize_t n = write(fd, "1\n", 2);
  int e = errno;
  close(fd);
  if (n != 2)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "enabling IPv4 forwarding: %s", strerror(e));
  return 0;
}

static int
run_nft(const char *cmd, k8c_err *err)
{
  struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (nft == NULL || nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0)
    abort(); /* only fails on allocation */
  int rc = 0;
  if (nft_run_cmd_from_buffer(nft, cmd) != 0)
    rc =
        k8c_error(err, 500, K8C_REASON_INTERNAL, "nftables: %.400s", nft_ctx_get_error_buffer(nft));
  nft_ctx_free(nft);
  return rc;
}

/* Whether cidr is a plain IPv4 "a.b.c.d/n" (it goes into an nft script). */
static bool
valid_cidr(const char *cidr)
{
  char ip[INET_ADDRSTRLEN];
  struct in_addr a;
  const char *slash = cidr ? strchr(cidr, '/') : NULL;
  if (slash == NULL || (size_t)(slash - cidr) >= sizeof ip)
    return false;
  memcpy(ip, cidr, (size_t)(slash - cidr));
  ip[slash - cidr] = '\0';
  char *end = NULL;
  long bits = strtol(slash + 1, &end, 10);
  return inet_pton(AF_INET, ip, &a) == 1 && end != slash + 1 && *end == '\0' && bits >= 0 &&
         bits <= 32;
}

int
podnet_masquerade_sync(const char *table, const char *cluster_cidr, k8c_err *err)
{
  const char *t = table && *table ? table : "k8c-podnet";
  if (!valid_cidr(cluster_cidr))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad cluster CIDR \"%s\"",
                     cluster_cidr ? cluster_cidr : "");
  char *cmd = xasprintf(
      "add table ip %s\n"
      "delete table ip %s\n"
      "add table ip %s { comment \"k8c pod network: masquerade traffic leaving the cluster\" ; }\n"
      "add chain ip %s postrouting { type nat hook postrouting priority srcnat + 10 ; }\n"
      "add rule ip %s postrouting ip saddr %s ip daddr != { %s, 224.0.0.0/4 } "
      "masquerade fully-random\n",
      t, t, t, t, t, cluster_cidr, cluster_cidr);
  int rc = run_nft(cmd, err);
  free(cmd);
  return rc;
}

int
podnet_masquerade_delete(const char *table, k8c_err *err)
{
  const char *t = table && *table ? table : "k8c-podnet";
  char *cmd = xasprintf("add table ip %s\ndelete table ip %s\n", t, t);
  int rc = run_nft(cmd, err);
  free(cmd);
  return rc;
}
