/* skiplist.c — a classic skip list: each node gets a random height (p = 1/4), and a
 * search drops down a level whenever the next key would overshoot. The random
 * generator lives in the list, so there is no global state. */
#include "lib/skiplist.h"

#include "lib/mem.h"

#include <stdint.h>
#include <string.h>

enum { SKIPLIST_MAX_LEVEL = 24 };

struct skiplist_node {
  char *key; /* owned */
  void *value;
  int height;
  struct skiplist_node *next[]; /* height entries */
};

struct skiplist {
  struct skiplist_node *head; /* sentinel with SKIPLIST_MAX_LEVEL links, no key */
  int level;                  /* highest level in use (1 based) */
  size_t count;
  uint64_t rng;
};

static struct skiplist_node *
node_new(const char *key, void *value, int height)
{
  struct skiplist_node *n = xcalloc(1, sizeof(*n) + (size_t)height * sizeof(n->next[0]));
  n->key = key ? xstrdup(key) : NULL;
  n->value = value;
  n->height = height;
  return n;
}

static int
random_height(skiplist *l)
{
  /* xorshift64: each level is kept with probability 1/4 (two random bits). */
  l->rng ^= l->rng << 13;
  l->rng ^= l->rng >> 7;
  l->rng ^= l->rng << 17;
  uint64_t r = l->rng;
  int h = 1;
  while (h < SKIPLIST_MAX_LEVEL && (r & 3) == 0) {
    h++;
    r >>= 2;
  }
  return h;
}

/* Fills update[i] with the last node at level i whose key is < key. */
static void
find_predecessors(const skiplist *l, const char *key, struct skiplist_node **update)
{
  struct skiplist_node *x = l->head;
  for (int i = l->level - 1; i >= 0; i--) {
    while (x->next[i] && strcmp(x->next[i]->key, key) < 0)
      x = x->next[i];
    update[i] = x;
  }
}

skiplist *
skiplist_new(void)
{
  skiplist *l = xcalloc(1, sizeof(*l));
  l->head = node_new(NULL, NULL, SKIPLIST_MAX_LEVEL);
  l->level = 1;
  l->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)l;
  return l;
}

void
skiplist_free(skiplist *l, void (*free_value)(void *value))
{
  if (!l)
    return;
  struct skiplist_node *n = l->head->next[0];
  while (n) {
    struct skiplist_node *next = n->next[0];
    if (free_value)
      free_value(n->value);
    free(n->key);
    free(n);
    n = next;
  }
  free(l->head);
  free(l);
}

void *
skiplist_put(skiplist *l, const char *key, void *value)
{
  struct skiplist_node *update[SKIPLIST_MAX_LEVEL];
  find_predecessors(l, key, update);
  struct skiplist_node *x = update[0]->next[0];
  if (x && strcmp(x->key, key) == 0) {
    void *old = x->value;
    x->value = value;
    return old;
  }
  int h = random_height(l);
  for (int i = l->level; i < h; i++)
    update[i] = l->head;
  if (h > l->level)
    l->level = h;
  struct skiplist_node *n = node_new(key, value, h);
  for (int i = 0; i < h; i++) {
    n->next[i] = update[i]->next[i];
    update[i]->next[i] = n;
  }
  l->count++;
  return NULL;
}

void *
skiplist_remove(skiplist *l, const char *key)
{
  struct skiplist_node *update[SKIPLIST_MAX_LEVEL];
  find_predecessors(l, key, update);
  struct skiplist_node *x = update[0]->next[0];
  if (!x || strcmp(x->key, key) != 0)
    return NULL;
  for (int i = 0; i < x->height; i++)
    update[i]->next[i] = x->next[i];
  while (l->level > 1 && !l->head->next[l->level - 1])
    l->level--;
  void *value = x->value;
  free(x->key);
  free(x);
  l->count--;
  return value;
}

void *
skiplist_get(const skiplist *l, const char *key)
{
  skiplist_node *n = skiplist_seek(l, key);
  return n && strcmp(n->key, key) == 0 ? n->value : NULL;
}

size_t
skiplist_count(const skiplist *l)
{
  return l->count;
}

skiplist_node *
skiplist_seek(const skiplist *l, const char *key)
{
  if (!key)
    return l->head->next[0];
  struct skiplist_node *update[SKIPLIST_MAX_LEVEL];
  find_predecessors(l, key, update);
  return update[0]->next[0];
}

skiplist_node *
skiplist_node_next(const skiplist_node *n)
{
  return n->next[0];
}

const char *
skiplist_node_key(const skiplist_node *n)
{
  return n->key;
}

void *
skiplist_node_value(const skiplist_node *n)
{
  return n->value;
}
