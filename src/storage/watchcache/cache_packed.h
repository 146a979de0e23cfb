/* cache_packed.h — the compressed form of a cold cached object's text: deflate
 * against a preset dictionary shared by the objects of one resource type. Objects of a
 * type are near-identical JSON, so most of each text is a back-reference into the
 * dictionary and a 4.5 KB pod shrinks several times over. */
#ifndef K8C_STORAGE_WATCHCACHE_CACHE_PACKED_H
#define K8C_STORAGE_WATCHCACHE_CACHE_PACKED_H

#include <stddef.h>
#include <stdint.h>

/* An immutable, refcounted dictionary (the text of a representative object). Every
 * packed text made with it holds a reference, so it lives as long as the last of them. */
typedef struct cache_dict cache_dict;

/* A dictionary holding a copy of text (at most the last 32 KiB count); one reference. */
cache_dict *cache_dict_new(const char *text, size_t len);
cache_dict *cache_dict_ref(cache_dict *d);
/* Drops a reference; NULL is fine. */
void cache_dict_unref(cache_dict *d);

/* One compressed text. Immutable once made; owned by its cache_obj. */
typedef struct cache_packed {
  cache_dict *dict; /* referenced */
  uint32_t len;     /* bytes of plain text */
  uint32_t zlen;    /* bytes of data */
  unsigned char data[];
} cache_packed;

/* A reusable deflate stream (one thread at a time). */
typedef struct cache_deflater cache_deflater;

/* level: zlib level 1..9. Free with cache_deflater_free. */
cache_deflater *cache_deflater_new(int level);
void cache_deflater_free(cache_deflater *z);

/* text compressed against d (referenced by the result), or NULL if that would not save at
 * least a quarter of it. Caller owns the result (cache_packed_free). */
cache_packed *cache_pack(cache_deflater *z, cache_dict *d, const char *text, size_t len);

/* The plain text of p, NUL-terminated (p->len bytes), newly allocated; NULL only if p's
 * data is corrupt. Any thread; no shared state. */
char *cache_unpack(const cache_packed *p);

void cache_packed_free(cache_packed *p);

/* Bytes p occupies (for statistics). */
size_t cache_packed_size(const cache_packed *p);

#endif
