/* informer_mem.c — what a shared informer's cached objects cost, field by field: feeds a
 * list's items (e.g. `kubectl get --raw /api/v1/namespaces/NS/pods`) through the informer's
 * decode (each event's text parsed without managedFields) and interning, then walks the
 * cached objects and sums malloc_usable_size of every jansson node, split into nodes one
 * object holds alone (per field path) and nodes several share.
 * The node sizes need jansson 2.14's private layout (checked at run time).
 * Build: cc -O2 -Isrc bench/informer_mem.c build/libk8ccore.a -ljansson -lpthread -o /tmp/im
 * Run:   /tmp/im pods.json   (IM_DETAIL=1 also lists the first object's own nodes) */
#include "client/informer_decode.h"
#include "client/informer_intern.h"
#include "lib/mem.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson 2.14's private structures, as far as the walk needs them. */
struct jlist {
  struct jlist *prev, *next;
};
struct jpair {
  struct jlist list, ordered_list;
  size_t hash;
  json_t *value;
  size_t key_len;
  char key[1];
};
struct jobject {
  json_t json;
  size_t size;
  void *buckets;
  size_t order;
  struct jlist list, ordered_list;
};
struct jarray {
  json_t json;
  size_t size, entries;
  json_t **table;
};
struct jstring {
  json_t json;
  char *value;
  size_t length;
};

static size_t
node_bytes(json_t *v)
{
  size_t n = malloc_usable_size(v);
  if (json_is_object(v)) {
    struct jobject *o = (struct jobject *)v;
    n += malloc_usable_size(o->buckets);
    for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
      struct jpair *p = (struct jpair *)((char *)it - offsetof(struct jpair, ordered_list));
      if (p->key != json_object_iter_key(it)) {
        fprintf(stderr, "unexpected jansson layout\n");
        exit(2);
      }
      n += malloc_usable_size(p);
    }
  } else if (json_is_array(v)) {
    n += malloc_usable_size(((struct jarray *)v)->table);
  } else if (json_is_string(v)) {
    n += malloc_usable_size(((struct jstring *)v)->value);
  }
  return n;
}

/* address → the first object reaching it, how many do (1 or 2 = several), counted yet */
struct slot {
  json_t *v;
  int first;
  int holders;
  bool counted;
};
struct seen {
  struct slot *s;
  size_t cap, count;
};

static struct slot *
seen_get(struct seen *t, json_t *v)
{
  if ((t->count + 1) * 2 > t->cap) {
    struct seen b = {xcalloc(t->cap * 2, sizeof(struct slot)), t->cap * 2, 0};
    for (size_t i = 0; i < t->cap; i++)
      if (t->s[i].v)
        *seen_get(&b, t->s[i].v) = t->s[i];
    free(t->s);
    *t = b;
  }
  size_t i = (size_t)(((uint64_t)(uintptr_t)v * 0x9e3779b97f4a7c15ULL) >> 20) & (t->cap - 1);
  for (; t->s[i].v; i = (i + 1) & (t->cap - 1))
    if (t->s[i].v == v)
      return &t->s[i];
  t->s[i] = (struct slot){v, -1, 0, false};
  t->count++;
  return &t->s[i];
}

static bool
singleton(json_t *v)
{
  return json_is_true(v) || json_is_false(v) || json_is_null(v);
}

/* Marks the nodes object `holder` reaches. */
static void
mark(struct seen *t, json_t *v, int holder)
{
  if (singleton(v))
    return;
  struct slot *s = seen_get(t, v);
  if (s->holders == 0) {
    s->first = holder;
    s->holders = 1;
  } else if (s->holders == 1 && s->first != holder) {
    s->holders = 2;
  } else {
    return;
  }
  const char *k;
  json_t *c;
  size_t i;
  if (json_is_object(v))
    json_object_foreach (v, k, c)
      mark(t, c, holder);
  else if (json_is_array(v))
    json_array_foreach (v, i, c)
      mark(t, c, holder);
}

#define MAX_CATS 64
struct cats {
  char name[MAX_CATS][64];
  size_t own[MAX_CATS], own_nodes[MAX_CATS];
  int n;
};

