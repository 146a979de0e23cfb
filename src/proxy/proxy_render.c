/* proxy_render.c — one Service → its nftables fragment, and the table's base ruleset.
 * Entry points (ClusterIP, external/LoadBalancer IPs, node ports) become elements of
 * verdict maps that jump to chains shared by all Services with the same endpoint count
 * and traffic path; the endpoints themselves are elements of the dnat maps. See
 * proxy_render.h for why. */
#include "proxy/proxy_render.h"

#include "lib/mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const proxy_map_names[PM_COUNT] = {
    [PM_SERVICE_IPS] = "service-ips",
    [PM_SERVICE_NODEPORTS] = "service-nodeports",
    [PM_CLUSTER_ENDPOINTS] = "cluster-endpoints",
    [PM_NODEPORT_ENDPOINTS] = "nodeport-endpoints",
    [PM_NOEP_SERVICES] = "no-endpoint-services",
    [PM_NOEP_NODEPORTS] = "no-endpoint-nodeports",
    [PM_CLUSTER_IPS] = "cluster-ips",
    [PM_HAIRPIN] = "hairpin",
};

/* How traffic reached the Service: decides masquerade and which dnat map is keyed. */
enum entry_path {
  PATH_CLUSTER,  /* ClusterIP from inside: no mark (outside-CIDR sources are marked earlier) */
  PATH_EXTERNAL, /* external/LB IP, policy Cluster: always masquerade */
  PATH_LOCAL,    /* external/LB IP, policy Local: masquerade only node-originated traffic */
  PATH_NP_EXTERNAL,
  PATH_NP_LOCAL,
};

#define REJECT_VERDICT "goto reject-chain"
#define DROP_VERDICT "drop"

void
proxy_fragment_init(struct proxy_fragment *f)
{
  for (int m = 0; m < PM_COUNT; m++)
    f->elems[m] = hashmap_new();
  f->chains = hashmap_new();
  f->sets = hashmap_new();
  f->shared_chains = hashmap_new();
  f->entries = hashmap_new();
}

void
proxy_fragment_clear(struct proxy_fragment *f)
{
  for (int m = 0; m < PM_COUNT; m++)
    hashmap_free(f->elems[m], free);
  hashmap_free(f->chains, free);
  hashmap_free(f->sets, free);
  hashmap_free(f->shared_chains, free);
  hashmap_free(f->entries, free);
  memset(f, 0, sizeof *f);
}

static void
put(hashmap *m, const char *key, char *value)
{
  free(hashmap_put(m, key, value));
}

/* ---------- shared chains ---------- */

static const char *
path_prefix(enum entry_path path)
{
  switch (path) {
  case PATH_CLUSTER:
    return "dnat";
  case PATH_EXTERNAL:
    return "ext";
  case PATH_LOCAL:
    return "local";
  case PATH_NP_EXTERNAL:
    return "np-ext";
  case PATH_NP_LOCAL:
    return "np-local";
  }
  return "dnat";
}

/* The shared chain for path and n endpoints (its name into name), recorded in f. */
static void
use_shared_chain(struct proxy_fragment *f, enum entry_path path, size_t n, char *name,
                 size_t name_len)
{
  snprintf(name, name_len, "%s-%zu", path_prefix(path), n);
  if (hashmap_get(f->shared_chains, name))
    return;
  bool nodeport = path == PATH_NP_EXTERNAL || path == PATH_NP_LOCAL;
  const char *mark = "";
  if (path == PATH_EXTERNAL || path == PATH_NP_EXTERNAL)
    mark = "jump mark-for-masquerade\n";
  else if (path == PATH_LOCAL || path == PATH_NP_LOCAL)
    mark = "fib saddr type local jump mark-for-masquerade\n";
  put(f->shared_chains, name,
      xasprintf("%sdnat ip to %smeta l4proto . th dport . numgen random mod %zu map @%s\n", mark,
                nodeport ? "" : "ip daddr . ", n,
                proxy_map_names[nodeport ? PM_NODEPORT_ENDPOINTS : PM_CLUSTER_ENDPOINTS]));
}

/* ---------- session affinity (upstream's per-endpoint chains and sets) ---------- */

/* svc-<port>: sticky sources first, then a uniform pick: endpoint i is taken with
 * probability 1/(n-i) among those left, which is 1/n overall. */
