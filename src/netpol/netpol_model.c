/* netpol_model.c — a NetworkPolicy plus a snapshot of pods and namespaces → the model in
 * netpol_model.h. The one design idea: everything is reduced to sorted, merged integer
 * intervals (addresses, ports), so the renderer emits set elements that never overlap and
 * the same inputs always give the same elements (the syncer diffs them as strings). */
#include "netpol/netpol_model.h"

#include "apimachinery/labels.h"
#include "apimachinery/meta.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- growable arrays ---------- */

#define PUSH(arr, n, cap, value)                                                                   \
  do {                                                                                             \
    if ((n) == (cap)) {                                                                            \
      (cap) = (cap) ? (cap)*2 : 8;                                                                 \
      (arr) = xrealloc((arr), (cap) * sizeof *(arr));                                              \
    }                                                                                              \
    (arr)[(n)++] = (value);                                                                        \
  } while (0)

/* ---------- addresses ---------- */

static bool
parse_ipv4(const char *text, uint32_t *out)
{
  struct in_addr a;
  if (text == NULL || inet_pton(AF_INET, text, &a) != 1)
    return false;
  *out = ntohl(a.s_addr);
  return true;
}

void
netpol_ip_string(uint32_t ip, char *out)
{
  snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* "10.0.0.0/8" → its interval. IPv6 and malformed CIDRs → false. */
static bool
parse_cidr(const char *text, struct netpol_range *out)
{
  if (text == NULL)
    return false;
  const char *slash = strchr(text, '/');
  char addr[32];
  int bits = 32;
  size_t len = slash ? (size_t)(slash - text) : strlen(text);
  if (len >= sizeof addr)
    return false;
  memcpy(addr, text, len);
  addr[len] = '\0';
  if (slash) {
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || b < 0 || b > 32)
      return false;
    bits = (int)b;
  }
  uint32_t ip;
  if (!parse_ipv4(addr, &ip))
    return false;
  uint32_t mask = bits == 0 ? 0 : ~(uint32_t)0 << (32 - bits);
  out->lo = ip & mask;
  out->hi = out->lo | ~mask;
  return true;
}

static int
range_cmp(const void *a, const void *b)
{
  const struct netpol_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

/* Sorts and merges overlapping intervals in place; returns the new count. */
static size_t
merge_ranges(struct netpol_range *r, size_t n)
{
  if (n == 0)
    return 0;
  qsort(r, n, sizeof *r, range_cmp);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (r[i].lo <= r[out].hi) {
      if (r[i].hi > r[out].hi)
        r[out].hi = r[i].hi;
    } else
      r[++out] = r[i];
  }
  return out + 1;
}

/* Appends block minus the excepts to *arr. */
static void
push_block_minus(struct netpol_range **arr, size_t *n, size_t *cap, struct netpol_range block,
                 struct netpol_range *except, size_t n_except)
{
  n_except = merge_ranges(except, n_except);
  uint64_t next = block.lo; /* first address not yet emitted or excluded */
  for (size_t i = 0; i < n_except; i++) {
    if (except[i].hi < next || except[i].lo > block.hi)
      continue;
    if (except[i].lo > next)
      PUSH(*arr, *n, *cap, ((struct netpol_range){(uint32_t)next, except[i].lo - 1}));
    next = (uint64_t)except[i].hi + 1;
  }
  if (next <= block.hi)
    PUSH(*arr, *n, *cap, ((struct netpol_range){(uint32_t)next, block.hi}));
}

/* ---------- pods ---------- */

static const char *
str_at(const json_t *obj, const char *a, const char *b)
{
  return json_string_value(json_object_get(json_object_get(obj, a), b));
}

uint32_t
netpol_pod_ipv4(const json_t *pod)
{
  const json_t *spec = json_object_get(pod, "spec");
  if (json_is_true(json_object_get(spec, "hostNetwork")))
    return 0;
  const char *phase = str_at(pod, "status", "phase");
  if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
    return 0;
  uint32_t ip;
  if (parse_ipv4(str_at(pod, "status", "podIP"), &ip))
    return ip;
  size_t i;
  json_t *entry;
  json_array_foreach (json_object_get(json_object_get(pod, "status"), "podIPs"), i, entry) {
    if (parse_ipv4(json_string_value(json_object_get(entry, "ip")), &ip))
      return ip;
  }
  return 0;
}

