/* proxy_nftnl.c — map and set elements straight to nf_tables netlink. The element text
 * proxy_render writes has a fixed shape per map ("10.43.0.1 . tcp . 80 . 3 : 10.64.0.9 .
 * 8080"), so it is turned into the kernel's binary layout by a small table-driven parser
 * (each field of a concatenation padded to 32 bits, as nft lays them out), and sent as
 * libnftnl NEWSETELEM messages in one batch: one transaction, one sendmsg. */
#include "proxy/proxy_nftnl.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef K8C_HAVE_LIBNFTNL
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#endif

/* ---------- the layout of every map ---------- */

enum field { F_END, F_IP, F_PROTO, F_PORT, F_INDEX };
enum value_kind { V_NONE, V_VERDICT, V_CONCAT };

struct map_layout {
  enum field key[5];
  enum value_kind value;
  enum field data[3];
};

static const struct map_layout layouts[PM_COUNT] = {
    [PM_SERVICE_IPS] = {{F_IP, F_PROTO, F_PORT}, V_VERDICT, {F_END}},
    [PM_SERVICE_NODEPORTS] = {{F_PROTO, F_PORT}, V_VERDICT, {F_END}},
    [PM_CLUSTER_ENDPOINTS] = {{F_IP, F_PROTO, F_PORT, F_INDEX}, V_CONCAT, {F_IP, F_PORT}},
    [PM_NODEPORT_ENDPOINTS] = {{F_PROTO, F_PORT, F_INDEX}, V_CONCAT, {F_IP, F_PORT}},
    [PM_NOEP_SERVICES] = {{F_IP, F_PROTO, F_PORT}, V_VERDICT, {F_END}},
    [PM_NOEP_NODEPORTS] = {{F_PROTO, F_PORT}, V_VERDICT, {F_END}},
    [PM_CLUSTER_IPS] = {{F_IP}, V_NONE, {F_END}},
    [PM_HAIRPIN] = {{F_IP, F_IP}, V_NONE, {F_END}},
};

/* ---------- text → binary ---------- */

static bool
parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out)
{
  if (len == 0 || len > 10)
    return false;
  unsigned long v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > max)
    return false;
  *out = v;
  return true;
}

static bool
parse_proto(const char *s, size_t len, uint8_t *out)
{
  static const struct {
    const char *name;
    uint8_t number;
  } names[] = {{"tcp", 6}, {"udp", 17}, {"sctp", 132}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (len == strlen(names[i].name) && memcmp(s, names[i].name, len) == 0) {
      *out = names[i].number;
      return true;
    }
  unsigned long v;
  if (!parse_uint(s, len, 255, &v))
    return false;
  *out = (uint8_t)v;
  return true;
}

/* One field of a concatenation, padded to a 32-bit register as the kernel keeps it. */
static bool
encode_field(enum field f, const char *s, size_t len, buf *out)
{
  uint8_t reg[4] = {0};
  unsigned long v;
  switch (f) {
  case F_IP: {
    char ip[INET_ADDRSTRLEN];
    if (len >= sizeof ip)
      return false;
    memcpy(ip, s, len);
    ip[len] = '\0';
    if (inet_pton(AF_INET, ip, reg) != 1)
      return false;
    break;
  }
  case F_PROTO:
    if (!parse_proto(s, len, &reg[0]))
      return false;
    break;
  case F_PORT: {
    if (!parse_uint(s, len, 65535, &v))
      return false;
    uint16_t port = htons((uint16_t)v);
    memcpy(reg, &port, sizeof port);
    break;
  }
  case F_INDEX: { /* numgen's result: a host-order 32-bit integer */
    if (!parse_uint(s, len, UINT32_MAX, &v))
      return false;
    uint32_t index = (uint32_t)v;
    memcpy(reg, &index, sizeof index);
    break;
  }
  case F_END:
    return false;
  }
  buf_append(out, reg, sizeof reg);
  return true;
}

/* Encodes the " . "-separated fields of s[0..len) per fields (F_END-terminated). */
static bool
encode_concat(const enum field *fields, const char *s, size_t len, buf *out, size_t *n_bytes)
{
  const char *end = s + len;
  size_t before = out->len;
  for (size_t i = 0; fields[i] != F_END; i++) {
    const char *sep = memmem(s, (size_t)(end - s), " . ", 3);
    bool last = fields[i + 1] == F_END;
    if (last != (sep == NULL))
      return false;
    const char *field_end = sep ? sep : end;
    if (!encode_field(fields[i], s, (size_t)(field_end - s), out))
      return false;
    s = sep ? sep + 3 : end;
  }
  *n_bytes = out->len - before;
  return true;
}

static bool
parse_verdict(const char *s, size_t len, int *verdict, const char **chain, size_t *chain_len)
{
  static const struct {
    const char *word;
    int verdict;
    bool has_chain;
  } verdicts[] = {{"drop", NF_DROP, false},
                  {"accept", NF_ACCEPT, false},
                  {"return", NFT_RETURN, false},
                  {"goto ", NFT_GOTO, true},
                  {"jump ", NFT_JUMP, true}};
  for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
    size_t wlen = strlen(verdicts[i].word);
    if (verdicts[i].has_chain ? len <= wlen : len != wlen)
      continue;
    if (memcmp(s, verdicts[i].word, wlen) != 0)
      continue;
    *verdict = verdicts[i].verdict;
    *chain = verdicts[i].has_chain ? s + wlen : NULL;
    *chain_len = verdicts[i].has_chain ? len - wlen : 0;
    return true;
  }
  return false;
}

