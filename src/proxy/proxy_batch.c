/* proxy_batch.c — the difference between two fragments of a Service as nft commands,
 * collected into one transaction in the order the kernel accepts: chains and sets are
 * declared before anything jumps to them, and removed only after every element and rule
 * that referred to them is gone. Keys are emitted sorted so the text is reproducible. */
#include "proxy/proxy_render.h"

#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
proxy_batch_init(struct proxy_batch *b)
{
  memset(b, 0, sizeof *b);
  buf_init(&b->declare);
  buf_init(&b->bodies);
  buf_init(&b->remove_chains);
  buf_init(&b->remove_sets);
  for (int m = 0; m < PM_COUNT; m++) {
    buf_init(&b->elem_del[m]);
    buf_init(&b->elem_add[m]);
  }
}

void
proxy_batch_free(struct proxy_batch *b)
{
  buf_free(&b->declare);
  buf_free(&b->bodies);
  buf_free(&b->remove_chains);
  buf_free(&b->remove_sets);
  for (int m = 0; m < PM_COUNT; m++) {
    buf_free(&b->elem_del[m]);
    buf_free(&b->elem_add[m]);
  }
}

static int
str_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of m, sorted (the array is the caller's; the strings stay the map's). */
static const char **
sorted_keys(const hashmap *m, size_t *n)
{
  *n = hashmap_count(m);
  const char **keys = xcalloc(*n + 1, sizeof *keys);
  hashmap_iter it = {0};
  const char *k;
  void *v;
  size_t i = 0;
  while (hashmap_next(m, &it, &k, &v))
    keys[i++] = k;
  qsort(keys, *n, sizeof *keys, str_cmp);
  return keys;
}

static void
list_sep(buf *b)
{
  if (b->len)
    buf_puts(b, ", ");
}

static void
add_rules(buf *out, const char *table, const char *chain, const char *rules)
{
  while (*rules) {
    size_t len = strcspn(rules, "\n");
    if (len)
      buf_printf(out, "add rule ip %s %s %.*s\n", table, chain, (int)len, rules);
    rules += len + (rules[len] == '\n');
  }
}

/* Counted sets hold elements several Services may share (a pod's hairpin pair): refs
 * ("<map>:<key>" → count) decides when an element really comes and goes. */
static bool
count_ref(hashmap *refs, enum proxy_map m, const char *key, int delta)
{
  char *rk = xasprintf("%d:%s", (int)m, key);
  intptr_t n = (intptr_t)hashmap_get(refs, rk) + delta;
  if (n > 0)
    hashmap_put(refs, rk, (void *)n);
  else
    hashmap_remove(refs, rk);
  free(rk);
  return delta > 0 ? n == 1 : n == 0;
}

static void
diff_elements(struct proxy_batch *b, const hashmap *old, const hashmap *new, enum proxy_map m,
              hashmap *refs)
{
  bool counted = m == PM_HAIRPIN || m == PM_CLUSTER_IPS;
  size_t n;
  const char **keys;
  if (old) {
    keys = sorted_keys(old, &n);
    for (size_t i = 0; i < n; i++) {
      const char *nv = new ? hashmap_get(new, keys[i]) : NULL;
      if (nv != NULL && strcmp(nv, hashmap_get(old, keys[i])) == 0)
        continue;
      if (counted && !count_ref(refs, m, keys[i], -1))
        continue;
      list_sep(&b->elem_del[m]);
      buf_puts(&b->elem_del[m], keys[i]);
      b->changes++;
    }
    free(keys);
  }
  if (new) {
    keys = sorted_keys(new, &n);
    for (size_t i = 0; i < n; i++) {
      const char *nv = hashmap_get(new, keys[i]);
      const char *ov = old ? hashmap_get(old, keys[i]) : NULL;
      if (ov && strcmp(ov, nv) == 0)
        continue;
      if (counted && !count_ref(refs, m, keys[i], +1))
        continue;
      list_sep(&b->elem_add[m]);
      buf_puts(&b->elem_add[m], keys[i]);
      if (*nv) {
        buf_puts(&b->elem_add[m], " : ");
        buf_puts(&b->elem_add[m], nv);
      }
      b->changes++;
    }
    free(keys);
  }
}

static void
diff_chains(struct proxy_batch *b, const char *table, const hashmap *old, const hashmap *new)
{
  size_t n;
  const char **keys;
  if (new) {
    keys = sorted_keys(new, &n);
    for (size_t i = 0; i < n; i++) {
      const char *rules = hashmap_get(new, keys[i]);
      const char *before = old ? hashmap_get(old, keys[i]) : NULL;
      if (before && strcmp(before, rules) == 0)
        continue;
      if (before)
        buf_printf(&b->bodies, "flush chain ip %s %s\n", table, keys[i]);
      else
        buf_printf(&b->declare, "add chain ip %s %s\n", table, keys[i]);
      add_rules(&b->bodies, table, keys[i], rules);
      b->changes++;
    }
    free(keys);
  }
  if (old) {
    keys = sorted_keys(old, &n);
    for (size_t i = 0; i < n; i++) {
      if (new &&hashmap_get(new, keys[i]))
        continue;
      buf_printf(&b->remove_chains, "flush chain ip %s %s\ndelete chain ip %s %s\n", table, keys[i],
                 table, keys[i]);
      b->changes++;
    }
    free(keys);
  }
}

