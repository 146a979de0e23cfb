/* podinfo.c — parsing a pod once into the scheduler's view of it (see podinfo.h).
 * Requests follow upstream: max(sum of containers + sidecars, largest init container
 * plus the sidecars started before it) + overhead. */
#include "scheduler/podinfo.h"

#include "apimachinery/quantity.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

/* ---------- resources ---------- */

static bool
quantity_field(const json_t *list, const char *name, bool milli, int64_t *out)
{
  const char *s = json_string_value(json_object_get(list, name));
  json_t *num = json_object_get(list, name);
  if (s == NULL && json_is_number(num)) {
    double v = json_number_value(num);
    *out = (int64_t)(milli ? v * 1000 : v);
    return true;
  }
  if (s == NULL)
    return false;
  quantity q;
  k8c_err err = {0};
  if (quantity_parse(s, &q, &err) < 0) {
    k8c_err_clear(&err);
    return false;
  }
  *out = milli ? quantity_milli_value(&q) : quantity_value(&q);
  return true;
}

/* A container's requests; nonzero fills in upstream's defaults for missing ones. */
static void
container_requests(const json_t *c, struct sched_resources *req, struct sched_resources *nonzero)
{
  const json_t *r = json_object_get(json_object_get(c, "resources"), "requests");
  req->milli_cpu = req->memory = 0;
  bool has_cpu = quantity_field(r, "cpu", true, &req->milli_cpu);
  bool has_mem = quantity_field(r, "memory", false, &req->memory);
  nonzero->milli_cpu = has_cpu ? req->milli_cpu : SCHED_DEFAULT_MILLI_CPU;
  nonzero->memory = has_mem ? req->memory : SCHED_DEFAULT_MEMORY;
}

static void
res_add(struct sched_resources *a, const struct sched_resources *b)
{
  a->milli_cpu += b->milli_cpu;
  a->memory += b->memory;
}

static void
res_max(struct sched_resources *a, const struct sched_resources *b)
{
  if (b->milli_cpu > a->milli_cpu)
    a->milli_cpu = b->milli_cpu;
  if (b->memory > a->memory)
    a->memory = b->memory;
}

static void
pod_requests(struct pod_info *pi, const json_t *spec)
{
  struct sched_resources sum = {0}, sum_nz = {0};
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, "containers"), i, c) {
    struct sched_resources r, nz;
    container_requests(c, &r, &nz);
    res_add(&sum, &r);
    res_add(&sum_nz, &nz);
  }
  struct sched_resources sidecars = {0}, sidecars_nz = {0}, init_max = {0}, init_max_nz = {0};
  json_array_foreach (json_object_get(spec, "initContainers"), i, c) {
    struct sched_resources r, nz;
    container_requests(c, &r, &nz);
    const char *policy = json_string_value(json_object_get(c, "restartPolicy"));
    if (policy && strcmp(policy, "Always") == 0) {
      res_add(&sum, &r);
      res_add(&sum_nz, &nz);
      res_add(&sidecars, &r);
      res_add(&sidecars_nz, &nz);
      res_max(&init_max, &sidecars);
      res_max(&init_max_nz, &sidecars_nz);
    } else {
      res_add(&r, &sidecars);
      res_add(&nz, &sidecars_nz);
      res_max(&init_max, &r);
      res_max(&init_max_nz, &nz);
    }
  }
  res_max(&sum, &init_max);
  res_max(&sum_nz, &init_max_nz);
  const json_t *overhead = json_object_get(spec, "overhead");
  struct sched_resources oh = {0};
  quantity_field(overhead, "cpu", true, &oh.milli_cpu);
  quantity_field(overhead, "memory", false, &oh.memory);
  res_add(&sum, &oh);
  res_add(&sum_nz, &oh);
  pi->req = sum;
  pi->nonzero = sum_nz;
}

/* ---------- ports, tolerations ---------- */

static void
pod_ports(struct pod_info *pi, const json_t *spec)
{
  size_t i, j;
  json_t *c, *p;
  json_array_foreach (json_object_get(spec, "containers"), i, c) {
    json_array_foreach (json_object_get(c, "ports"), j, p) {
      int port = (int)json_integer_value(json_object_get(p, "hostPort"));
      if (port <= 0)
        continue;
      pi->ports = xrealloc(pi->ports, (pi->nports + 1) * sizeof *pi->ports);
      struct host_port *hp = &pi->ports[pi->nports++];
      hp->port = port;
      const char *proto = json_string_value(json_object_get(p, "protocol"));
      const char *ip = json_string_value(json_object_get(p, "hostIP"));
      snprintf(hp->protocol, sizeof hp->protocol, "%s", proto && *proto ? proto : "TCP");
      snprintf(hp->ip, sizeof hp->ip, "%s", ip && *ip ? ip : "0.0.0.0");
    }
  }
}

