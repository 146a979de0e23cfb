/* cache.c — the incrementally maintained node snapshot (see cache.h). Every pod add or
 * remove adjusts its node's sums, the matching memos and anti-affinity groups in
 * O(memos + terms); nothing is ever recomputed from scratch except a memo's first fill. */
#include "scheduler/cache.h"

#include "apimachinery/quantity.h"
#include "lib/hashmap.h"
#include "lib/mem.h"

#include <string.h>

struct cache_pod {
  struct pod_info *pi;
  struct node_info *node;
  bool assumed;
};

/* ---------- helpers ---------- */

static int64_t
quantity_of(const json_t *list, const char *name, bool milli)
{
  const char *s = json_string_value(json_object_get(list, name));
  if (s == NULL)
    return 0;
  quantity q;
  k8c_err err = {0};
  if (quantity_parse(s, &q, &err) < 0) {
    k8c_err_clear(&err);
    return 0;
  }
  return milli ? quantity_milli_value(&q) : quantity_value(&q);
}

static void
free_taints(struct node_info *n)
{
  for (size_t i = 0; i < n->ntaints; i++) {
    free(n->taints[i].key);
    free(n->taints[i].value);
    free(n->taints[i].effect);
  }
  free(n->taints);
  n->taints = NULL;
  n->ntaints = 0;
}

static void
grow_counts(int **counts, size_t old_n, size_t new_n)
{
  *counts = xrealloc(*counts, new_n * sizeof **counts);
  memset(*counts + old_n, 0, (new_n - old_n) * sizeof **counts);
}

static size_t
alloc_slot(struct sched_cache *c)
{
  if (c->nfree_slots)
    return c->free_slots[--c->nfree_slots];
  size_t slot = c->slots++;
  if (slot >= c->count_cap) { /* every per-node count array doubles */
    size_t cap = c->count_cap * 2;
    hashmap_iter it = {0};
    const char *k;
    void *v;
    while (hashmap_next(c->memos, &it, &k, &v))
      grow_counts(&((struct pod_memo *)v)->counts, c->count_cap, cap);
    it = (hashmap_iter){0};
    while (hashmap_next(c->anti_groups, &it, &k, &v))
      grow_counts(&((struct anti_group *)v)->counts, c->count_cap, cap);
    c->count_cap = cap;
    c->node_generation++; /* topology indexes are per slot too */
    c->topo_generation++;
  }
  return slot;
}

static size_t
count_capacity(const struct sched_cache *c)
{
  return c->count_cap;
}

/* ---------- lifecycle ---------- */