static void
render_affinity_chains(const struct proxy_service_port *p, const size_t *idx, size_t n,
                       struct proxy_fragment *f)
{
  buf svc;
  buf_init(&svc);
  for (size_t i = 0; i < n; i++) {
    const struct proxy_endpoint *e = &p->endpoints[idx[i]];
    buf_printf(&svc, "ip saddr @aff%d-%s__%s/%d goto ep-%s__%s/%d\n", p->affinity_timeout, p->name,
               e->ip, e->port, p->name, e->ip, e->port);
  }
  for (size_t i = 0; i < n; i++) {
    const struct proxy_endpoint *e = &p->endpoints[idx[i]];
    if (i + 1 < n)
      buf_printf(&svc, "numgen random mod %zu == 0 ", n - i);
    buf_printf(&svc, "goto ep-%s__%s/%d\n", p->name, e->ip, e->port);

    char *ep_chain = xasprintf("ep-%s__%s/%d", p->name, e->ip, e->port);
    char *set = xasprintf("aff%d-%s__%s/%d", p->affinity_timeout, p->name, e->ip, e->port);
    put(f->chains, ep_chain,
        xasprintf("update @%s { ip saddr }\nmeta l4proto %s dnat ip to %s:%d\n", set, p->protocol,
                  e->ip, e->port));
    put(f->sets, set, xasprintf("%d", p->affinity_timeout));
    free(ep_chain);
    free(set);
  }
  char *name = xasprintf("svc-%s", p->name);
  put(f->chains, name, buf_steal(&svc, NULL));
  free(name);
  name = xasprintf("ext-%s", p->name);
  put(f->chains, name, xasprintf("jump mark-for-masquerade\ngoto svc-%s\n", p->name));
  free(name);
}

/* ---------- entry points ---------- */

/* One way into the Service port: entry is its map key ("ip . proto . port" or
 * "proto . port"), idx/n the endpoints it balances over (n == 0 and any == false:
 * reject; n == 0 and any: drop, as upstream does for Local policies without local
 * endpoints). sticky: the port's affinity chains exist and this path uses them. */
static void
render_entry(const struct proxy_service_port *p, const char *entry, enum entry_path path,
             const size_t *idx, size_t n, bool any, bool sticky, struct proxy_fragment *f)
{
  bool nodeport = path == PATH_NP_EXTERNAL || path == PATH_NP_LOCAL;
  enum proxy_map verdicts = nodeport ? PM_SERVICE_NODEPORTS : PM_SERVICE_IPS;
  if (n == 0) {
    put(f->elems[nodeport ? PM_NOEP_NODEPORTS : PM_NOEP_SERVICES], entry,
        xstrdup(any ? DROP_VERDICT : REJECT_VERDICT));
    return;
  }
  if (sticky && (path == PATH_CLUSTER || path == PATH_EXTERNAL || path == PATH_NP_EXTERNAL)) {
    put(f->elems[verdicts], entry,
        xasprintf("goto %s-%s", path == PATH_CLUSTER ? "svc" : "ext", p->name));
    return;
  }
  char chain[64];
  use_shared_chain(f, path, n, chain, sizeof chain);
  put(f->elems[verdicts], entry, xasprintf("goto %s", chain));
  enum proxy_map eps = nodeport ? PM_NODEPORT_ENDPOINTS : PM_CLUSTER_ENDPOINTS;
  for (size_t i = 0; i < n; i++) {
    const struct proxy_endpoint *e = &p->endpoints[idx[i]];
    char *key = xasprintf("%s . %zu", entry, i);
    put(f->elems[eps], key, xasprintf("%s . %d", e->ip, e->port));
    free(key);
  }
}

static bool
claim_entry(proxy_claim_fn claim, void *ctx, const char *svc_key, const char *entry,
            struct proxy_fragment *f)
{
  if (claim && !claim(ctx, svc_key, entry))
    return false;
  put(f->entries, entry, xstrdup(""));
  return true;
}