static char *
str_or_empty(const json_t *o, const char *field)
{
  const char *s = json_string_value(json_object_get(o, field));
  return xstrdup(s ? s : "");
}

static void
pod_tolerations(struct pod_info *pi, const json_t *spec)
{
  const json_t *arr = json_object_get(spec, "tolerations");
  size_t n = json_array_size(arr), i;
  json_t *t;
  if (n == 0)
    return;
  pi->tolerations = xcalloc(n, sizeof *pi->tolerations);
  json_array_foreach (arr, i, t) {
    struct toleration *to = &pi->tolerations[pi->ntolerations++];
    to->key = str_or_empty(t, "key");
    to->value = str_or_empty(t, "value");
    to->effect = str_or_empty(t, "effect");
    const char *op = json_string_value(json_object_get(t, "operator"));
    to->exists = op && strcmp(op, "Exists") == 0;
  }
}

bool
toleration_tolerates(const struct toleration *t, const char *key, const char *value,
                     const char *effect)
{
  if (t->effect[0] && strcmp(t->effect, effect) != 0)
    return false;
  if (t->key[0] && strcmp(t->key, key) != 0)
    return false;
  if (t->exists)
    return true;
  if (!t->key[0])
    return false; /* an empty key is only valid with Exists */
  return strcmp(t->value, value ? value : "") == 0;
}

/* ---------- node selector terms ---------- */

static bool
parse_sel_op(const char *s, enum sel_op *op)
{
  static const struct {
    const char *name;
    enum sel_op op;
  } ops[] = {{"In", SEL_IN},         {"NotIn", SEL_NOT_IN},
             {"Exists", SEL_EXISTS}, {"DoesNotExist", SEL_DOES_NOT_EXIST},
             {"Gt", SEL_GT},         {"Lt", SEL_LT}};
  for (size_t i = 0; s && i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i].name, s) == 0) {
      *op = ops[i].op;
      return true;
    }
  return false;
}

static struct node_sel_req *
parse_sel_reqs(const json_t *arr, size_t *n)
{
  size_t count = json_array_size(arr), i, j;
  json_t *e, *v;
  *n = 0;
  if (count == 0)
    return NULL;
  struct node_sel_req *reqs = xcalloc(count, sizeof *reqs);
  json_array_foreach (arr, i, e) {
    struct node_sel_req *r = &reqs[*n];
    if (!parse_sel_op(json_string_value(json_object_get(e, "operator")), &r->op))
      r->op = SEL_IN; /* with no values: matches nothing, as an invalid term would */
    r->key = str_or_empty(e, "key");
    const json_t *vals = json_object_get(e, "values");
    r->values = xcalloc(json_array_size(vals) + 1, sizeof *r->values);
    json_array_foreach (vals, j, v) {
      if (json_is_string(v))
        r->values[r->nvalues++] = xstrdup(json_string_value(v));
    }
    (*n)++;
  }
  return reqs;
}

static void
parse_node_term(struct node_sel_term *t, const json_t *term)
{
  t->exprs = parse_sel_reqs(json_object_get(term, "matchExpressions"), &t->nexprs);
  t->fields = parse_sel_reqs(json_object_get(term, "matchFields"), &t->nfields);
}

static bool
req_matches_value(const struct node_sel_req *r, const char *value)
{
  switch (r->op) {
  case SEL_IN:
  case SEL_NOT_IN: {
    bool found = false;
    for (size_t i = 0; value && i < r->nvalues && !found; i++)
      found = strcmp(r->values[i], value) == 0;
    return r->op == SEL_IN ? found : !found;
  }
  case SEL_EXISTS:
    return value != NULL;
  case SEL_DOES_NOT_EXIST:
    return value == NULL;
  case SEL_GT:
  case SEL_LT: {
    if (value == NULL || r->nvalues != 1)
      return false;
    char *end1, *end2;
    long long have = strtoll(value, &end1, 10), want = strtoll(r->values[0], &end2, 10);
    if (*end1 || *end2 || !*value)
      return false;
    return r->op == SEL_GT ? have > want : have < want;
  }
  }
  return false;
}