static int
cat_of(struct cats *c, const char *name)
{
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->name[i], name) == 0)
      return i;
  if (c->n == MAX_CATS)
    return MAX_CATS - 1;
  snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
  return c->n++;
}

/* Sums the nodes reached from v once each: one object's own by path category (two
 * levels deep), shared ones into *shared. */
static void
account(struct seen *t, struct cats *c, json_t *v, const char *path, int depth, size_t *shared,
        bool detail)
{
  if (singleton(v))
    return;
  struct slot *s = seen_get(t, v);
  if (s->counted)
    return;
  s->counted = true;
  size_t bytes = node_bytes(v);
  if (s->holders > 1) {
    *shared += bytes;
  } else {
    if (detail && s->first == 0)
      printf("  own %-30s %-7s %5zu %s\n", path,
             json_is_object(v)  ? "object"
             : json_is_array(v) ? "array"
                                : "scalar",
             bytes,
             json_is_object(v)   ? ""
             : json_is_string(v) ? json_string_value(v)
                                 : "");
    int ci = cat_of(c, path);
    c->own[ci] += bytes;
    c->own_nodes[ci]++;
  }
  const char *k;
  json_t *ch;
  size_t i;
  char sub[64];
  if (json_is_object(v)) {
    json_object_foreach (v, k, ch) {
      if (depth < 2)
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", k);
      else
        snprintf(sub, sizeof sub, "%s", path);
      account(t, c, ch, sub, depth + 1, shared, detail);
    }
  } else if (json_is_array(v)) {
    json_array_foreach (v, i, ch)
      account(t, c, ch, path, depth, shared, detail);
  }
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s LIST.json\n", argv[0]);
    return 2;
  }
  json_error_t jerr;
  json_t *list = json_load_file(argv[1], 0, &jerr);
  if (!list) {
    fprintf(stderr, "%s: %s\n", argv[1], jerr.text);
    return 1;
  }
  json_t *items = json_object_get(list, "items");
  size_t n = json_array_size(items);
  char **texts = xcalloc(n, sizeof *texts);
  for (size_t i = 0; i < n; i++)
    texts[i] = json_dumps(json_array_get(items, i), JSON_COMPACT);
  json_decref(list);

  json_t **cached = xcalloc(n, sizeof *cached);
  informer_intern *in = informer_intern_new();
  struct mallinfo2 before = mallinfo2();
  for (size_t i = 0; i < n; i++) {
    cached[i] = informer_decode_object(texts[i], strlen(texts[i]));
    informer_intern_children(in, cached[i]);
  }
  struct mallinfo2 after = mallinfo2();
  for (size_t i = 0; i < n; i++)
    free(texts[i]);
  free(texts);

  struct seen t = {xcalloc(1 << 16, sizeof(struct slot)), 1 << 16, 0};
  for (size_t i = 0; i < n; i++)
    mark(&t, cached[i], (int)i);
  struct cats c = {.n = 0};
  size_t shared = 0;
  for (size_t i = 0; i < n; i++)
    account(&t, &c, cached[i], "", 0, &shared, getenv("IM_DETAIL") != NULL);
  size_t own_total = 0;
  for (int i = 0; i < c.n; i++)
    own_total += c.own[i];
  printf("objects %zu; heap growth (mallinfo2) %zu bytes = %.0f per object\n", n,
         after.uordblks - before.uordblks, (double)(after.uordblks - before.uordblks) / (double)n);
  printf("own (one object's) nodes %.0f bytes per object; shared nodes %zu bytes in all; intern "
         "table %zu entries\n",
         (double)own_total / (double)n, shared, informer_intern_count(in));
  printf("%-40s %10s %8s\n", "field (own nodes)", "bytes/obj", "nodes/obj");
  for (int i = 0; i < c.n; i++)
    printf("%-40s %10.0f %8.1f\n", c.name[i][0] ? c.name[i] : "(top level)",
           (double)c.own[i] / (double)n, (double)c.own_nodes[i] / (double)n);
  for (size_t i = 0; i < n; i++)
    json_decref(cached[i]);
  free(cached);
  free(t.s);
  informer_intern_free(in);
  return 0;
}