static void
render_port(const char *svc_key, const struct proxy_service_port *p, proxy_claim_fn claim,
            void *claim_ctx, struct proxy_fragment *f)
{
  size_t *cluster_idx = xcalloc(p->n_endpoints + 1, sizeof *cluster_idx);
  size_t *external_idx = xcalloc(p->n_endpoints + 1, sizeof *external_idx);
  bool any = proxy_pick_endpoints(p, false, cluster_idx) > 0;
  size_t n_cluster = proxy_pick_endpoints(p, p->internal_local, cluster_idx);
  size_t n_external = proxy_pick_endpoints(p, p->external_local, external_idx);
  char entry[96];

  put(f->elems[PM_CLUSTER_IPS], p->cluster_ip, xstrdup(""));
  /* Affinity needs one endpoint list for every path: not combined with internal Local. */
  bool sticky = p->affinity_timeout > 0 && n_cluster > 0 && !p->internal_local;
  if (sticky)
    render_affinity_chains(p, cluster_idx, n_cluster, f);

  snprintf(entry, sizeof entry, "%s . %s . %d", p->cluster_ip, p->protocol, p->port);
  if (claim_entry(claim, claim_ctx, svc_key, entry, f))
    render_entry(p, entry, PATH_CLUSTER, cluster_idx, n_cluster, any, sticky, f);

  /* Local external traffic without affinity chains uses its own endpoint list. */
  const size_t *ext_idx = p->external_local ? external_idx : cluster_idx;
  size_t n_ext = p->external_local ? n_external : n_cluster;
  if (!p->external_local && p->internal_local) { /* external traffic is never node-local */
    n_ext = proxy_pick_endpoints(p, false, external_idx);
    ext_idx = external_idx;
  }
  for (size_t i = 0; i < p->n_external_ips; i++) {
    snprintf(entry, sizeof entry, "%s . %s . %d", p->external_ips[i], p->protocol, p->port);
    if (claim_entry(claim, claim_ctx, svc_key, entry, f))
      render_entry(p, entry, p->external_local ? PATH_LOCAL : PATH_EXTERNAL, ext_idx, n_ext, any,
                   sticky, f);
  }
  if (p->node_port > 0) {
    snprintf(entry, sizeof entry, "%s . %d", p->protocol, p->node_port);
    if (claim_entry(claim, claim_ctx, svc_key, entry, f))
      render_entry(p, entry, p->external_local ? PATH_NP_LOCAL : PATH_NP_EXTERNAL, ext_idx, n_ext,
                   any, sticky, f);
  }
  for (size_t i = 0; i < p->n_endpoints; i++) {
    const struct proxy_endpoint *e = &p->endpoints[i];
    if (!e->local)
      continue;
    snprintf(entry, sizeof entry, "%s . %s", e->ip, e->ip);
    put(f->elems[PM_HAIRPIN], entry, xstrdup(""));
  }
  free(cluster_idx);
  free(external_idx);
}

void
proxy_render_service(const struct proxy_service *svc, const struct proxy_render_config *cfg,
                     proxy_claim_fn claim, void *claim_ctx, struct proxy_fragment *f)
{
  (void)cfg;
  for (size_t i = 0; i < svc->n_ports; i++)
    render_port(svc->key, &svc->ports[i], claim, claim_ctx, f);
}

/* ---------- the base ruleset ---------- */

