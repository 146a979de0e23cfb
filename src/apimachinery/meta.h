/* meta.h — small ObjectMeta accessors and generators used all over k8c: read a name or
 * namespace without repeating json_object_get chains, stamp uids and timestamps, expand
 * generateName. Readers never allocate; strings they return are borrowed from the object. */
#ifndef K8C_APIMACHINERY_META_H
#define K8C_APIMACHINERY_META_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

/* Borrowed strings from obj.metadata, or NULL when absent / not a string. */
const char *meta_name(const json_t *obj);
const char *meta_namespace(const json_t *obj);
const char *meta_uid(const json_t *obj);
const char *meta_resource_version(const json_t *obj);
const char *meta_string(const json_t *obj, const char *field);

/* obj.metadata (borrowed), created as {} if missing or not an object. NULL if obj is not
 * an object. */
json_t *meta_get(json_t *obj);

/* metadata.generation, 0 when absent. */
int64_t meta_generation(const json_t *obj);

/* Sets metadata.<field> to value (a copy); value NULL removes the field. */
void meta_set_string(json_t *obj, const char *field, const char *value);

/* metadata.labels / metadata.annotations (borrowed), NULL when absent. */
json_t *meta_labels(const json_t *obj);
json_t *meta_annotations(const json_t *obj);

/* The current UTC time as "2006-01-02T15:04:05Z". Caller frees. */
char *meta_now_rfc3339(void);

/* Writes t (UTC) as "2006-01-02T15:04:05Z" into out (NUL-terminated), as strftime's
 * "%Y-%m-%dT%H:%M:%SZ" would for years 0 to 9999. */
void meta_format_rfc3339(time_t t, char out[32]);

/* A random version-4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"). Caller frees. */
char *meta_new_uid(void);

/* Five random characters from upstream's name alphabet (utilrand.String(5)) and a NUL. */
void meta_random_suffix(char out[6]);

/* Five characters from the same alphabet and a NUL, a function of seed alone (a hash of
 * it): the same seed always gives the same suffix. */
void meta_derived_suffix(const char *seed, char out[6]);

/* If metadata.name is empty and metadata.generateName set, sets name to generateName plus
 * five random characters from upstream's alphabet (the prefix is cut so the result is at
 * most 63 characters, as upstream does). Returns 1 if a name was generated, else 0. */
int meta_generate_name(json_t *obj);

#endif
