/* nl_talk.c — one rtnetlink request and its answer over a fresh libmnl socket: simple
 * and stateless, which is all a node's few route and link changes need. */
#include "nodenet/nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <time.h>

int
nl_talk(struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
  struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == NULL)
    return -errno;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    mnl_socket_close(nl);
    return -e;
  }
  unsigned portid = mnl_socket_get_portid(nl);
  unsigned seq = (unsigned)time(NULL);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  int rc = 0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    rc = -errno;
    mnl_socket_close(nl);
    return rc;
  }
  size_t cap = MNL_SOCKET_BUFFER_SIZE * 4;
  char *buf = malloc(cap);
  if (buf == NULL)
    abort();
  for (;;) {
    ssize_t len = mnl_socket_recvfrom(nl, buf, cap);
    if (len < 0) {
      rc = -errno;
      break;
    }
    int r = mnl_cb_run(buf, (size_t)len, seq, portid, cb, data);
    if (r < 0) {
      rc = errno ? -errno : -EIO;
      break;
    }
    if (r == MNL_CB_STOP)
      break;
  }
  free(buf);
  mnl_socket_close(nl);
  return rc;
}
