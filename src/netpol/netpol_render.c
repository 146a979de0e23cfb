/* netpol_render.c — a policy model → its nftables fragment, and the table's base
 * ruleset. Every rule of a policy chain is one set lookup per dimension (selected pod,
 * peer, port), so only set elements change when pods come, go or relabel; chain bodies
 * change only when the policy itself does. See netpol_render.h for the layout. */
#include "netpol/netpol_render.h"

#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SET_IP "type ipv4_addr ; flags interval ;"
#define SET_PORTS "type inet_proto . inet_service ; flags interval ;"
#define SET_NAMED "type ipv4_addr . inet_proto . inet_service ; flags interval ;"
#define SET_SELECTED "type ipv4_addr ;"

void
netpol_fragment_init(struct netpol_fragment *f)
{
  f->sets = hashmap_new();
  f->elems = hashmap_new();
  f->chains = hashmap_new();
}

static void
elements_free(void *m)
{
  hashmap_free(m, NULL);
}

void
netpol_fragment_clear(struct netpol_fragment *f)
{
  hashmap_free(f->sets, free);
  hashmap_free(f->elems, elements_free);
  hashmap_free(f->chains, free);
  memset(f, 0, sizeof *f);
}

bool
netpol_set_is_shared(const char *name)
{
  return strcmp(name, NP_SET_INGRESS_ISOLATED) == 0 || strcmp(name, NP_SET_EGRESS_ISOLATED) == 0 ||
         strcmp(name, NP_SET_SELF) == 0;
}

char *
netpol_policy_chain(const char *prefix, enum netpol_dir d)
{
  return xasprintf("%s-%s", prefix, d == NP_INGRESS ? "ingress" : "egress");
}

/* ---------- elements ---------- */

static const char *
proto_name(uint8_t proto)
{
  switch (proto) {
  case NP_PROTO_UDP:
    return "udp";
  case NP_PROTO_SCTP:
    return "sctp";
  default:
    return "tcp";
  }
}

/* The element map of set name in f, created empty (the set exists even if empty). */
static hashmap *
elements_of(struct netpol_fragment *f, const char *name)
{
  hashmap *m = hashmap_get(f->elems, name);
  if (m == NULL) {
    m = hashmap_new();
    hashmap_put(f->elems, name, m);
  }
  return m;
}

static void
put_element(hashmap *m, const char *text)
{
  hashmap_put(m, text, (void *)1);
}

static void
declare_set(struct netpol_fragment *f, const char *name, const char *decl)
{
  free(hashmap_put(f->sets, name, xstrdup(decl)));
  (void)elements_of(f, name);
}

static void
ip_range_text(uint32_t lo, uint32_t hi, char *out, size_t len)
{
  char a[16], b[16];
  netpol_ip_string(lo, a);
  if (lo == hi) {
    snprintf(out, len, "%s", a);
    return;
  }
  netpol_ip_string(hi, b);
  snprintf(out, len, "%s-%s", a, b);
}

static void
port_range_text(uint8_t proto, uint16_t lo, uint16_t hi, char *out, size_t len)
{
  if (lo == hi)
    snprintf(out, len, "%s . %u", proto_name(proto), lo);
  else
    snprintf(out, len, "%s . %u-%u", proto_name(proto), lo, hi);
}

/* ---------- policies ---------- */

static void
render_rule(const struct netpol_rule *r, enum netpol_dir d, const char *prefix, size_t index,
            struct netpol_fragment *f, buf *rules)
{
  char name[256], text[96];
  const char tag = d == NP_INGRESS ? 'i' : 'e';
  const char *self_field = d == NP_INGRESS ? "ip daddr" : "ip saddr";
  const char *peer_field = d == NP_INGRESS ? "ip saddr" : "ip daddr";
  char peer_match[300] = "";
  if (!r->any_peer) {
    snprintf(name, sizeof name, "%s-%c%zu-peers", prefix, tag, index);
    declare_set(f, name, SET_IP);
    hashmap *m = elements_of(f, name);
    for (size_t i = 0; i < r->n_peers; i++) {
      ip_range_text(r->peers[i].lo, r->peers[i].hi, text, sizeof text);
      put_element(m, text);
    }
    snprintf(peer_match, sizeof peer_match, "%s @%s ", peer_field, name);
  }
  if (r->any_port) {
    buf_printf(rules, "%s @%s-sel %saccept\n", self_field, prefix, peer_match);
    return;
  }
  if (r->n_ports) {
    snprintf(name, sizeof name, "%s-%c%zu-ports", prefix, tag, index);
    declare_set(f, name, SET_PORTS);
    hashmap *m = elements_of(f, name);
    for (size_t i = 0; i < r->n_ports; i++) {
      port_range_text(r->ports[i].proto, r->ports[i].lo, r->ports[i].hi, text, sizeof text);
      put_element(m, text);
    }
    buf_printf(rules, "%s @%s-sel %smeta l4proto . th dport @%s accept\n", self_field, prefix,
               peer_match, name);
  }
  if (r->has_named) {
    snprintf(name, sizeof name, "%s-%c%zu-named", prefix, tag, index);
    declare_set(f, name, SET_NAMED);
    hashmap *m = elements_of(f, name);
    for (size_t i = 0; i < r->n_named; i++) {
      char ip[16], ports[48];
      netpol_ip_string(r->named[i].ip, ip);
      port_range_text(r->named[i].proto, r->named[i].lo, r->named[i].hi, ports, sizeof ports);
      snprintf(text, sizeof text, "%s . %s", ip, ports);
      put_element(m, text);
    }
    /* The named set already pins the destination (ingress: the selected pod; egress: the
     * peer pod); egress still needs its own source to be selected. */
    if (d == NP_INGRESS)
      buf_printf(rules, "%sip daddr . meta l4proto . th dport @%s accept\n", peer_match, name);
    else
      buf_printf(rules, "ip saddr @%s-sel ip daddr . meta l4proto . th dport @%s accept\n", prefix,
                 name);
  }
}