bool
node_sel_term_matches(const struct node_sel_term *t, const json_t *node_labels,
                      const char *node_name)
{
  if (t->nexprs == 0 && t->nfields == 0)
    return false;
  for (size_t i = 0; i < t->nexprs; i++)
    if (!req_matches_value(&t->exprs[i],
                           json_string_value(json_object_get(node_labels, t->exprs[i].key))))
      return false;
  for (size_t i = 0; i < t->nfields; i++) {
    if (strcmp(t->fields[i].key, "metadata.name") != 0)
      return false;
    if (!req_matches_value(&t->fields[i], node_name))
      return false;
  }
  return true;
}

bool
pod_info_matches_node_selector(const struct pod_info *pi, const json_t *node_labels,
                               const char *node_name)
{
  if (pi->node_selector) {
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)pi->node_selector, k, v) {
      const char *have = json_string_value(json_object_get(node_labels, k));
      if (have == NULL || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
        return false;
    }
  }
  if (!pi->has_req_node_affinity)
    return true;
  for (size_t i = 0; i < pi->nreq_node_terms; i++)
    if (node_sel_term_matches(&pi->req_node_terms[i], node_labels, node_name))
      return true;
  return false;
}

/* ---------- pod terms ---------- */

static void
pod_term_init(struct pod_term *t, const json_t *sel_json, const json_t *namespaces,
              const json_t *ns_selector, const char *own_ns, const char *topology_key)
{
  k8c_err err = {0};
  t->sel = label_selector_from_json(sel_json, &err);
  if (t->sel == NULL) {
    k8c_err_clear(&err);
    t->sel = label_selector_nothing();
  }
  /* A null labelSelector selects no pods in affinity terms (upstream). */
  if (sel_json == NULL || json_is_null(sel_json)) {
    label_selector_free(t->sel);
    t->sel = label_selector_nothing();
  }
  t->all_namespaces = json_is_object(ns_selector) && json_object_size(ns_selector) == 0;
  size_t n = json_array_size(namespaces), i;
  json_t *v;
  t->namespaces = xcalloc(n + 1, sizeof *t->namespaces);
  json_array_foreach (namespaces, i, v) {
    if (json_is_string(v))
      t->namespaces[t->nnamespaces++] = xstrdup(json_string_value(v));
  }
  if (t->nnamespaces == 0 && !json_is_object(ns_selector))
    t->namespaces[t->nnamespaces++] = xstrdup(own_ns);
  t->topology_key = xstrdup(topology_key ? topology_key : "");
  cleanup_free char *canon = label_selector_to_string(t->sel);
  char *ns_part = xstrdup(t->all_namespaces ? "*" : "");
  for (size_t k = 0; k < t->nnamespaces; k++) {
    char *next = xasprintf("%s%s,", ns_part, t->namespaces[k]);
    free(ns_part);
    ns_part = next;
  }
  bool nothing = !label_selector_is_empty(t->sel) && canon[0] == '\0';
  t->signature = xasprintf("%s|%s%s", ns_part, canon, nothing ? "<nothing>" : "");
  free(ns_part);
}

static void
pod_term_destroy(struct pod_term *t)
{
  label_selector_free(t->sel);
  for (size_t i = 0; i < t->nnamespaces; i++)
    free(t->namespaces[i]);
  free(t->namespaces);
  free(t->topology_key);
  free(t->signature);
}

bool
pod_term_matches(const struct pod_term *t, const char *ns, const json_t *labels)
{
  if (!t->all_namespaces) {
    bool found = false;
    for (size_t i = 0; i < t->nnamespaces && !found; i++)
      found = strcmp(t->namespaces[i], ns) == 0;
    if (!found)
      return false;
  }
  return label_selector_matches(t->sel, labels);
}

/* required: an array of PodAffinityTerm; preferred: of WeightedPodAffinityTerm. */
static struct pod_term *
parse_pod_terms(const json_t *arr, bool weighted, const char *own_ns, size_t *n)
{
  size_t count = json_array_size(arr), i;
  json_t *e;
  *n = 0;
  if (count == 0)
    return NULL;
  struct pod_term *terms = xcalloc(count, sizeof *terms);
  json_array_foreach (arr, i, e) {
    const json_t *term = weighted ? json_object_get(e, "podAffinityTerm") : e;
    struct pod_term *t = &terms[(*n)++];
    pod_term_init(t, json_object_get(term, "labelSelector"), json_object_get(term, "namespaces"),
                  json_object_get(term, "namespaceSelector"), own_ns,
                  json_string_value(json_object_get(term, "topologyKey")));
    t->weight = weighted ? (int)json_integer_value(json_object_get(e, "weight")) : 1;
  }
  return terms;
}