bool
netpol_pod_is_local(const json_t *pod, const char *node_name)
{
  if (node_name == NULL)
    return true;
  const char *node = str_at(pod, "spec", "nodeName");
  return node && strcmp(node, node_name) == 0;
}

static uint8_t
parse_protocol(const json_t *value)
{
  const char *p = json_string_value(value);
  if (p == NULL || strcmp(p, "TCP") == 0)
    return NP_PROTO_TCP;
  if (strcmp(p, "UDP") == 0)
    return NP_PROTO_UDP;
  if (strcmp(p, "SCTP") == 0)
    return NP_PROTO_SCTP;
  return 0;
}

/* The pod's container port named name with protocol proto; 0 if it has none. */
static int
pod_named_port(const json_t *pod, const char *name, uint8_t proto)
{
  size_t i, j;
  json_t *c, *port;
  json_array_foreach (json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
    json_array_foreach (json_object_get(c, "ports"), j, port) {
      const char *n = json_string_value(json_object_get(port, "name"));
      json_int_t number = json_integer_value(json_object_get(port, "containerPort"));
      if (n && strcmp(n, name) == 0 && parse_protocol(json_object_get(port, "protocol")) == proto &&
          number > 0 && number <= 65535)
        return (int)number;
    }
  }
  return 0;
}

/* ---------- selectors ---------- */

static label_selector *
selector_of(const json_t *ls, const char *key)
{
  k8c_err err = {0};
  label_selector *sel = label_selector_from_json(ls, &err);
  if (sel == NULL) {
    log_warn("netpol: %s: bad selector (matches nothing): %s", key, err.message);
    k8c_err_clear(&err);
    sel = label_selector_nothing();
  }
  return sel;
}

/* ---------- ports ---------- */

static int
ports_cmp(const void *a, const void *b)
{
  const struct netpol_ports *x = a, *y = b;
  if (x->proto != y->proto)
    return x->proto < y->proto ? -1 : 1;
  return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

static size_t
merge_ports(struct netpol_ports *p, size_t n)
{
  if (n == 0)
    return 0;
  qsort(p, n, sizeof *p, ports_cmp);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (p[i].proto == p[out].proto && p[i].lo <= p[out].hi) {
      if (p[i].hi > p[out].hi)
        p[out].hi = p[i].hi;
    } else
      p[++out] = p[i];
  }
  return out + 1;
}

static int
named_cmp(const void *a, const void *b)
{
  const struct netpol_named *x = a, *y = b;
  if (x->ip != y->ip)
    return x->ip < y->ip ? -1 : 1;
  if (x->proto != y->proto)
    return x->proto < y->proto ? -1 : 1;
  return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

static size_t
merge_named(struct netpol_named *p, size_t n)
{
  if (n == 0)
    return 0;
  qsort(p, n, sizeof *p, named_cmp);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (p[i].ip == p[out].ip && p[i].proto == p[out].proto && p[i].lo <= p[out].hi) {
      if (p[i].hi > p[out].hi)
        p[out].hi = p[i].hi;
    } else
      p[++out] = p[i];
  }
  return out + 1;
}

/* One `ports` entry: a numeric range appended to rule->ports, or (named) its name and
 * protocol returned through *name / *proto. */
static void
parse_port_entry(const json_t *entry, struct netpol_rule *rule, size_t *cap, const char **name,
                 uint8_t *proto)
{
  *name = NULL;
  *proto = parse_protocol(json_object_get(entry, "protocol"));
  if (*proto == 0)
    return; /* a protocol nftables cannot match by port: allows nothing */
  const json_t *port = json_object_get(entry, "port");
  if (json_is_string(port)) {
    *name = json_string_value(port);
    return;
  }
  struct netpol_ports p = {*proto, 0, 65535};
  if (json_is_integer(port)) {
    json_int_t lo = json_integer_value(port);
    json_int_t hi = json_integer_value(json_object_get(entry, "endPort"));
    if (lo < 1 || lo > 65535)
      return;
    p.lo = p.hi = (uint16_t)lo;
    if (hi >= lo && hi <= 65535)
      p.hi = (uint16_t)hi;
  }
  PUSH(rule->ports, rule->n_ports, *cap, p);
}

/* ---------- rules ---------- */

struct pod_list {
  const json_t **pods;
  size_t n, cap;
};