void
netpol_render_policy(const struct netpol_policy *p, const char *prefix, struct netpol_fragment *f)
{
  if (!p->types[NP_INGRESS] && !p->types[NP_EGRESS])
    return;
  char name[256], ip[16];
  snprintf(name, sizeof name, "%s-sel", prefix);
  declare_set(f, name, SET_SELECTED);
  hashmap *sel = elements_of(f, name);
  for (size_t i = 0; i < p->n_selected; i++) {
    netpol_ip_string(p->selected[i], ip);
    put_element(sel, ip);
  }
  static const char *const isolated[NP_DIRS] = {NP_SET_INGRESS_ISOLATED, NP_SET_EGRESS_ISOLATED};
  for (int d = 0; d < NP_DIRS; d++) {
    if (!p->types[d])
      continue;
    hashmap *iso = elements_of(f, isolated[d]);
    for (size_t i = 0; i < p->n_selected; i++) {
      netpol_ip_string(p->selected[i], ip);
      put_element(iso, ip);
    }
    buf rules;
    buf_init(&rules);
    for (size_t r = 0; r < p->n_rules[d]; r++)
      render_rule(&p->rules[d][r], d, prefix, r, f, &rules);
    char *chain = netpol_policy_chain(prefix, d);
    free(hashmap_put(f->chains, chain, xstrdup(buf_cstr(&rules))));
    free(chain);
    buf_free(&rules);
  }
}

void
netpol_render_local(const uint32_t *ips, size_t n, struct netpol_fragment *f)
{
  hashmap *self = elements_of(f, NP_SET_SELF);
  for (size_t i = 0; i < n; i++) {
    char ip[16], text[40];
    netpol_ip_string(ips[i], ip);
    snprintf(text, sizeof text, "%s . %s", ip, ip);
    put_element(self, text);
  }
}

/* ---------- the base ruleset ---------- */

void
netpol_render_base(const char *t, buf *out)
{
  buf_printf(out, "add table ip %s\ndelete table ip %s\nadd table ip %s\n", t, t, t);
  buf_printf(out, "add set ip %s %s { type ipv4_addr ; }\n", t, NP_SET_INGRESS_ISOLATED);
  buf_printf(out, "add set ip %s %s { type ipv4_addr ; }\n", t, NP_SET_EGRESS_ISOLATED);
  buf_printf(out, "add set ip %s %s { type ipv4_addr . ipv4_addr ; }\n", t, NP_SET_SELF);
  buf_printf(out, "add chain ip %s %s\n", t, NP_CHAIN_INGRESS_POLICIES);
  buf_printf(out, "add chain ip %s %s\n", t, NP_CHAIN_EGRESS_POLICIES);

  buf_printf(out,
             "add chain ip %s egress-check { type filter hook forward priority filter - 1 ; "
             "policy accept ; }\n",
             t);
  buf_printf(out, "add rule ip %s egress-check ct state established,related accept\n", t);
  buf_printf(out, "add rule ip %s egress-check ip saddr != @%s accept\n", t,
             NP_SET_EGRESS_ISOLATED);
  buf_printf(out, "add rule ip %s egress-check ip saddr . ip daddr @%s accept\n", t, NP_SET_SELF);
  buf_printf(out, "add rule ip %s egress-check jump %s\n", t, NP_CHAIN_EGRESS_POLICIES);
  buf_printf(out, "add rule ip %s egress-check drop\n", t);

  buf_printf(out,
             "add chain ip %s ingress-check { type filter hook forward priority filter ; "
             "policy accept ; }\n",
             t);
  buf_printf(out, "add rule ip %s ingress-check ct state established,related accept\n", t);
  buf_printf(out, "add rule ip %s ingress-check ip daddr != @%s accept\n", t,
             NP_SET_INGRESS_ISOLATED);
  buf_printf(out, "add rule ip %s ingress-check ip saddr . ip daddr @%s accept\n", t, NP_SET_SELF);
  buf_printf(out, "add rule ip %s ingress-check fib saddr type local accept\n", t);
  buf_printf(out, "add rule ip %s ingress-check jump %s\n", t, NP_CHAIN_INGRESS_POLICIES);
  buf_printf(out, "add rule ip %s ingress-check drop\n", t);
}