void
proxy_render_base(const struct proxy_render_config *cfg, buf *out)
{
  const char *t = cfg->table;
  unsigned mark = cfg->masquerade_mark;
  buf_printf(
      out,
      "add table ip %s\ndelete table ip %s\nadd table ip %s { comment \"k8c service proxy\" ; }\n",
      t, t, t);
  static const char *const verdict_maps[][2] = {
      {"service-ips", "ipv4_addr . inet_proto . inet_service"},
      {"no-endpoint-services", "ipv4_addr . inet_proto . inet_service"},
      {"service-nodeports", "inet_proto . inet_service"},
      {"no-endpoint-nodeports", "inet_proto . inet_service"},
  };
  for (size_t i = 0; i < sizeof verdict_maps / sizeof verdict_maps[0]; i++)
    buf_printf(out, "add map ip %s %s { type %s : verdict ; }\n", t, verdict_maps[i][0],
               verdict_maps[i][1]);
  buf_printf(out,
             "add map ip %s cluster-endpoints { typeof ip daddr . meta l4proto . th dport . "
             "numgen random mod 1 : ip daddr . tcp dport ; }\n"
             "add map ip %s nodeport-endpoints { typeof meta l4proto . th dport . numgen random "
             "mod 1 : ip daddr . tcp dport ; }\n"
             "add set ip %s cluster-ips { type ipv4_addr ; }\n"
             "add set ip %s nodeport-ips { type ipv4_addr ; }\n"
             "add set ip %s hairpin { type ipv4_addr . ipv4_addr ; }\n",
             t, t, t, t, t);
  for (const char *const *ip = cfg->node_ips; ip && *ip; ip++)
    buf_printf(out, "add element ip %s nodeport-ips { %s }\n", t, *ip);

  buf_printf(out, "add chain ip %s mark-for-masquerade\n", t);
  buf_printf(out, "add rule ip %s mark-for-masquerade meta mark set meta mark | 0x%x\n", t, mark);
  buf_printf(out, "add chain ip %s masquerading\n", t);
  buf_printf(out,
             "add rule ip %s masquerading ct status dnat ip saddr . ip daddr @hairpin "
             "masquerade fully-random\n"
             "add rule ip %s masquerading meta mark & 0x%x == 0 return\n"
             "add rule ip %s masquerading meta mark set meta mark ^ 0x%x\n"
             "add rule ip %s masquerading masquerade fully-random\n",
             t, t, mark, t, mark, t);
  buf_printf(out, "add chain ip %s services\n", t);
  if (cfg->cluster_cidr && *cfg->cluster_cidr)
    buf_printf(out,
               "add rule ip %s services ip daddr @cluster-ips ip saddr != %s jump "
               "mark-for-masquerade\n",
               t, cfg->cluster_cidr);
  buf_printf(out,
             "add rule ip %s services ip daddr . meta l4proto . th dport vmap @service-ips\n"
             "add rule ip %s services ip daddr @nodeport-ips meta l4proto . th dport vmap "
             "@service-nodeports\n",
             t, t);
  /* TCP gets a reset (the client fails at once); everything else ICMP port unreachable. */
  buf_printf(out,
             "add chain ip %s reject-chain\n"
             "add rule ip %s reject-chain meta l4proto tcp reject with tcp reset\n"
             "add rule ip %s reject-chain reject\n",
             t, t, t);
  buf_printf(out,
             "add chain ip %s service-endpoints-check\n"
             "add rule ip %s service-endpoints-check ip daddr . meta l4proto . th dport vmap "
             "@no-endpoint-services\n"
             "add chain ip %s nodeport-endpoints-check\n"
             "add rule ip %s nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th "
             "dport vmap @no-endpoint-nodeports\n",
             t, t, t, t);
  buf_printf(out, "add chain ip %s cluster-ips-check\n", t);
  buf_printf(out, "add rule ip %s cluster-ips-check ip daddr @cluster-ips reject\n", t);
  if (cfg->service_cidr && *cfg->service_cidr) {
    struct in_addr local;
    if (cfg->local_service_ip && inet_pton(AF_INET, cfg->local_service_ip, &local) == 1)
      buf_printf(out, "add rule ip %s cluster-ips-check ip daddr %s return\n", t,
                 cfg->local_service_ip);
    buf_printf(out, "add rule ip %s cluster-ips-check ip daddr %s drop\n", t, cfg->service_cidr);
  }

  static const char *const hooks[][3] = {
      {"nat-prerouting", "type nat hook prerouting priority dstnat", "jump services"},
      {"nat-output", "type nat hook output priority -100", "jump services"},
      {"nat-postrouting", "type nat hook postrouting priority srcnat", "jump masquerading"},
      {"filter-input", "type filter hook input priority -110",
       "ct state new jump nodeport-endpoints-check\nct state new jump service-endpoints-check"},
      {"filter-forward", "type filter hook forward priority -110",
       "ct state new jump service-endpoints-check\nct state new jump cluster-ips-check"},
      {"filter-output", "type filter hook output priority -110",
       "ct state new jump service-endpoints-check"},
      {"filter-output-post-dnat", "type filter hook output priority -90",
       "ct state new jump cluster-ips-check"},
  };
  for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
    buf_printf(out, "add chain ip %s %s { %s ; }\n", t, hooks[i][0], hooks[i][1]);
    const char *rules = hooks[i][2];
    while (*rules) {
      size_t len = strcspn(rules, "\n");
      buf_printf(out, "add rule ip %s %s %.*s\n", t, hooks[i][0], (int)len, rules);
      rules += len + (rules[len] == '\n');
    }
  }
}
