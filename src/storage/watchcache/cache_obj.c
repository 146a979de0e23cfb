/* cache_obj.c — building cached objects from stored values, reading their text in
 * whichever form it is kept (plain or compressed, see cache_obj.h for the rules), and the
 * reference counting of objects and events (atomic: readers on many threads share them). */
#include "storage/watchcache/cache_obj.h"

#include "apimachinery/json_encode.h"
#include "storage/watchcache/rv_splice.h"

#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A zeroed object holding key, with one reference. */
static cache_obj *
cache_obj_alloc(const char *key)
{
  size_t key_size = strlen(key) + 1;
  cache_obj *o = xcalloc(1, sizeof(*o) + key_size);
  atomic_init(&o->refs, 1);
  memcpy(o->key, key, key_size);
  return o;
}

/* Runs the indexer and keeps its answer as compact string maps. */
static void
index_into(cache_obj *o, watchcache_indexer indexer, void *ctx, string_map_shapes *shapes,
           const char *key, const json_t *obj)
{
  json_t *labels = NULL, *fields = NULL;
  indexer(ctx, key, obj, &labels, &fields);
  o->labels = string_map_from_json_shared(labels, shapes);
  o->fields = string_map_from_json_shared(fields, shapes);
  json_decref(labels);
  json_decref(fields);
}

static char *
dump_with_revision(json_t *obj, int64_t rev, size_t *len)
{
  json_t *meta = json_object_get(obj, "metadata");
  if (!json_is_object(meta)) {
    meta = json_object();
    json_object_set_new(obj, "metadata", meta);
  }
  char rv[24];
  snprintf(rv, sizeof rv, "%lld", (long long)rev);
  json_object_set_new(meta, "resourceVersion", json_string(rv));
  char *text = json_encode_compact(obj, len);
  if (!text)
    abort(); /* parsed objects always encode */
  return text;
}

/* The stored text with resourceVersion set: spliced when the text allows, else re-encoded. */
static char *
text_with_revision(const char *value, size_t len, json_t *parsed, int64_t rev, size_t *out_len)
{
  char *text = rv_splice(value, len, rev, out_len);
  if (text)
    return text;
  if (parsed)
    return dump_with_revision(parsed, rev, out_len);
  json_error_t jerr;
  cleanup_json json_t *obj = json_loadb(value, len, 0, &jerr);
  if (!json_is_object(obj))
    return NULL;
  return dump_with_revision(obj, rev, out_len);
}

cache_obj *
cache_obj_new(const char *key, const char *value, size_t len, int64_t rev, int64_t create_rev,
              watchcache_indexer indexer, void *indexer_ctx, string_map_shapes *shapes,
              k8c_err *err)
{
  json_error_t jerr;
  cleanup_json json_t *obj = json_loadb(value, len, 0, &jerr);
  if (!json_is_object(obj))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "stored value of \"%s\" is not a JSON "
                     "object: %s",
                     key, obj ? "wrong type" : jerr.text),
           NULL;
  cache_obj *o = cache_obj_alloc(key);
  o->rev = rev;
  o->create_rev = create_rev;
  if (indexer)
    index_into(o, indexer, indexer_ctx, shapes, key, obj);
  /* Index before setting resourceVersion: the indexer sees the stored state. */
  atomic_init(&o->text, text_with_revision(value, len, obj, rev, &o->len));
  return o;
}

cache_obj *
cache_obj_prepare(const char *key, const char *value, size_t len, const json_t *parsed,
                  watchcache_indexer indexer, void *indexer_ctx, string_map_shapes *shapes,
                  k8c_err *err)
{
  json_error_t jerr;
  cleanup_json json_t *obj =
      parsed ? json_incref((json_t *)parsed) : json_loadb(value, len, 0, &jerr);
  if (!json_is_object(obj))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "value of \"%s\" is not a JSON object: %s",
                     key, obj ? "wrong type" : jerr.text),
           NULL;
  cache_obj *o = cache_obj_alloc(key);
  if (indexer) /* the maps are copies: the caller may change its object afterwards */
    index_into(o, indexer, indexer_ctx, shapes, key, obj);
  return o;
}

cache_obj *
cache_obj_finish(const cache_obj *prepared, const char *value, size_t len, int64_t rev,
                 int64_t create_rev)
{
  size_t out_len = 0;
  char *text = text_with_revision(value, len, NULL, rev, &out_len);
  if (text == NULL)
    return NULL;
  cache_obj *o = cache_obj_alloc(prepared->key);
  o->rev = rev;
  o->create_rev = create_rev;
  o->labels = string_map_ref(prepared->labels);
  o->fields = string_map_ref(prepared->fields);
  atomic_init(&o->text, text);
  o->len = out_len;
  return o;
}

cache_obj *
cache_obj_with_revision(const cache_obj *o, int64_t rev)
{
  size_t len = 0, old_len = 0;
  char *scratch = NULL;
  const char *old = cache_obj_text_peek(o, &old_len, &scratch);
  char *text = text_with_revision(old, old_len, NULL, rev, &len);
  free(scratch);
  if (text == NULL)
    return NULL;
  cache_obj *copy = cache_obj_alloc(o->key);
  copy->rev = rev;
  copy->create_rev = o->create_rev;
  copy->labels = string_map_ref(o->labels);
  copy->fields = string_map_ref(o->fields);
  atomic_init(&copy->text, text);
  copy->len = len;
  return copy;
}

/* ---- the text, plain or compressed ------------------------------------------------ */