/* labelSelector plus matchLabelKeys: each key the pod carries adds "key In (value)". */
static json_t *
spread_selector_json(const json_t *c, const json_t *pod_labels)
{
  json_t *sel = json_object_get(c, "labelSelector");
  const json_t *keys = json_object_get(c, "matchLabelKeys");
  if (json_array_size(keys) == 0 || sel == NULL)
    return json_incref(sel);
  json_t *copy = json_deep_copy(sel);
  json_t *exprs = json_object_get(copy, "matchExpressions");
  if (exprs == NULL) {
    exprs = json_array();
    json_object_set_new(copy, "matchExpressions", exprs);
  }
  size_t i;
  json_t *k;
  json_array_foreach (keys, i, k) {
    const json_t *v = json_object_get(pod_labels, json_string_value(k));
    if (json_is_string(v))
      json_array_append_new(exprs,
                            json_pack("{s:O,s:s,s:[O]}", "key", k, "operator", "In", "values", v));
  }
  return copy;
}

static void
parse_spread(struct pod_info *pi, const json_t *spec)
{
  const json_t *arr = json_object_get(spec, "topologySpreadConstraints");
  size_t count = json_array_size(arr), i;
  json_t *c;
  if (count == 0)
    return;
  pi->spread = xcalloc(count, sizeof *pi->spread);
  json_array_foreach (arr, i, c) {
    struct spread_constraint *sc = &pi->spread[pi->nspread++];
    sc->max_skew = (int)json_integer_value(json_object_get(c, "maxSkew"));
    if (sc->max_skew <= 0)
      sc->max_skew = 1;
    sc->min_domains = (int)json_integer_value(json_object_get(c, "minDomains"));
    if (sc->min_domains <= 0)
      sc->min_domains = 1;
    const char *when = json_string_value(json_object_get(c, "whenUnsatisfiable"));
    sc->do_not_schedule = when == NULL || strcmp(when, "ScheduleAnyway") != 0;
    const char *nap = json_string_value(json_object_get(c, "nodeAffinityPolicy"));
    const char *ntp = json_string_value(json_object_get(c, "nodeTaintsPolicy"));
    sc->honor_node_affinity = nap == NULL || strcmp(nap, "Ignore") != 0;
    sc->honor_node_taints = ntp != NULL && strcmp(ntp, "Honor") == 0;
    json_t *sel = spread_selector_json(c, pi->labels);
    /* Spread constraints count pods of the incoming pod's namespace only. */
    pod_term_init(&sc->term, sel, NULL, NULL, pi->ns,
                  json_string_value(json_object_get(c, "topologyKey")));
    json_decref(sel);
  }
}

/* ---------- the pod ---------- */

static void
parse_affinity(struct pod_info *pi, const json_t *spec)
{
  const json_t *aff = json_object_get(spec, "affinity");
  const json_t *na = json_object_get(aff, "nodeAffinity");
  const json_t *req = json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
  if (req) {
    const json_t *terms = json_object_get(req, "nodeSelectorTerms");
    size_t n = json_array_size(terms), i;
    json_t *t;
    pi->has_req_node_affinity = true;
    pi->req_node_terms = xcalloc(n + 1, sizeof *pi->req_node_terms);
    json_array_foreach (terms, i, t)
      parse_node_term(&pi->req_node_terms[pi->nreq_node_terms++], t);
  }
  const json_t *pref = json_object_get(na, "preferredDuringSchedulingIgnoredDuringExecution");
  size_t n = json_array_size(pref), i;
  json_t *t;
  if (n) {
    pi->pref_node_terms = xcalloc(n, sizeof *pi->pref_node_terms);
    json_array_foreach (pref, i, t) {
      struct node_sel_term *nt = &pi->pref_node_terms[pi->npref_node_terms++];
      parse_node_term(nt, json_object_get(t, "preference"));
      nt->weight = (int)json_integer_value(json_object_get(t, "weight"));
    }
  }
  const json_t *pa = json_object_get(aff, "podAffinity");
  const json_t *paa = json_object_get(aff, "podAntiAffinity");
  const char *rk = "requiredDuringSchedulingIgnoredDuringExecution";
  const char *pk = "preferredDuringSchedulingIgnoredDuringExecution";
  pi->affinity = parse_pod_terms(json_object_get(pa, rk), false, pi->ns, &pi->naffinity);
  pi->anti_affinity = parse_pod_terms(json_object_get(paa, rk), false, pi->ns, &pi->nanti_affinity);
  pi->pref_affinity = parse_pod_terms(json_object_get(pa, pk), true, pi->ns, &pi->npref_affinity);
  pi->pref_anti_affinity =
      parse_pod_terms(json_object_get(paa, pk), true, pi->ns, &pi->npref_anti_affinity);
}