struct sched_cache *
sched_cache_new(void)
{
  struct sched_cache *c = xcalloc(1, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  c->nodes_by_name = hashmap_new();
  c->pods = hashmap_new();
  c->memos = hashmap_new();
  c->anti_groups = hashmap_new();
  c->count_cap = 64;
  c->topologies = hashmap_new();
  return c;
}

static void
node_info_free(void *p)
{
  struct node_info *n = p;
  free_taints(n);
  free(n->pods); /* pod references are dropped with the cache_pod entries */
  json_decref(n->obj);
  free(n->name);
  free(n);
}

static void
cache_pod_free(void *p)
{
  struct cache_pod *cp = p;
  pod_info_unref(cp->pi);
  free(cp);
}

static void
memo_free(void *p)
{
  struct pod_memo *m = p;
  pod_info_unref(m->owner);
  free(m->counts);
  free(m);
}

static void
topo_free(void *p)
{
  struct topo_index *t = p;
  free(t->key);
  free(t->domain_of);
  free(t);
}

static void
anti_group_free(void *p)
{
  struct anti_group *g = p;
  pod_info_unref(g->owner);
  free(g->counts);
  free(g);
}

void
sched_cache_free(struct sched_cache *c)
{
  if (c == NULL)
    return;
  hashmap_free(c->pods, cache_pod_free);
  hashmap_free(c->nodes_by_name, node_info_free);
  hashmap_free(c->memos, memo_free);
  hashmap_free(c->anti_groups, anti_group_free);
  hashmap_free(c->topologies, topo_free);
  free(c->nodes);
  free(c->node_slots);
  free(c->free_slots);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void
sched_cache_lock(struct sched_cache *c)
{
  pthread_mutex_lock(&c->mu);
}

void
sched_cache_unlock(struct sched_cache *c)
{
  pthread_mutex_unlock(&c->mu);
}

/* ---------- nodes ---------- */

static bool
taints_equal(const struct node_info *n, const json_t *taints)
{
  if (json_array_size(taints) != n->ntaints)
    return false;
  for (size_t i = 0; i < n->ntaints; i++) {
    const json_t *t = json_array_get(taints, i);
    const char *k = json_string_value(json_object_get(t, "key"));
    const char *v = json_string_value(json_object_get(t, "value"));
    const char *e = json_string_value(json_object_get(t, "effect"));
    if (strcmp(n->taints[i].key, k ? k : "") || strcmp(n->taints[i].value, v ? v : "") ||
        strcmp(n->taints[i].effect, e ? e : ""))
      return false;
  }
  return true;
}

bool
sched_cache_upsert_node(struct sched_cache *c, json_t *node)
{
  const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
  if (name == NULL)
    return false;
  struct node_info *n = hashmap_get(c->nodes_by_name, name);
  bool changed = false;
  if (n == NULL) {
    n = xcalloc(1, sizeof *n);
    n->name = xstrdup(name);
    n->slot = alloc_slot(c);
    n->pos = -1;
    hashmap_put(c->nodes_by_name, name, n);
    changed = true;
  }
  if (n->pos < 0) {
    if (c->nnodes == c->cap_nodes) {
      c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 64;
      c->nodes = xrealloc(c->nodes, c->cap_nodes * sizeof *c->nodes);
      c->node_slots = xrealloc(c->node_slots, c->cap_nodes * sizeof *c->node_slots);
    }
    n->pos = (ssize_t)c->nnodes;
    c->node_slots[c->nnodes] = n->slot;
    c->nodes[c->nnodes++] = n;
    changed = true;
    c->topo_generation++;
  }
  const json_t *spec = json_object_get(node, "spec");
  const json_t *alloc = json_object_get(json_object_get(node, "status"), "allocatable");
  const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
  struct sched_resources a = {quantity_of(alloc, "cpu", true), quantity_of(alloc, "memory", false)};
  int64_t pods = quantity_of(alloc, "pods", false);
  bool unsched = json_is_true(json_object_get(spec, "unschedulable"));
  const json_t *taints = json_object_get(spec, "taints");
  if (!json_equal((json_t *)labels, (json_t *)n->labels)) {
    changed = true;
    c->topo_generation++;
  }
  if (!changed)
    changed = a.milli_cpu != n->allocatable.milli_cpu || a.memory != n->allocatable.memory ||
              pods != n->allowed_pods || unsched != n->unschedulable || !taints_equal(n, taints);
  n->allocatable = a;
  n->allowed_pods = pods;
  n->unschedulable = unsched;
  if (!taints_equal(n, taints)) {
    free_taints(n);
    size_t i;
    json_t *t;
    n->taints = xcalloc(json_array_size(taints) + 1, sizeof *n->taints);
    json_array_foreach (taints, i, t) {
      const char *k = json_string_value(json_object_get(t, "key"));
      const char *v = json_string_value(json_object_get(t, "value"));
      const char *e = json_string_value(json_object_get(t, "effect"));
      n->taints[n->ntaints].key = xstrdup(k ? k : "");
      n->taints[n->ntaints].value = xstrdup(v ? v : "");
      n->taints[n->ntaints].effect = xstrdup(e ? e : "");
      n->ntaints++;
    }
  }
  if (changed)
    c->node_generation++;
  json_t *old = n->obj;
  n->obj = json_incref(node);
  n->labels = labels;
  json_decref(old);
  c->generation++;
  return changed;
}

static void
node_leave_array(struct sched_cache *c, struct node_info *n)
{
  if (n->pos < 0)
    return;
  size_t pos = (size_t)n->pos;
  c->nodes[pos] = c->nodes[--c->nnodes];
  c->node_slots[pos] = c->nodes[pos]->slot;
  c->nodes[pos]->pos = (ssize_t)pos;
  n->pos = -1;
}

static void
node_release(struct sched_cache *c, struct node_info *n)
{
  hashmap_remove(c->nodes_by_name, n->name);
  c->free_slots = xrealloc(c->free_slots, (c->nfree_slots + 1) * sizeof *c->free_slots);
  c->free_slots[c->nfree_slots++] = n->slot;
  node_info_free(n);
}

void
sched_cache_remove_node(struct sched_cache *c, const char *name)
{
  struct node_info *n = hashmap_get(c->nodes_by_name, name);
  if (n == NULL)
    return;
  node_leave_array(c, n);
  json_decref(n->obj);
  n->obj = NULL;
  n->labels = NULL;
  if (n->npods == 0)
    node_release(c, n);
  c->generation++;
  c->node_generation++;
  c->topo_generation++;
}

const struct topo_index *
sched_cache_topology(struct sched_cache *c, const char *key)
{
  struct topo_index *t = hashmap_get(c->topologies, key);
  if (t == NULL) {
    t = xcalloc(1, sizeof *t);
    t->key = xstrdup(key);
    t->built_for = -1;
    hashmap_put(c->topologies, key, t);
  }
  if (t->built_for == c->topo_generation)
    return t;
  free(t->domain_of);
  t->domain_of = xmalloc(c->count_cap * sizeof *t->domain_of);
  for (size_t i = 0; i < c->count_cap; i++)
    t->domain_of[i] = -1;
  hashmap *ids = hashmap_new();
  t->ndomains = 0;
  for (size_t i = 0; i < c->nnodes; i++) {
    const char *value = json_string_value(json_object_get(c->nodes[i]->labels, key));
    if (value == NULL)
      continue;
    intptr_t id = (intptr_t)hashmap_get(ids, value);
    if (id == 0) {
      id = (intptr_t)++t->ndomains;
      hashmap_put(ids, value, (void *)id);
    }
    t->domain_of[c->nodes[i]->slot] = (int)id - 1;
  }
  hashmap_free(ids, NULL);
  t->built_for = c->topo_generation;
  return t;
}

struct node_info *
sched_cache_node(struct sched_cache *c, const char *name)
{
  return hashmap_get(c->nodes_by_name, name);
}

bool
node_info_port_conflicts(const struct node_info *n, const struct host_port *p)
{
  for (size_t i = 0; i < n->npods; i++) {
    const struct pod_info *q = n->pods[i];
    for (size_t j = 0; j < q->nports; j++) {
      const struct host_port *u = &q->ports[j];
      if (u->port != p->port || strcmp(u->protocol, p->protocol) != 0)
        continue;
      if (strcmp(u->ip, "0.0.0.0") == 0 || strcmp(p->ip, "0.0.0.0") == 0 ||
          strcmp(u->ip, p->ip) == 0)
        return true;
    }
  }
  return false;
}

/* ---------- pods ---------- */

static bool
scores_affinity(const struct pod_info *pi)
{
  return pi->naffinity || pi->npref_affinity || pi->npref_anti_affinity;
}

static char *
anti_group_key(const struct pod_term *t)
{
  return xasprintf("%s@%s", t->signature, t->topology_key);
}

/* Applies pi on n with sign +1 (add) or -1 (remove) to sums, memos and groups. */
static void
account(struct sched_cache *c, struct node_info *n, struct pod_info *pi, int sign)
{
  n->requested.milli_cpu += sign * pi->req.milli_cpu;
  n->requested.memory += sign * pi->req.memory;
  n->nonzero_requested.milli_cpu += sign * pi->nonzero.milli_cpu;
  n->nonzero_requested.memory += sign * pi->nonzero.memory;
  if (scores_affinity(pi)) {
    n->pods_scoring_affinity += (size_t)(long)sign;
    c->pods_scoring_affinity += (size_t)(long)sign;
  }
  hashmap_iter it = {0};
  const char *k;
  void *v;
  if (!pi->terminating)
    while (hashmap_next(c->memos, &it, &k, &v)) {
      struct pod_memo *m = v;
      if (pod_term_matches(m->term, pi->ns, pi->labels))
        m->counts[n->slot] += sign;
    }
  for (size_t i = 0; i < pi->nanti_affinity; i++) {
    cleanup_free char *gk = anti_group_key(&pi->anti_affinity[i]);
    struct anti_group *g = hashmap_get(c->anti_groups, gk);
    if (g == NULL && sign > 0) {
      g = xcalloc(1, sizeof *g);
      g->owner = pod_info_ref(pi);
      g->term = &pi->anti_affinity[i];
      g->counts = xcalloc(count_capacity(c), sizeof *g->counts);
      hashmap_put(c->anti_groups, gk, g);
    }
    if (g == NULL)
      continue;
    g->counts[n->slot] += sign;
    g->total += sign;
    if (g->total == 0)
      anti_group_free(hashmap_remove(c->anti_groups, gk));
  }
}

static void
node_add_pod(struct sched_cache *c, struct node_info *n, struct pod_info *pi)
{
  if (n->npods == n->cap_pods) {
    n->cap_pods = n->cap_pods ? n->cap_pods * 2 : 8;
    n->pods = xrealloc(n->pods, n->cap_pods * sizeof *n->pods);
  }
  n->pods[n->npods++] = pi;
  account(c, n, pi, +1);
}

static void
node_remove_pod(struct sched_cache *c, struct node_info *n, struct pod_info *pi)
{
  for (size_t i = 0; i < n->npods; i++)
    if (n->pods[i] == pi) {
      n->pods[i] = n->pods[--n->npods];
      break;
    }
  account(c, n, pi, -1);
  if (n->npods == 0 && n->obj == NULL)
    node_release(c, n);
}

/* Members of an object other than skip, counted. */
static size_t
members_except(const json_t *o, const char *skip)
{
  return json_object_size(o) - (json_object_get(o, skip) != NULL);
}

/* Whether b's spec equals a's but for spec.nodeName. */
static bool
same_spec_but_node(const json_t *a, const json_t *b)
{
  if (a == b)
    return true;
  if (!json_is_object(a) || !json_is_object(b) ||
      members_except(a, "nodeName") != members_except(b, "nodeName"))
    return false;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)a, k, v) {
    if (strcmp(k, "nodeName") == 0)
      continue;
    json_t *w = json_object_get(b, k);
    if (w == NULL || !json_equal(v, w))
      return false;
  }
  return true;
}