/* packed's value for a text known not to compress; compared, never dereferenced. */
static const char unpackable_tag;
#define UNPACKABLE ((cache_packed *)(uintptr_t)&unpackable_tag)

unsigned
cache_obj_clock(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (unsigned)ts.tv_sec + 1;
}

/* Records a read (a relaxed store only when the second changed: readers of one hot
 * object do not keep writing its line). Returns the previous stamp. */
static unsigned
mark_used(const cache_obj *o)
{
  atomic_uint *used = (atomic_uint *)&o->used;
  unsigned now = cache_obj_clock();
  unsigned before = atomic_load_explicit(used, memory_order_relaxed);
  if (before != now)
    atomic_store_explicit(used, now, memory_order_relaxed);
  return before;
}

/* The plain text of a cold object, newly allocated. Its packed form is immutable and
 * lives as long as o, which the caller holds. */
static char *
inflate_text(const cache_obj *o)
{
  const cache_packed *p = atomic_load_explicit(&o->packed, memory_order_acquire);
  char *text = p && p != UNPACKABLE ? cache_unpack(p) : NULL;
  if (text == NULL) {
    /* Our own deflate output, never written after it was made: unreachable short of
     * memory corruption, and a reader must never see wrong bytes. */
    fprintf(stderr, "watch cache: compressed text of %s is unreadable\n", o->key);
    abort();
  }
  return text;
}

/* Publishes a freshly inflated text unless another reader did first; the published
 * buffer stays until cache_obj_drop_text, which cannot run while we hold o. */
static const char *
rewarm(const cache_obj *o, char *fresh)
{
  char *expected = NULL;
  _Atomic(char *) *slot = (_Atomic(char *) *)&o->text;
  if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh, memory_order_acq_rel,
                                              memory_order_acquire))
    return fresh;
  free(fresh);
  return expected;
}

const char *
cache_obj_text(const cache_obj *o, size_t *len)
{
  if (len)
    *len = o->len;
  mark_used(o);
  const char *text = atomic_load_explicit(&o->text, memory_order_acquire);
  return text ? text : rewarm(o, inflate_text(o));
}

const char *
cache_obj_text_peek(const cache_obj *o, size_t *len, char **scratch)
{
  *scratch = NULL;
  if (len)
    *len = o->len;
  unsigned before = mark_used(o);
  const char *text = atomic_load_explicit(&o->text, memory_order_acquire);
  if (text)
    return text;
  char *fresh = inflate_text(o);
  if (before != 0 && cache_obj_clock() - before <= CACHE_OBJ_REWARM_SECONDS)
    return rewarm(o, fresh);
  *scratch = fresh;
  return fresh;
}

bool
cache_obj_is_cold(const cache_obj *o)
{
  return atomic_load_explicit(&o->text, memory_order_acquire) == NULL;
}

int
cache_obj_pack_state(const cache_obj *o)
{
  const cache_packed *p = atomic_load_explicit(&o->packed, memory_order_acquire);
  return p == NULL ? 0 : p == UNPACKABLE ? -1 : 1;
}

int
cache_obj_pack(cache_obj *o, cache_deflater *z, cache_dict *d)
{
  int state = cache_obj_pack_state(o);
  if (state != 0)
    return state > 0 ? 0 : -1;
  /* Only the cooler stores packed and drops text, and it is us: text is plain here. */
  const char *text = atomic_load_explicit(&o->text, memory_order_acquire);
  cache_packed *p = text ? cache_pack(z, d, text, o->len) : NULL;
  atomic_store_explicit(&o->packed, p ? p : UNPACKABLE, memory_order_release);
  return p ? 0 : -1;
}

char *
cache_obj_drop_text(cache_obj *o)
{
  if (cache_obj_pack_state(o) != 1)
    return NULL;
  atomic_store_explicit(&o->used, 0, memory_order_relaxed);
  return atomic_exchange_explicit(&o->text, NULL, memory_order_acq_rel);
}

/* ---- references --------------------------------------------------------------------- */

cache_obj *
cache_obj_ref(cache_obj *o)
{
  atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
  return o;
}

void
cache_obj_unref(cache_obj *o)
{
  if (!o || atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
    return;
  free(atomic_load_explicit(&o->text, memory_order_relaxed));
  cache_packed *packed = atomic_load_explicit(&o->packed, memory_order_relaxed);
  if (packed != UNPACKABLE)
    cache_packed_free(packed);
  string_map_unref(o->labels);
  string_map_unref(o->fields);
  free(o);
}

void
cache_obj_array_free(cache_obj **objs, size_t count)
{
  for (size_t i = 0; i < count; i++)
    cache_obj_unref(objs[i]);
  free(objs);
}

watch_event *
watch_event_new(enum watch_event_type type, cache_obj *obj, int64_t rev)
{
  watch_event *ev = xcalloc(1, sizeof(*ev));
  atomic_init(&ev->refs, 1);
  ev->type = type;
  ev->obj = cache_obj_ref(obj);
  ev->rev = rev;
  return ev;
}

watch_event *
watch_event_ref(watch_event *ev)
{
  atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
  return ev;
}

void
watch_event_unref(watch_event *ev)
{
  if (!ev || atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) != 1)
    return;
  cache_obj_unref(ev->obj);
  free(ev);
}

const char *
watch_event_type_name(enum watch_event_type type)
{
  switch (type) {
  case WATCH_ADDED:
    return "ADDED";
  case WATCH_MODIFIED:
    return "MODIFIED";
  case WATCH_DELETED:
    return "DELETED";
  }
  return "ERROR";
}
