/* json_alloc.c — per-thread free lists in front of malloc for jansson (see json_alloc.h).
 * A freed block is filed by its usable size, which glibc derives from the request size
 * alone, so a later request of a size that rounds to the same usable size reuses it
 * without entering malloc. Each thread caches at most CACHE_BYTES; the rest is freed.
 * Under AddressSanitizer nothing is installed, so it still sees every free. */
#include "apimachinery/json_alloc.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define CLASS_BYTES 16
#define CLASSES 33 /* usable sizes up to 32 * 16 + 8 = 520 bytes */
#define CACHE_BYTES JSON_ALLOC_CACHE_BYTES

struct free_block {
  struct free_block *next;
};

struct thread_cache {
  struct free_block *head[CLASSES];
  size_t bytes;
  bool registered; /* the thread-exit destructor knows this cache */
};

static _Thread_local struct thread_cache cache;
static pthread_key_t cache_key;
static bool cache_key_ok;

/* glibc's usable size for a request of n bytes (chunk rounded to 16, minus the 8-byte
 * header, at least 24), as a class index; CLASSES if too big to cache. */
static inline size_t
class_of_request(size_t n)
{
  size_t chunk = (n + 8 + 15) & ~(size_t)15;
  if (chunk < 32)
    chunk = 32;
  size_t cls = (chunk - 8) / CLASS_BYTES;
  return cls < CLASSES ? cls : CLASSES;
}

static void
cache_release(void *unused)
{
  (void)unused;
  for (size_t i = 0; i < CLASSES; i++) {
    while (cache.head[i] != NULL) {
      struct free_block *b = cache.head[i];
      cache.head[i] = b->next;
      free(b);
    }
  }
  cache.bytes = 0;
  cache.registered = false;
}

static void *
cached_malloc(size_t n)
{
  size_t cls = class_of_request(n);
  if (cls < CLASSES && cache.head[cls] != NULL) {
    struct free_block *b = cache.head[cls];
    cache.head[cls] = b->next;
    cache.bytes -= cls * CLASS_BYTES + 8;
    return b;
  }
  return malloc(n);
}

static void
cached_free(void *p)
{
  if (p == NULL)
    return;
  size_t usable = malloc_usable_size(p);
  size_t cls = (usable - 8) / CLASS_BYTES;
  if ((usable - 8) % CLASS_BYTES != 0 || cls == 0 || cls >= CLASSES ||
      cache.bytes + usable > CACHE_BYTES) {
    free(p);
    return;
  }
  if (!cache.registered) {
    /* Without a destructor the cache would leak at thread exit: then do not cache. */
    if (!cache_key_ok || pthread_setspecific(cache_key, &cache) != 0) {
      free(p);
      return;
    }
    cache.registered = true;
  }
  struct free_block *b = p;
  b->next = cache.head[cls];
  cache.head[cls] = b;
  cache.bytes += usable;
}

/* The main thread never runs key destructors: release its cache at exit. */
static void
release_main_cache(void)
{
  cache_release(NULL);
}

static void
install_once(void)
{
  cache_key_ok = pthread_key_create(&cache_key, cache_release) == 0;
  if (atexit(release_main_cache) != 0)
    cache_key_ok = false;
  json_set_alloc_funcs(cached_malloc, cached_free);
}

/* Under AddressSanitizer blocks must reach free() to be checked: install nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED true
#endif
#endif
#ifndef SANITIZED
#define SANITIZED false
#endif

void
json_alloc_install(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (SANITIZED)
    return;
  if (pthread_once(&once, install_once) != 0)
    abort();
}

size_t
json_alloc_cached_blocks(void)
{
  size_t n = 0;
  for (size_t i = 0; i < CLASSES; i++)
    for (struct free_block *b = cache.head[i]; b; b = b->next)
      n++;
  return n;
}
