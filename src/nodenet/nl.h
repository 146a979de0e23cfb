/* nl.h — the few rtnetlink operations a node's network needs, over libmnl: IPv4 routes
 * in the main table tagged with one routing protocol number (so only routes we made are
 * ever listed or removed), a dummy interface and an address on it.
 *
 * Every call opens its own short-lived netlink socket and acts on the network namespace
 * of the calling thread. Failures return -1 with err (the errno's text in the message). */
#ifndef K8C_NODENET_NL_H
#define K8C_NODENET_NL_H

#include "lib/err.h"

#include <stddef.h>

/* The rtm_protocol k8c's routes carry (unused by iproute2's rt_protos table). */
#define NODENET_RTPROT 107

struct nl_route4 {
  char dst[19]; /* "10.42.1.0/24" */
  char via[16]; /* "192.168.5.2" ("" for none) */
};

/* Adds or replaces the route dst_cidr via gateway in the main table, tagged proto. */
int nl_route4_replace(const char *dst_cidr, const char *via, unsigned char proto, k8c_err *err);
/* Deletes the main-table route to dst_cidr tagged proto; a missing route is not an error. */
int nl_route4_delete(const char *dst_cidr, unsigned char proto, k8c_err *err);
/* Every main-table IPv4 route tagged proto: *out (caller frees) holds *n entries. */
int nl_route4_list(unsigned char proto, struct nl_route4 **out, size_t *n, k8c_err *err);

/* Creates dummy interface name (an existing one is reused) and sets it up. Where the
 * kernel has no dummy driver, an empty bridge takes its place. */
int nl_dummy_ensure(const char *name, k8c_err *err);
/* Adds ip/prefix_len to interface name (already present is fine). */
int nl_addr4_add(const char *name, const char *ip, int prefix_len, k8c_err *err);
/* Deletes interface name; a missing one is not an error. */
int nl_link_delete(const char *name, k8c_err *err);

/* ---- shared by nl_*.c ---- */
struct nlmsghdr;
/* Sends nlh (NLM_F_ACK is added) and reads until the ack or the dump's end; cb (may be
 * NULL) sees each answer message with data. 0, or -errno. */
int nl_talk(struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);

#endif