/* Whether pod is matched by the (podSelector, namespaceSelector) peer of a policy in ns. */
static bool
peer_matches(const json_t *pod, const char *policy_ns, const json_t *peer,
             const label_selector *pod_sel, const label_selector *ns_sel,
             const struct netpol_world *w)
{
  const char *pod_ns = meta_namespace(pod);
  if (pod_ns == NULL)
    return false;
  if (json_object_get(peer, "namespaceSelector")) {
    const json_t *labels = w->ns_labels ? hashmap_get(w->ns_labels, pod_ns) : NULL;
    if (!label_selector_matches(ns_sel, labels))
      return false;
  } else if (strcmp(pod_ns, policy_ns) != 0)
    return false;
  return label_selector_matches(pod_sel, meta_labels(pod));
}

static void
build_rule(const char *key, const char *policy_ns, const json_t *rule_json, enum netpol_dir dir,
           const struct pod_list *selected, const struct netpol_world *w, struct netpol_rule *out)
{
  const json_t *peers = json_object_get(rule_json, dir == NP_INGRESS ? "from" : "to");
  const json_t *ports = json_object_get(rule_json, "ports");
  size_t peer_cap = 0, port_cap = 0, named_cap = 0;
  struct pod_list peer_pods = {0};

  out->any_peer = json_array_size(peers) == 0;
  if (out->any_peer && dir == NP_EGRESS)
    for (size_t i = 0; i < w->n_pods; i++)
      if (netpol_pod_ipv4(w->pods[i]))
        PUSH(peer_pods.pods, peer_pods.n, peer_pods.cap, w->pods[i]);
  size_t i;
  json_t *peer;
  json_array_foreach (peers, i, peer) {
    const json_t *block = json_object_get(peer, "ipBlock");
    if (block) {
      struct netpol_range r;
      if (!parse_cidr(json_string_value(json_object_get(block, "cidr")), &r))
        continue; /* IPv6 (or invalid): not enforced by this IPv4 table */
      struct netpol_range *except = NULL;
      size_t n_except = 0, except_cap = 0;
      size_t k;
      json_t *e;
      json_array_foreach (json_object_get(block, "except"), k, e) {
        struct netpol_range x;
        if (parse_cidr(json_string_value(e), &x))
          PUSH(except, n_except, except_cap, x);
      }
      push_block_minus(&out->peers, &out->n_peers, &peer_cap, r, except, n_except);
      free(except);
      continue;
    }
    const json_t *pod_sel_json = json_object_get(peer, "podSelector");
    const json_t *ns_sel_json = json_object_get(peer, "namespaceSelector");
    if (pod_sel_json == NULL && ns_sel_json == NULL)
      continue;
    label_selector *pod_sel = pod_sel_json ? selector_of(pod_sel_json, key) : NULL;
    label_selector *ns_sel = ns_sel_json ? selector_of(ns_sel_json, key) : NULL;
    for (size_t p = 0; p < w->n_pods; p++) {
      uint32_t ip = netpol_pod_ipv4(w->pods[p]);
      if (ip == 0 || !peer_matches(w->pods[p], policy_ns, peer, pod_sel, ns_sel, w))
        continue;
      PUSH(out->peers, out->n_peers, peer_cap, ((struct netpol_range){ip, ip}));
      if (dir == NP_EGRESS)
        PUSH(peer_pods.pods, peer_pods.n, peer_pods.cap, w->pods[p]);
    }
    label_selector_free(pod_sel);
    label_selector_free(ns_sel);
  }
  out->n_peers = merge_ranges(out->peers, out->n_peers);

  out->any_port = json_array_size(ports) == 0;
  /* Named ports resolve on the destination: the selected pods for ingress, the peer pods
   * for egress. */
  const struct pod_list *targets = dir == NP_INGRESS ? selected : &peer_pods;
  json_t *entry;
  json_array_foreach (ports, i, entry) {
    const char *name;
    uint8_t proto;
    parse_port_entry(entry, out, &port_cap, &name, &proto);
    if (name == NULL)
      continue;
    out->has_named = true;
    for (size_t t = 0; t < targets->n; t++) {
      int number = pod_named_port(targets->pods[t], name, proto);
      if (number)
        PUSH(out->named, out->n_named, named_cap,
             ((struct netpol_named){netpol_pod_ipv4(targets->pods[t]), proto, (uint16_t)number,
                                    (uint16_t)number}));
    }
  }
  out->n_ports = merge_ports(out->ports, out->n_ports);
  out->n_named = merge_named(out->named, out->n_named);
  free(peer_pods.pods);
}

