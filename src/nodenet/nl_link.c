/* nl_link.c — a dummy interface and its address over rtnetlink: the node-local home of
 * addresses that belong to no real link (the cluster DNS service IP). Every operation is
 * idempotent, so a restarted agent simply re-runs it. */
#include "nodenet/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

static struct nlmsghdr *
link_msg(char *buf, int type, int flags, int index)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (unsigned short)type;
  nlh->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  return nlh;
}

/* Creates interface name of kind; 0 also when it exists, else -errno. */
static int
link_create(const char *name, const char *kind)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
  mnl_attr_nest_end(nlh, info);
  int rc = nl_talk(nlh, NULL, NULL);
  return rc == -EEXIST ? 0 : rc;
}

int
nl_dummy_ensure(const char *name, k8c_err *err)
{
  if (strlen(name) >= IFNAMSIZ)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "interface name \"%s\" is too long", name);
  int rc = link_create(name, "dummy");
  /* Kernels built without the dummy driver: a bridge without ports holds local
   * addresses just as well (their local routes need the link up, not a carrier). */
  if (rc == -EOPNOTSUPP)
    rc = link_create(name, "bridge");
  if (rc < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating interface %s: %s", name,
                     strerror(-rc));
  unsigned index = if_nametoindex(name);
  if (index == 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "interface %s: %m", name);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, (int)index);
  struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  rc = nl_talk(nlh, NULL, NULL);
  if (rc < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "setting %s up: %s", name, strerror(-rc));
  return 0;
}

int
nl_addr4_add(const char *name, const char *ip, int prefix_len, k8c_err *err)
{
  struct in_addr addr;
  if (inet_pton(AF_INET, ip, &addr) != 1 || prefix_len < 0 || prefix_len > 32)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad IPv4 address \"%s\"", ip);
  unsigned index = if_nametoindex(name);
  if (index == 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "interface %s: %m", name);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix_len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put(nlh, IFA_LOCAL, sizeof addr, &addr);
  mnl_attr_put(nlh, IFA_ADDRESS, sizeof addr, &addr);
  int rc = nl_talk(nlh, NULL, NULL);
  if (rc < 0 && rc != -EEXIST)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "adding %s/%d to %s: %s", ip, prefix_len, name,
                     strerror(-rc));
  return 0;
}

int
nl_link_delete(const char *name, k8c_err *err)
{
  if (strlen(name) >= IFNAMSIZ)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "interface name \"%s\" is too long", name);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  int rc = nl_talk(nlh, NULL, NULL);
  if (rc < 0 && rc != -ENODEV)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "deleting interface %s: %s", name,
                     strerror(-rc));
  return 0;
}
