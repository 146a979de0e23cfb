/* nl_route.c — IPv4 routes in the main table that carry k8c's protocol number: replace
 * (add or overwrite), delete and list. Matching on the protocol is what keeps every
 * other route on the node out of reach. */
#include "nodenet/nl.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses "a.b.c.d/n" into addr (network byte order) and len. */
static int
parse_cidr(const char *cidr, struct in_addr *addr, unsigned char *len, k8c_err *err)
{
  char ip[INET_ADDRSTRLEN];
  const char *slash = strchr(cidr, '/');
  size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
  char *end = NULL;
  long bits = slash ? strtol(slash + 1, &end, 10) : 32;
  if (n >= sizeof ip || (slash && (*end != '\0' || end == slash + 1)) || bits < 0 || bits > 32)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad IPv4 CIDR \"%s\"", cidr);
  memcpy(ip, cidr, n);
  ip[n] = '\0';
  if (inet_pton(AF_INET, ip, addr) != 1)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad IPv4 CIDR \"%s\"", cidr);
  *len = (unsigned char)bits;
  return 0;
}

static struct nlmsghdr *
route_msg(char *buf, int type, int flags, const struct in_addr *dst, unsigned char dst_len,
          unsigned char proto)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (unsigned short)type;
  nlh->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = dst_len;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = proto;
  rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_DST, sizeof *dst, dst);
  return nlh;
}

int
nl_route4_replace(const char *dst_cidr, const char *via, unsigned char proto, k8c_err *err)
{
  struct in_addr dst, gw;
  unsigned char len;
  if (parse_cidr(dst_cidr, &dst, &len, err) < 0)
    return -1;
  if (inet_pton(AF_INET, via, &gw) != 1)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "bad gateway \"%s\"", via);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh =
      route_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &dst, len, proto);
  mnl_attr_put(nlh, RTA_GATEWAY, sizeof gw, &gw);
  int rc = nl_talk(nlh, NULL, NULL);
  if (rc < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "route %s via %s: %s", dst_cidr, via,
                     strerror(-rc));
  return 0;
}

int
nl_route4_delete(const char *dst_cidr, unsigned char proto, k8c_err *err)
{
  struct in_addr dst;
  unsigned char len;
  if (parse_cidr(dst_cidr, &dst, &len, err) < 0)
    return -1;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = route_msg(buf, RTM_DELROUTE, 0, &dst, len, proto);
  int rc = nl_talk(nlh, NULL, NULL);
  if (rc < 0 && rc != -ESRCH)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "deleting route %s: %s", dst_cidr,
                     strerror(-rc));
  return 0;
}

struct route_list {
  unsigned char proto;
  struct nl_route4 *items;
  size_t n, cap;
};

static int
route_attr(const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;
  int type = mnl_attr_get_type(attr);
  if (type <= RTA_MAX && (type == RTA_DST || type == RTA_GATEWAY || type == RTA_TABLE) &&
      mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
    tb[type] = attr;
  return MNL_CB_OK;
}

static int
collect_route(const struct nlmsghdr *nlh, void *data)
{
  struct route_list *l = data;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
      rtm->rtm_protocol != l->proto)
    return MNL_CB_OK;
  const struct nlattr *tb[RTA_MAX + 1] = {0};
  mnl_attr_parse(nlh, sizeof *rtm, route_attr, tb);
  unsigned table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
  if (table != RT_TABLE_MAIN)
    return MNL_CB_OK;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->items = xrealloc(l->items, l->cap * sizeof *l->items);
  }
  struct nl_route4 *r = &l->items[l->n++];
  memset(r, 0, sizeof *r);
  struct in_addr dst = {0}, gw;
  if (tb[RTA_DST])
    memcpy(&dst, mnl_attr_get_payload(tb[RTA_DST]), sizeof dst);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &dst, ip, sizeof ip);
  snprintf(r->dst, sizeof r->dst, "%s/%u", ip, rtm->rtm_dst_len);
  if (tb[RTA_GATEWAY]) {
    memcpy(&gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), sizeof gw);
    inet_ntop(AF_INET, &gw, r->via, sizeof r->via);
  }
  return MNL_CB_OK;
}

int
nl_route4_list(unsigned char proto, struct nl_route4 **out, size_t *n, k8c_err *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  struct route_list l = {.proto = proto};
  int rc = nl_talk(nlh, collect_route, &l);
  if (rc < 0) {
    free(l.items);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "listing routes: %s", strerror(-rc));
  }
  *out = l.items;
  *n = l.n;
  return 0;
}
