/* parsed_cache.c — the registry's cache of just-written parsed objects (see
 * parsed_cache.h): a hash map from key to entry plus a list in insertion order, under one
 * mutex. Trees leaving the cache are released after the lock is dropped, since freeing a
 * large tree is the slowest thing here. */
#include "registry/parsed_cache.h"

#include "lib/hashmap.h"
#include "lib/mem.h"

#include <pthread.h>
#include <string.h>

struct entry {
  struct entry *older, *newer;
  char *key;
  int64_t rev;
  json_t *tree;
  size_t text_len;
};

struct parsed_cache {
  pthread_mutex_t mu;
  hashmap *by_key;
  struct entry *oldest, *newest;
  size_t count, text_bytes;
  size_t max_entries, max_text_bytes;
  uint64_t hits, misses;
};

parsed_cache *
parsed_cache_new(size_t max_entries, size_t max_text_bytes)
{
  parsed_cache *pc = xcalloc(1, sizeof *pc);
  pthread_mutex_init(&pc->mu, NULL);
  pc->by_key = hashmap_new();
  pc->max_entries = max_entries;
  pc->max_text_bytes = max_text_bytes;
  return pc;
}

static void
entry_free(struct entry *e)
{
  json_decref(e->tree);
  free(e->key);
  free(e);
}

void
parsed_cache_free(parsed_cache *pc)
{
  if (pc == NULL)
    return;
  for (struct entry *e = pc->oldest, *next; e; e = next) {
    next = e->newer;
    entry_free(e);
  }
  hashmap_free(pc->by_key, NULL);
  pthread_mutex_destroy(&pc->mu);
  free(pc);
}

/* Takes e out of the list, the map and the totals (the caller frees it). Locked. */
static void
unlink_entry(parsed_cache *pc, struct entry *e)
{
  if (e->older)
    e->older->newer = e->newer;
  else
    pc->oldest = e->newer;
  if (e->newer)
    e->newer->older = e->older;
  else
    pc->newest = e->older;
  (void)hashmap_remove(pc->by_key, e->key);
  pc->count--;
  pc->text_bytes -= e->text_len;
  e->older = e->newer = NULL;
}

void
parsed_cache_put(parsed_cache *pc, const char *key, int64_t rev, json_t *tree, size_t text_len)
{
  if (tree == NULL || text_len > pc->max_text_bytes || pc->max_entries == 0)
    return;
  struct entry *e = xcalloc(1, sizeof *e);
  e->key = xstrdup(key);
  e->rev = rev;
  e->tree = json_incref(tree);
  e->text_len = text_len;
  struct entry *gone = NULL; /* chained through newer, freed unlocked */
  pthread_mutex_lock(&pc->mu);
  struct entry *old = hashmap_get(pc->by_key, key);
  if (old && old->rev > rev) {
    pthread_mutex_unlock(&pc->mu);
    entry_free(e);
    return;
  }
  if (old) {
    unlink_entry(pc, old);
    old->newer = gone;
    gone = old;
  }
  e->older = pc->newest;
  if (pc->newest)
    pc->newest->newer = e;
  else
    pc->oldest = e;
  pc->newest = e;
  (void)hashmap_put(pc->by_key, e->key, e);
  pc->count++;
  pc->text_bytes += text_len;
  while (pc->count > pc->max_entries || pc->text_bytes > pc->max_text_bytes) {
    struct entry *victim = pc->oldest;
    unlink_entry(pc, victim);
    victim->newer = gone;
    gone = victim;
  }
  pthread_mutex_unlock(&pc->mu);
  while (gone) {
    struct entry *next = gone->newer;
    entry_free(gone);
    gone = next;
  }
}

json_t *
parsed_cache_get(parsed_cache *pc, const char *key, int64_t rev)
{
  json_t *tree = NULL;
  pthread_mutex_lock(&pc->mu);
  struct entry *e = hashmap_get(pc->by_key, key);
  if (e && e->rev == rev)
    tree = json_incref(e->tree);
  if (tree)
    pc->hits++;
  else
    pc->misses++;
  pthread_mutex_unlock(&pc->mu);
  return tree;
}

void
parsed_cache_forget(parsed_cache *pc, const char *key)
{
  pthread_mutex_lock(&pc->mu);
  struct entry *e = hashmap_get(pc->by_key, key);
  if (e)
    unlink_entry(pc, e);
  pthread_mutex_unlock(&pc->mu);
  if (e)
    entry_free(e);
}

void
parsed_cache_stats(parsed_cache *pc, struct parsed_cache_stats *out)
{
  pthread_mutex_lock(&pc->mu);
  *out = (struct parsed_cache_stats){pc->count, pc->text_bytes, pc->hits, pc->misses};
  pthread_mutex_unlock(&pc->mu);
}