struct pod_info *
pod_info_new(json_t *pod)
{
  struct pod_info *pi = xcalloc(1, sizeof *pi);
  pi->refs = 1;
  pi->obj = json_incref(pod);
  const json_t *md = json_object_get(pod, "metadata");
  const json_t *spec = json_object_get(pod, "spec");
  pi->ns = json_string_value(json_object_get(md, "namespace"));
  pi->name = json_string_value(json_object_get(md, "name"));
  if (pi->ns == NULL)
    pi->ns = "";
  if (pi->name == NULL)
    pi->name = "";
  pi->key = xasprintf("%s/%s", pi->ns, pi->name);
  pi->uid = json_string_value(json_object_get(md, "uid"));
  pi->labels = json_object_get(md, "labels");
  pi->terminating = json_object_get(md, "deletionTimestamp") != NULL;
  pi->node_name = json_string_value(json_object_get(spec, "nodeName"));
  if (pi->node_name && !pi->node_name[0])
    pi->node_name = NULL;
  pi->scheduler_name = json_string_value(json_object_get(spec, "schedulerName"));
  if (pi->scheduler_name == NULL || !pi->scheduler_name[0])
    pi->scheduler_name = "default-scheduler";
  const json_t *prio = json_object_get(spec, "priority");
  pi->priority_set = json_is_integer(prio);
  pi->priority = (int32_t)json_integer_value(prio);
  pi->priority_class = json_string_value(json_object_get(spec, "priorityClassName"));
  const char *pp = json_string_value(json_object_get(spec, "preemptionPolicy"));
  pi->preempt_never = pp && strcmp(pp, "Never") == 0;
  const json_t *ns_sel = json_object_get(spec, "nodeSelector");
  pi->node_selector = json_object_size(ns_sel) ? ns_sel : NULL;
  pod_requests(pi, spec);
  pod_ports(pi, spec);
  pod_tolerations(pi, spec);
  parse_affinity(pi, spec);
  parse_spread(pi, spec);
  return pi;
}

struct pod_info *
pod_info_ref(struct pod_info *pi)
{
  __atomic_add_fetch(&pi->refs, 1, __ATOMIC_RELAXED);
  return pi;
}

static void
free_node_terms(struct node_sel_term *terms, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    struct node_sel_req *lists[2] = {terms[i].exprs, terms[i].fields};
    size_t counts[2] = {terms[i].nexprs, terms[i].nfields};
    for (int l = 0; l < 2; l++) {
      for (size_t j = 0; j < counts[l]; j++) {
        free(lists[l][j].key);
        for (size_t k = 0; k < lists[l][j].nvalues; k++)
          free(lists[l][j].values[k]);
        free(lists[l][j].values);
      }
      free(lists[l]);
    }
  }
  free(terms);
}

static void
free_pod_terms(struct pod_term *terms, size_t n)
{
  for (size_t i = 0; i < n; i++)
    pod_term_destroy(&terms[i]);
  free(terms);
}

void
pod_info_unref(struct pod_info *pi)
{
  if (pi == NULL || __atomic_sub_fetch(&pi->refs, 1, __ATOMIC_ACQ_REL) > 0)
    return;
  free(pi->ports);
  for (size_t i = 0; i < pi->ntolerations; i++) {
    free(pi->tolerations[i].key);
    free(pi->tolerations[i].value);
    free(pi->tolerations[i].effect);
  }
  free(pi->tolerations);
  free_node_terms(pi->req_node_terms, pi->nreq_node_terms);
  free_node_terms(pi->pref_node_terms, pi->npref_node_terms);
  free_pod_terms(pi->affinity, pi->naffinity);
  free_pod_terms(pi->anti_affinity, pi->nanti_affinity);
  free_pod_terms(pi->pref_affinity, pi->npref_affinity);
  free_pod_terms(pi->pref_anti_affinity, pi->npref_anti_affinity);
  for (size_t i = 0; i < pi->nspread; i++)
    pod_term_destroy(&pi->spread[i].term);
  free(pi->spread);
  free(pi->key);
  json_decref(pi->obj);
  free(pi);
}

bool
pod_info_has_pod_affinity(const struct pod_info *pi)
{
  return pi->naffinity || pi->nanti_affinity || pi->npref_affinity || pi->npref_anti_affinity;
}