int
proxy_nftnl_encode(enum proxy_map m, const char *elem, size_t elem_len, buf *out, size_t *key_len,
                   size_t *data_len, int *verdict, const char **chain, size_t *chain_len)
{
  const struct map_layout *l = &layouts[m];
  const char *colon = memmem(elem, elem_len, " : ", 3);
  size_t klen = colon ? (size_t)(colon - elem) : elem_len;
  *data_len = 0;
  *verdict = 0;
  *chain = NULL;
  *chain_len = 0;
  if ((l->value == V_NONE) != (colon == NULL))
    return -1;
  if (!encode_concat(l->key, elem, klen, out, key_len))
    return -1;
  if (l->value == V_NONE)
    return 0;
  const char *value = colon + 3;
  size_t vlen = elem_len - klen - 3;
  if (l->value == V_VERDICT)
    return parse_verdict(value, vlen, verdict, chain, chain_len) ? 0 : -1;
  return encode_concat(l->data, value, vlen, out, data_len) ? 0 : -1;
}

/* ---------- netlink ---------- */

#ifndef K8C_HAVE_LIBNFTNL

bool
proxy_nftnl_available(void)
{
  return false;
}

long
proxy_nftnl_add_elements(const char *table, const buf lists[PM_COUNT], k8c_err *err)
{
  (void)table;
  (void)lists;
  return k8c_error(err, 500, K8C_REASON_INTERNAL, "built without libnftnl");
}

#else

/* An element list's messages stop growing past this size: the elements nest of a
 * message has a 16-bit length, and one element is far below the remaining slack. */
#define MESSAGE_FILL (48 * 1024)
#define SCRATCH_SIZE (MESSAGE_FILL + 16 * 1024)

bool
proxy_nftnl_available(void)
{
  return true;
}

struct batch_builder {
  buf out;       /* the whole batch, messages back to back */
  char *scratch; /* the message being built */
  uint32_t seq;  /* sequence number of the next message */
  uint32_t last_seq;
  long elements;
};

static struct nlmsghdr *
start_message(struct batch_builder *bb, const char *table, const char *map, struct nlattr **nest)
{
  struct nlmsghdr *nlh =
      nftnl_nlmsg_build_hdr(bb->scratch, NFT_MSG_NEWSETELEM, NFPROTO_IPV4, NLM_F_CREATE, bb->seq++);
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, map);
  *nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  return nlh;
}

static void
finish_message(struct batch_builder *bb, struct nlmsghdr *nlh, struct nlattr *nest)
{
  mnl_attr_nest_end(nlh, nest);
  bb->last_seq = nlh->nlmsg_seq;
  buf_append(&bb->out, nlh, nlh->nlmsg_len);
}

/* Appends the messages adding the elements of list (map m) to bb. -1 if one is bad. */
static int
add_map(struct batch_builder *bb, const char *table, enum proxy_map m, const buf *list,
        k8c_err *err)
{
  if (list->len == 0)
    return 0;
  struct nftnl_set_elem *e = nftnl_set_elem_alloc();
  if (e == NULL)
    abort();
  buf bin;
  buf_init(&bin);
  struct nlattr *nest;
  struct nlmsghdr *nlh = start_message(bb, table, proxy_map_names[m], &nest);
  int rc = 0, index = 0;
  const char *p = list->data, *end = list->data + list->len;
  while (p < end) {
    const char *sep = memmem(p, (size_t)(end - p), ", ", 2);
    size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
    size_t key_len, data_len, chain_len;
    int verdict;
    const char *chain;
    buf_reset(&bin);
    if (proxy_nftnl_encode(m, p, len, &bin, &key_len, &data_len, &verdict, &chain, &chain_len) <
        0) {
      rc = k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "proxy map %s: cannot encode element %.*s",
                     proxy_map_names[m], (int)(len > 200 ? 200 : len), p);
      break;
    }
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, bin.data, (uint32_t)key_len);
    if (data_len)
      nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, bin.data + key_len, (uint32_t)data_len);
    if (layouts[m].value == V_VERDICT) {
      nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)verdict);
      if (chain) {
        char *name = xasprintf("%.*s", (int)chain_len, chain);
        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, name);
        free(name);
      } else
        nftnl_set_elem_unset(e, NFTNL_SET_ELEM_CHAIN);
    }
    if (nlh->nlmsg_len > MESSAGE_FILL) {
      finish_message(bb, nlh, nest);
      nlh = start_message(bb, table, proxy_map_names[m], &nest);
      index = 0;
    }
    (void)nftnl_set_elem_nlmsg_build(nlh, e, ++index);
    bb->elements++;
    p = sep ? sep + 2 : end;
  }
  if (rc == 0)
    finish_message(bb, nlh, nest);
  buf_free(&bin);
  nftnl_set_elem_free(e);
  return rc;
}