static int
u32_cmp(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

static void
policy_types(const json_t *spec, bool types[NP_DIRS])
{
  const json_t *listed = json_object_get(spec, "policyTypes");
  types[NP_INGRESS] = types[NP_EGRESS] = false;
  if (json_array_size(listed) == 0) {
    types[NP_INGRESS] = true;
    types[NP_EGRESS] = json_array_size(json_object_get(spec, "egress")) > 0;
    return;
  }
  size_t i;
  json_t *t;
  json_array_foreach (listed, i, t) {
    const char *s = json_string_value(t);
    if (s && strcmp(s, "Ingress") == 0)
      types[NP_INGRESS] = true;
    else if (s && strcmp(s, "Egress") == 0)
      types[NP_EGRESS] = true;
  }
}

void
netpol_policy_build(const char *key, const json_t *policy, const struct netpol_world *w,
                    struct netpol_policy *out)
{
  memset(out, 0, sizeof *out);
  out->key = xstrdup(key);
  if (policy == NULL)
    return;
  const char *ns = meta_namespace(policy);
  const json_t *spec = json_object_get(policy, "spec");
  if (ns == NULL)
    return;
  policy_types(spec, out->types);

  label_selector *sel = selector_of(json_object_get(spec, "podSelector"), key);
  struct pod_list selected = {0};
  size_t cap = 0;
  for (size_t i = 0; i < w->n_pods; i++) {
    const json_t *pod = w->pods[i];
    const char *pod_ns = meta_namespace(pod);
    uint32_t ip = netpol_pod_ipv4(pod);
    if (ip == 0 || pod_ns == NULL || strcmp(pod_ns, ns) != 0 ||
        !netpol_pod_is_local(pod, w->node_name) || !label_selector_matches(sel, meta_labels(pod)))
      continue;
    PUSH(out->selected, out->n_selected, cap, ip);
    PUSH(selected.pods, selected.n, selected.cap, pod);
  }
  label_selector_free(sel);
  if (out->n_selected)
    qsort(out->selected, out->n_selected, sizeof *out->selected, u32_cmp);

  static const char *const field[NP_DIRS] = {"ingress", "egress"};
  for (int d = 0; d < NP_DIRS; d++) {
    if (!out->types[d])
      continue;
    const json_t *rules = json_object_get(spec, field[d]);
    out->n_rules[d] = json_array_size(rules);
    out->rules[d] = xcalloc(out->n_rules[d] + 1, sizeof *out->rules[d]);
    for (size_t r = 0; r < out->n_rules[d]; r++)
      build_rule(key, ns, json_array_get(rules, r), d, &selected, w, &out->rules[d][r]);
  }
  free(selected.pods);
}

void
netpol_policy_clear(struct netpol_policy *p)
{
  for (int d = 0; d < NP_DIRS; d++) {
    for (size_t r = 0; r < p->n_rules[d]; r++) {
      free(p->rules[d][r].peers);
      free(p->rules[d][r].ports);
      free(p->rules[d][r].named);
    }
    free(p->rules[d]);
  }
  free(p->selected);
  free(p->key);
  memset(p, 0, sizeof *p);
}

bool
netpol_policy_crosses_namespaces(const json_t *policy)
{
  const json_t *spec = json_object_get(policy, "spec");
  static const char *const field[NP_DIRS] = {"ingress", "egress"};
  static const char *const peer_field[NP_DIRS] = {"from", "to"};
  for (int d = 0; d < NP_DIRS; d++) {
    size_t i, j;
    json_t *rule, *peer, *port;
    json_array_foreach (json_object_get(spec, field[d]), i, rule) {
      const json_t *peers = json_object_get(rule, peer_field[d]);
      json_array_foreach (peers, j, peer) {
        if (json_object_get(peer, "namespaceSelector"))
          return true;
      }
      if (d == NP_EGRESS && json_array_size(peers) == 0)
        json_array_foreach (json_object_get(rule, "ports"), j, port) {
          if (json_is_string(json_object_get(port, "port")))
            return true;
        }
    }
  }
  return false;
}