/* Whether a newer version of a pod counts exactly as the older one in the cache (the
 * API's confirmation of an assumed pod: only spec.nodeName and status differ). Then it
 * replaces the older in place, without undoing and redoing its accounting. */
static bool
same_accounting(const struct pod_info *a, const struct pod_info *b)
{
  bool same_uid =
      (a->uid == NULL && b->uid == NULL) || (a->uid && b->uid && strcmp(a->uid, b->uid) == 0);
  return a->terminating == b->terminating && strcmp(a->key, b->key) == 0 && same_uid &&
         (a->labels == b->labels ||
          (a->labels && b->labels && json_equal((json_t *)a->labels, (json_t *)b->labels))) &&
         same_spec_but_node(json_object_get(a->obj, "spec"), json_object_get(b->obj, "spec"));
}

void
sched_cache_add_pod(struct sched_cache *c, struct pod_info *pi, const char *node, bool assumed)
{
  struct cache_pod *cp = hashmap_get(c->pods, pi->key);
  if (cp && cp->pi != pi && cp->node->obj && strcmp(cp->node->name, node) == 0 &&
      same_accounting(cp->pi, pi)) {
    struct node_info *n = cp->node;
    for (size_t i = 0; i < n->npods; i++)
      if (n->pods[i] == cp->pi)
        n->pods[i] = pi;
    pod_info_unref(cp->pi);
    cp->pi = pod_info_ref(pi);
    cp->assumed = assumed;
    c->generation++;
    return;
  }
  if (cp) {
    node_remove_pod(c, cp->node, cp->pi);
    pod_info_unref(cp->pi);
  } else {
    cp = xcalloc(1, sizeof *cp);
    hashmap_put(c->pods, pi->key, cp);
  }
  struct node_info *n = hashmap_get(c->nodes_by_name, node);
  if (n == NULL) { /* bound to a node we have not seen (yet): keep a placeholder */
    n = xcalloc(1, sizeof *n);
    n->name = xstrdup(node);
    n->slot = alloc_slot(c);
    n->pos = -1;
    hashmap_put(c->nodes_by_name, node, n);
  }
  cp->pi = pod_info_ref(pi);
  cp->node = n;
  cp->assumed = assumed;
  node_add_pod(c, n, pi);
  c->generation++;
}