/* Reads the kernel's answers to the batch: fine once the last message is acknowledged
 * and nothing reported an error. */
static int
read_answers(struct mnl_socket *nl, uint32_t first_seq, uint32_t last_seq, k8c_err *err)
{
  enum { RECV_SIZE = 64 * 1024 };
  char *rbuf = xmalloc(RECV_SIZE);
  int rc = 0, failure = 0;
  bool acked = false;
  while (!acked && failure == 0) {
    struct pollfd pfd = {.fd = mnl_socket_get_fd(nl), .events = POLLIN};
    int ready = poll(&pfd, 1, 5000);
    if (ready <= 0) {
      failure = ready == 0 ? ETIMEDOUT : errno;
      break;
    }
    ssize_t n = recv(pfd.fd, rbuf, RECV_SIZE, 0);
    if (n < 0) {
      failure = errno;
      break;
    }
    int left = (int)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, left);
         h = mnl_nlmsg_next(h, &left)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < first_seq || h->nlmsg_seq > last_seq)
        continue;
      const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
      if (e->error != 0 && failure == 0)
        failure = -e->error;
      else if (h->nlmsg_seq == last_seq)
        acked = true;
    }
  }
  if (failure)
    rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "nf_tables rejected the element batch: %s",
                   strerror(failure));
  free(rbuf);
  return rc;
}

long
proxy_nftnl_add_elements(const char *table, const buf lists[PM_COUNT], k8c_err *err)
{
  struct batch_builder bb = {.scratch = xmalloc(SCRATCH_SIZE), .seq = (uint32_t)time(NULL)};
  buf_init(&bb.out);
  uint32_t first_seq = bb.seq;
  nftnl_batch_begin(bb.scratch, bb.seq++);
  buf_append(&bb.out, bb.scratch, ((struct nlmsghdr *)bb.scratch)->nlmsg_len);
  long rc = 0;
  for (int m = 0; m < PM_COUNT && rc == 0; m++)
    rc = add_map(&bb, table, (enum proxy_map)m, &lists[m], err);
  struct mnl_socket *nl = NULL;
  if (rc == 0 && bb.elements > 0) {
    /* Only the last element message asks for an acknowledgement: errors come anyway. */
    struct nlmsghdr *last = NULL;
    for (size_t off = 0; off < bb.out.len;) {
      struct nlmsghdr *h = (struct nlmsghdr *)(bb.out.data + off);
      last = h;
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
    last->nlmsg_flags |= NLM_F_ACK;
    nftnl_batch_end(bb.scratch, bb.seq++);
    buf_append(&bb.out, bb.scratch, ((struct nlmsghdr *)bb.scratch)->nlmsg_len);
    nl = mnl_socket_open(NETLINK_NETFILTER);
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
      rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "nfnetlink socket: %s", strerror(errno));
  }
  if (nl && rc == 0) {
    /* The batch goes in one datagram, so the send buffer must hold it (nft does the same). */
    int size = (int)bb.out.len + 4096, on = 1;
    int fd = mnl_socket_get_fd(nl);
    /* Errors without a copy of the (large) message they answer. */
    if (setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
      rc =
          k8c_error(err, 500, K8C_REASON_INTERNAL, "nfnetlink socket options: %s", strerror(errno));
    else if (mnl_socket_sendto(nl, bb.out.data, bb.out.len) < 0)
      rc = k8c_error(err, 500, K8C_REASON_INTERNAL, "nfnetlink send: %s", strerror(errno));
    else
      rc = read_answers(nl, first_seq, bb.last_seq, err);
  }
  if (nl)
    mnl_socket_close(nl);
  buf_free(&bb.out);
  free(bb.scratch);
  return rc < 0 ? -1 : bb.elements;
}

#endif
