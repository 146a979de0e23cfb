/* json_alloc.h — the allocator jansson uses in this process: malloc and free with a small
 * per-thread cache of freed blocks in front, installed by json_alloc_install. A request builds
 * and frees hundreds of small JSON nodes; glibc keeps only seven freed blocks per size in
 * its thread cache and sends the rest through its slower bins, which showed as the largest
 * cost of a pod create. Blocks stay ordinary malloc blocks, so free() remains valid on them
 * and the allocator can be installed while JSON values already exist. */
#ifndef K8C_APIMACHINERY_JSON_ALLOC_H
#define K8C_APIMACHINERY_JSON_ALLOC_H

#include <stddef.h>

/* Most bytes of freed blocks one thread keeps. One pod create frees about 650 jansson
 * blocks (~100 KiB): the whole request's working set must fit, or every request sends
 * the excess through glibc's bins again (and its fastbin consolidation), which a 32 KiB
 * cap did for a third of them. */
#define JSON_ALLOC_CACHE_BYTES (256 * 1024)

/* Makes jansson allocate through the cache from now on (process-wide; idempotent,
 * thread-safe). Does nothing under AddressSanitizer. */
void json_alloc_install(void);

/* Blocks in the calling thread's cache (for tests). */
size_t json_alloc_cached_blocks(void);

#endif
