/* meta.c — ObjectMeta accessors, uids, timestamps and generateName (see meta.h).
 *
 * Randomness comes from getrandom(): uids and generated names must not repeat across
 * restarts, and there is no seed state to keep. Each thread draws a block at a time and
 * hands out every byte once, so a pod create costs no getrandom() call of its own. */
#include "apimachinery/meta.h"

#include "lib/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define GENERATED_SUFFIX_LEN 5
#define GENERATED_NAME_MAX 63

/* upstream's alphabet for generated names: no vowels, no look-alike digits */
static const char name_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static void
getrandom_all(unsigned char *p, size_t n)
{
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      perror("getrandom");
      abort();
    }
    p += got;
    n -= (size_t)got;
  }
}

/* Per thread: bytes from getrandom() not handed out yet (the last `left` of bytes). */
struct random_pool {
  unsigned char bytes[512];
  size_t left;
};
static _Thread_local struct random_pool random_pool;

static void
random_bytes(void *out, size_t n)
{
  struct random_pool *pool = &random_pool;
  if (n > sizeof pool->bytes / 4) {
    getrandom_all(out, n);
    return;
  }
  if (pool->left < n) {
    getrandom_all(pool->bytes, sizeof pool->bytes);
    pool->left = sizeof pool->bytes;
  }
  unsigned char *from = pool->bytes + sizeof pool->bytes - pool->left;
  memcpy(out, from, n);
  memset(from, 0, n); /* handed out: not kept */
  pool->left -= n;
}

static const json_t *
metadata_of(const json_t *obj)
{
  const json_t *m = json_object_get(obj, "metadata");
  return json_is_object(m) ? m : NULL;
}

const char *
meta_string(const json_t *obj, const char *field)
{
  return json_string_value(json_object_get(metadata_of(obj), field));
}

const char *
meta_name(const json_t *obj)
{
  return meta_string(obj, "name");
}

const char *
meta_namespace(const json_t *obj)
{
  return meta_string(obj, "namespace");
}

const char *
meta_uid(const json_t *obj)
{
  return meta_string(obj, "uid");
}

const char *
meta_resource_version(const json_t *obj)
{
  return meta_string(obj, "resourceVersion");
}

json_t *
meta_get(json_t *obj)
{
  if (!json_is_object(obj))
    return NULL;
  json_t *m = json_object_get(obj, "metadata");
  if (json_is_object(m))
    return m;
  m = json_object();
  json_object_set_new(obj, "metadata", m);
  return m;
}

int64_t
meta_generation(const json_t *obj)
{
  return json_integer_value(json_object_get(metadata_of(obj), "generation"));
}

void
meta_set_string(json_t *obj, const char *field, const char *value)
{
  json_t *m = meta_get(obj);
  if (m == NULL)
    return;
  if (value == NULL)
    json_object_del(m, field);
  else
    json_object_set_new(m, field, json_string(value));
}

json_t *
meta_labels(const json_t *obj)
{
  json_t *l = json_object_get(metadata_of(obj), "labels");
  return json_is_object(l) ? l : NULL;
}

json_t *
meta_annotations(const json_t *obj)
{
  json_t *a = json_object_get(metadata_of(obj), "annotations");
  return json_is_object(a) ? a : NULL;
}

char *
meta_now_rfc3339(void)
{
  char out[32];
  meta_format_rfc3339(time(NULL), out);
  return xstrdup(out);
}

static char *
put_digits(char *at, int value, int width)
{
  for (int i = width - 1; i >= 0; i--) {
    at[i] = (char)('0' + value % 10);
    value /= 10;
  }
  return at + width;
}

void
meta_format_rfc3339(time_t t, char out[32])
{
  /* Digits by hand: every create stamps two of these, and strftime is the costlier part. */
  struct tm tm = {0};
  if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return;
  }
  char *at = put_digits(out, tm.tm_year + 1900, 4);
  *at++ = '-';
  at = put_digits(at, tm.tm_mon + 1, 2);
  *at++ = '-';
  at = put_digits(at, tm.tm_mday, 2);
  *at++ = 'T';
  at = put_digits(at, tm.tm_hour, 2);
  *at++ = ':';
  at = put_digits(at, tm.tm_min, 2);
  *at++ = ':';
  at = put_digits(at, tm.tm_sec, 2);
  *at++ = 'Z';
  *at = '\0';
}

char *
meta_new_uid(void)
{
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  /* 8-4-4-4-12 lowercase hex, written directly (every create makes one). */
  static const char hex[] = "0123456789abcdef";
  char *uid = xmalloc(37);
  char *out = uid;
  for (size_t i = 0; i < sizeof b; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      *out++ = '-';
    *out++ = hex[b[i] >> 4];
    *out++ = hex[b[i] & 0x0f];
  }
  *out = '\0';
  return uid;
}

void
meta_random_suffix(char out[6])
{
  size_t alphabet_len = sizeof name_alphabet - 1;
  /* One getrandom() for the whole suffix: 16 bytes leave room for the few the rejection
   * below throws away (each is kept with probability 243/256). */
  unsigned char pool[16];
  size_t used = sizeof pool;
  for (int i = 0; i < GENERATED_SUFFIX_LEN;) {
    if (used == sizeof pool) {
      random_bytes(pool, sizeof pool);
      used = 0;
    }
    unsigned char r = pool[used++];
    if (r >= 256 - 256 % alphabet_len) /* reject to stay uniform */
      continue;
    out[i++] = name_alphabet[r % alphabet_len];
  }
  out[GENERATED_SUFFIX_LEN] = '\0';
}

void
meta_derived_suffix(const char *seed, char out[6])
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (const char *p = seed; *p; p++)
    h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
  size_t alphabet_len = sizeof name_alphabet - 1;
  for (int i = 0; i < GENERATED_SUFFIX_LEN; i++) { /* 27^5 < 2^64: base-27 digits of h */
    out[i] = name_alphabet[h % alphabet_len];
    h /= alphabet_len;
  }
  out[GENERATED_SUFFIX_LEN] = '\0';
}

int
meta_generate_name(json_t *obj)
{
  const char *name = meta_name(obj);
  const char *prefix = meta_string(obj, "generateName");
  if ((name != NULL && *name) || prefix == NULL || *prefix == '\0')
    return 0;
  size_t keep = strlen(prefix);
  if (keep > GENERATED_NAME_MAX - GENERATED_SUFFIX_LEN)
    keep = GENERATED_NAME_MAX - GENERATED_SUFFIX_LEN;
  char suffix[GENERATED_SUFFIX_LEN + 1];
  meta_random_suffix(suffix);
  char *generated = xasprintf("%.*s%s", (int)keep, prefix, suffix);
  meta_set_string(obj, "name", generated);
  free(generated);
  return 1;
}
