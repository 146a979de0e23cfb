/* cache_packed.c — zlib deflate/inflate with a preset dictionary for cold cached texts.
 * The zlib format's Adler-32 check means a damaged packed text is reported, never
 * returned as wrong bytes. The deflater reuses one z_stream (deflateReset +
 * deflateSetDictionary per text); each inflate is self-contained, so any number of
 * readers may unpack at once. */
#include "storage/watchcache/cache_packed.h"

#include "lib/mem.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { WINDOW_BITS = 15, DICT_MAX = 1 << WINDOW_BITS };

struct cache_dict {
  atomic_int refs;
  uInt len;
  unsigned char data[];
};

struct cache_deflater {
  z_stream zs;
  unsigned char *out; /* scratch output, grown to deflateBound */
  size_t out_cap;
};

cache_dict *
cache_dict_new(const char *text, size_t len)
{
  if (len > DICT_MAX) { /* deflate only reaches back a window: keep the end */
    text += len - DICT_MAX;
    len = DICT_MAX;
  }
  cache_dict *d = xmalloc(sizeof(*d) + len);
  atomic_init(&d->refs, 1);
  d->len = (uInt)len;
  memcpy(d->data, text, len);
  return d;
}

cache_dict *
cache_dict_ref(cache_dict *d)
{
  atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
  return d;
}

void
cache_dict_unref(cache_dict *d)
{
  if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
    free(d);
}

cache_deflater *
cache_deflater_new(int level)
{
  cache_deflater *z = xcalloc(1, sizeof(*z));
  if (deflateInit2(&z->zs, level, Z_DEFLATED, WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    abort(); /* only on bad parameters or out of memory */
  return z;
}

void
cache_deflater_free(cache_deflater *z)
{
  if (!z)
    return;
  (void)deflateEnd(&z->zs);
  free(z->out);
  free(z);
}

cache_packed *
cache_pack(cache_deflater *z, cache_dict *d, const char *text, size_t len)
{
  if (len == 0 || len > UINT32_MAX / 2)
    return NULL;
  if (deflateReset(&z->zs) != Z_OK || deflateSetDictionary(&z->zs, d->data, d->len) != Z_OK)
    return NULL;
  size_t bound = deflateBound(&z->zs, (uLong)len);
  if (bound > z->out_cap) {
    z->out = xrealloc(z->out, bound);
    z->out_cap = bound;
  }
  z->zs.next_in = (Bytef *)text;
  z->zs.avail_in = (uInt)len;
  z->zs.next_out = z->out;
  z->zs.avail_out = (uInt)bound;
  if (deflate(&z->zs, Z_FINISH) != Z_STREAM_END)
    return NULL;
  size_t zlen = bound - z->zs.avail_out;
  if (zlen > len - len / 4)
    return NULL; /* not worth a cold read's inflate */
  cache_packed *p = xmalloc(sizeof(*p) + zlen);
  p->dict = cache_dict_ref(d);
  p->len = (uint32_t)len;
  p->zlen = (uint32_t)zlen;
  memcpy(p->data, z->out, zlen);
  return p;
}

char *
cache_unpack(const cache_packed *p)
{
  z_stream zs = {0};
  if (inflateInit2(&zs, WINDOW_BITS) != Z_OK)
    return NULL;
  char *text = xmalloc((size_t)p->len + 1);
  zs.next_in = (Bytef *)p->data;
  zs.avail_in = p->zlen;
  zs.next_out = (Bytef *)text;
  zs.avail_out = p->len;
  int rc = inflate(&zs, Z_FINISH); /* stops at once, asking for the dictionary */
  if (rc == Z_NEED_DICT && inflateSetDictionary(&zs, p->dict->data, p->dict->len) == Z_OK)
    rc = inflate(&zs, Z_FINISH);
  bool whole = rc == Z_STREAM_END && zs.avail_out == 0 && zs.avail_in == 0;
  (void)inflateEnd(&zs);
  if (!whole) {
    free(text);
    return NULL;
  }
  text[p->len] = 0;
  return text;
}

void
cache_packed_free(cache_packed *p)
{
  if (!p)
    return;
  cache_dict_unref(p->dict);
  free(p);
}

size_t
cache_packed_size(const cache_packed *p)
{
  return sizeof(*p) + p->zlen;
}