void
sched_cache_remove_pod(struct sched_cache *c, const char *key)
{
  struct cache_pod *cp = hashmap_remove(c->pods, key);
  if (cp == NULL)
    return;
  node_remove_pod(c, cp->node, cp->pi);
  cache_pod_free(cp);
  c->generation++;
}

bool
sched_cache_pod_assumed(struct sched_cache *c, const char *key)
{
  struct cache_pod *cp = hashmap_get(c->pods, key);
  return cp && cp->assumed;
}

bool
sched_cache_has_pod(struct sched_cache *c, const char *key)
{
  return hashmap_get(c->pods, key) != NULL;
}

struct pod_memo *
sched_cache_memo(struct sched_cache *c, struct pod_info *owner, const struct pod_term *term)
{
  struct pod_memo *m = hashmap_get(c->memos, term->signature);
  if (m)
    return m;
  m = xcalloc(1, sizeof *m);
  m->owner = pod_info_ref(owner);
  m->term = term;
  m->counts = xcalloc(count_capacity(c), sizeof *m->counts);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  while (hashmap_next(c->pods, &it, &k, &v)) {
    struct cache_pod *cp = v;
    if (!cp->pi->terminating && pod_term_matches(term, cp->pi->ns, cp->pi->labels))
      m->counts[cp->node->slot]++;
  }
  hashmap_put(c->memos, term->signature, m);
  return m;
}