static void
diff_sets(struct proxy_batch *b, const char *table, const hashmap *old, const hashmap *new)
{
  size_t n;
  const char **keys;
  if (new) {
    keys = sorted_keys(new, &n);
    for (size_t i = 0; i < n; i++) {
      const char *timeout = hashmap_get(new, keys[i]);
      const char *before = old ? hashmap_get(old, keys[i]) : NULL;
      if (before && strcmp(before, timeout) == 0)
        continue;
      if (before) /* names carry the timeout, so a known name never changes */
        continue;
      buf_printf(&b->declare,
                 "add set ip %s %s { type ipv4_addr ; flags dynamic,timeout ; timeout %ss ; }\n",
                 table, keys[i], timeout);
      b->changes++;
    }
    free(keys);
  }
  if (old) {
    keys = sorted_keys(old, &n);
    for (size_t i = 0; i < n; i++) {
      if (new &&hashmap_get(new, keys[i]))
        continue;
      buf_printf(&b->remove_sets, "delete set ip %s %s\n", table, keys[i]);
      b->changes++;
    }
    free(keys);
  }
}

void
proxy_batch_diff(struct proxy_batch *b, const char *table, const struct proxy_fragment *old,
                 const struct proxy_fragment *new, hashmap *shared_present, hashmap *set_refs)
{
  if (new) {
    size_t n;
    const char **keys = sorted_keys(new->shared_chains, &n);
    for (size_t i = 0; i < n; i++) {
      if (hashmap_get(shared_present, keys[i]))
        continue;
      hashmap_put(shared_present, keys[i], (void *)1);
      buf_printf(&b->declare, "add chain ip %s %s\n", table, keys[i]);
      add_rules(&b->declare, table, keys[i], hashmap_get(new->shared_chains, keys[i]));
      b->changes++;
    }
    free(keys);
  }
  diff_sets(b, table, old ? old->sets : NULL, new ? new->sets : NULL);
  diff_chains(b, table, old ? old->chains : NULL, new ? new->chains : NULL);
  for (int m = 0; m < PM_COUNT; m++)
    diff_elements(b, old ? old->elems[m] : NULL, new ? new->elems[m] : NULL, m, set_refs);
}

/* Element lists are cut into commands of at most this many bytes: the parser handles
 * long lists well, but a bounded command keeps error messages and memory small. */
#define ELEMENT_CHUNK (256 * 1024)

static void
element_commands(buf *out, const char *verb, const char *table, const char *map, const buf *list)
{
  size_t pos = 0;
  while (pos < list->len) {
    size_t end = pos + ELEMENT_CHUNK;
    if (end >= list->len)
      end = list->len;
    else {
      const char *sep = strstr(list->data + end, ", ");
      end = sep ? (size_t)(sep - list->data) : list->len;
    }
    buf_printf(out, "%s element ip %s %s { %.*s }\n", verb, table, map, (int)(end - pos),
               list->data + pos);
    pos = end < list->len ? end + 2 : end;
  }
}

static void
batch_text(const struct proxy_batch *b, const char *table, bool element_adds, buf *out)
{
  if (b->declare.len)
    buf_append(out, b->declare.data, b->declare.len);
  for (int m = 0; m < PM_COUNT; m++)
    element_commands(out, "delete", table, proxy_map_names[m], &b->elem_del[m]);
  if (b->bodies.len)
    buf_append(out, b->bodies.data, b->bodies.len);
  for (int m = 0; m < PM_COUNT && element_adds; m++)
    element_commands(out, "add", table, proxy_map_names[m], &b->elem_add[m]);
  if (b->remove_chains.len)
    buf_append(out, b->remove_chains.data, b->remove_chains.len);
  if (b->remove_sets.len)
    buf_append(out, b->remove_sets.data, b->remove_sets.len);
}

void
proxy_batch_text(const struct proxy_batch *b, const char *table, buf *out)
{
  batch_text(b, table, true, out);
}

void
proxy_batch_text_without_adds(const struct proxy_batch *b, const char *table, buf *out)
{
  batch_text(b, table, false, out);
}

void
proxy_batch_text_adds(const struct proxy_batch *b, const char *table, buf *out)
{
  for (int m = 0; m < PM_COUNT; m++)
    element_commands(out, "add", table, proxy_map_names[m], &b->elem_add[m]);
}
