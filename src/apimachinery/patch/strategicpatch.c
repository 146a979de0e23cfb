/* strategicpatch.c — strategic merge patch: maps, directives and the entry point.
 *
 * Follows upstream's mergeMap step by step ($patch, then $retainKeys, then
 * $setElementOrder lists, then every other key), on private copies of document and
 * patch; lists are merged in strategicpatch_list.c. */
#include "apimachinery/patch/strategicpatch_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/mem.h"

int
smp_bad_request(const struct smp_run *run, const char *message)
{
  return k8c_error(run->err, 400, K8C_REASON_BAD_REQUEST, "%s", message);
}

int
smp_unprocessable(const struct smp_run *run)
{
  return k8c_error(run->err, 422, K8C_REASON_INVALID,
                   "the server rejected our request due to an error in our request");
}

int
smp_plain_error(const struct smp_run *run, const char *fmt, ...)
{
  char message[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  return k8c_error(run->err, 500, "", "%s", message);
}

char *
smp_describe(const json_t *v)
{
  if (v == NULL)
    return xstrdup("<nil>");
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == NULL)
    return xstrdup("?");
  if (strlen(text) > 300)
    strcpy(text + 297, "...");
  return text;
}

bool
smp_go_equal(const json_t *a, const json_t *b)
{
  bool a_nil = a == NULL || json_is_null(a), b_nil = b == NULL || json_is_null(b);
  if (a_nil || b_nil)
    return a_nil && b_nil;
  if (json_is_object(a) || json_is_array(a) || json_is_object(b) || json_is_array(b))
    return false;
  return json_equal(a, b);
}

static bool
has_prefix(const char *s, size_t len, const char *prefix)
{
  size_t n = strlen(prefix);
  return len >= n && memcmp(s, prefix, n) == 0;
}

struct smp_field_meta
smp_lookup(const struct smp_run *run, struct smp_ctx ctx, const char *key, size_t key_len)
{
  struct smp_field_meta meta = {0};
  const struct schema_field *f = NULL;
  if (ctx.map_of != NULL) {
    if (ctx.map_of->item_kind == SCHEMA_OBJECT)
      meta.value.definition = ctx.map_of->ref;
    return meta;
  }
  if (ctx.definition != NULL && strlen(key) == key_len)
    f = run->schema->lookup(ctx.definition, key);
  if (f == NULL)
    return meta;
  const char *strategy = f->patch_strategy ? f->patch_strategy : "";
  meta.replace = strcmp(strategy, "replace") == 0;
  meta.merge = strcmp(strategy, "merge") == 0 || strcmp(strategy, "merge,retainKeys") == 0 ||
               strcmp(strategy, "retainKeys,merge") == 0;
  meta.merge_key = f->patch_merge_key;
  if (f->kind == SCHEMA_OBJECT)
    meta.value.definition = f->ref;
  else if (f->kind == SCHEMA_MAP)
    meta.value.map_of = f;
  else if (f->kind == SCHEMA_ARRAY && f->item_kind == SCHEMA_OBJECT)
    meta.element.definition = f->ref;
  return meta;
}

/* Drops null members everywhere below v (null list elements stay), in place. */
static void
discard_nulls(json_t *v)
{
  if (json_is_object(v)) {
    const char *k;
    size_t klen;
    json_t *child;
    void *next;
    json_object_keylen_foreach_safe(v, next, k, klen, child)
    {
      if (json_is_null(child))
        json_object_deln(v, k, klen);
      else
        discard_nulls(child);
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *child;
    json_array_foreach (v, i, child)
      discard_nulls(child);
  }
}

/* Upstream's removeDirectives: objects carrying $patch vanish (NULL is returned),
 * recursively. Otherwise returns a new reference to the cleaned value. */
static json_t *
remove_directives(json_t *v)
{
  if (json_is_object(v)) {
    if (json_object_get(v, SMP_DIRECTIVE) != NULL)
      return NULL;
    const char *k;
    size_t klen;
    json_t *child;
    void *next;
    json_object_keylen_foreach_safe(v, next, k, klen, child)
    {
      json_t *clean = remove_directives(child);
      if (clean == NULL)
        json_object_deln(v, k, klen);
      else
        json_object_setn_new(v, k, klen, clean);
    }
    return json_incref(v);
  }
  if (json_is_array(v)) {
    json_t *kept = json_array();
    size_t i;
    json_t *child;
    json_array_foreach (v, i, child) {
      json_t *clean = remove_directives(child);
      if (clean != NULL)
        json_array_append_new(kept, clean);
    }
    return kept;
  }
  return json_incref(v);
}

/* Removes directive keys left in the result (from appended or replaced patch parts),
 * as decoding into the typed object drops them upstream. */
static void
strip_directive_keys(json_t *v)
{
  if (json_is_object(v)) {
    const char *k;
    size_t klen;
    json_t *child;
    void *next;
    json_object_keylen_foreach_safe(v, next, k, klen, child)
    {
      bool directive = (klen == strlen(SMP_DIRECTIVE) && memcmp(k, SMP_DIRECTIVE, klen) == 0) ||
                       (klen == strlen(SMP_RETAIN_KEYS) && memcmp(k, SMP_RETAIN_KEYS, klen) == 0) ||
                       has_prefix(k, klen, SMP_SET_ELEMENT_ORDER "/") ||
                       has_prefix(k, klen, SMP_DELETE_FROM_PRIMITIVE_LIST "/");
      if (directive)
        json_object_deln(v, k, klen);
      else
        strip_directive_keys(child);
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *child;
    json_array_foreach (v, i, child)
      strip_directive_keys(child);
  }
}

static bool
list_has_string(const json_t *list, const char *s, size_t len)
{
  size_t i;
  json_t *item;
  json_array_foreach (list, i, item) {
    if (json_is_string(item) && json_string_length(item) == len &&
        memcmp(json_string_value(item), s, len) == 0)
      return true;
  }
  return false;
}

/* $retainKeys: every patch key must be listed; original keys not listed are cleared. */
static int
apply_retain_keys(const struct smp_run *run, json_t *original, json_t *patch)
{
  json_t *retain = json_object_get(patch, SMP_RETAIN_KEYS);
  if (retain == NULL)
    return 0;
  cleanup_json json_t *list = json_incref(retain);
  json_object_del(patch, SMP_RETAIN_KEYS);
  if (!json_is_array(list))
    return smp_bad_request(run, "invalid patch format of retainKeys");
  const char *k;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach(patch, k, klen, v)
  {
    if (json_is_null(v) || has_prefix(k, klen, SMP_DELETE_FROM_PRIMITIVE_LIST) ||
        has_prefix(k, klen, SMP_SET_ELEMENT_ORDER))
      continue;
    if (!list_has_string(list, k, klen))
      return smp_bad_request(run, "invalid patch format of retainKeys");
  }
  void *next;
  json_object_keylen_foreach_safe(original, next, k, klen, v)
  {
    if (!list_has_string(list, k, klen))
      json_object_deln(original, k, klen);
  }
  return 0;
}

/* Checks that the patch list follows the $setElementOrder list: its items (deletions
 * and directive items aside) must appear there in the same relative order. */
static int
validate_with_order(const struct smp_run *run, const json_t *patch_list, const json_t *order,
                    const char *merge_key)
{
  if (patch_list == NULL || json_array_size(patch_list) == 0 || json_array_size(order) == 0)
    return 0;
  cleanup_json json_t *kept = json_array();
  size_t i;
  json_t *item;
  json_array_foreach (patch_list, i, item) {
    if (merge_key != NULL) {
      if (!json_is_object(item))
        return smp_plain_error(run, "expected a map[string]interface {}, but received a %s",
                               json_is_array(item) ? "[]interface {}" : "scalar");
      json_t *d = json_object_get(item, SMP_DIRECTIVE);
      if (json_is_string(d) && strcmp(json_string_value(d), "delete") == 0)
        continue;
    }
    json_array_append(kept, item);
  }
  size_t pi = 0, si = 0, n = json_array_size(kept), m = json_array_size(order);
  while (pi < n && si < m) {
    json_t *p = json_array_get(kept, pi), *o = json_array_get(order, si);
    if (json_is_object(p) && json_object_get(p, SMP_DIRECTIVE) != NULL) {
      pi++;
      continue;
    }
    bool equal;
    if (merge_key == NULL) {
      equal = smp_go_equal(p, o);
    } else {
      if (!json_is_object(o))
        return smp_plain_error(run, "expected a map[string]interface {}, but received a %s",
                               json_is_array(o) ? "[]interface {}" : "scalar");
      json_t *pk = json_object_get(p, merge_key), *ok = json_object_get(o, merge_key);
      if (pk == NULL || ok == NULL) {
        cleanup_free char *d = smp_describe(pk == NULL ? p : o);
        return smp_plain_error(run, "map: %s does not contain declared merge key: %s", d,
                               merge_key);
      }
      equal = smp_go_equal(pk, ok);
    }
    if (equal)
      pi++;
    si++;
  }
  if (pi < n && si >= m) {
    cleanup_free char *pd = smp_describe(patch_list);
    cleanup_free char *od = smp_describe(order);
    return smp_plain_error(run, "The order in patch list:\n%s\n doesn't match %s list:\n%s\n", pd,
                           SMP_SET_ELEMENT_ORDER, od);
  }
  return 0;
}

/* Merges and orders one list named by a $setElementOrder/<field> directive. */
static int
apply_set_element_order(const struct smp_run *run, json_t *original, json_t *patch,
                        struct smp_ctx ctx, const char *key, size_t key_len, json_t *order)
{
  if (!json_is_array(order))
    return smp_plain_error(run, "expected a []interface {}, but received a %s",
                           json_is_object(order) ? "map[string]interface {}" : "scalar");
  size_t prefix_len = strlen(SMP_SET_ELEMENT_ORDER);
  if (key_len <= prefix_len || key[prefix_len] != '/')
    return smp_bad_request(run, "invalid patch format of setElementOrder list");
  const char *field = key + prefix_len + 1;
  size_t field_len = key_len - prefix_len - 1;

  json_t *orig_list = json_object_getn(original, field, field_len);
  json_t *patch_list = json_object_getn(patch, field, field_len);
  if ((orig_list && !json_is_array(orig_list)) || (patch_list && !json_is_array(patch_list)))
    return smp_plain_error(run, "expected a []interface {}, but received a %s", "non-list value");
  struct smp_field_meta meta = smp_lookup(run, ctx, field, field_len);
  const char *merge_key = meta.merge_key && meta.merge_key[0] ? meta.merge_key : NULL;
  if (validate_with_order(run, patch_list, order, merge_key) < 0)
    return -1;
  if (orig_list == NULL && patch_list == NULL)
    return 0;

  cleanup_json json_t *merged = NULL;
  if (patch_list == NULL)
    merged = json_incref(orig_list);
  else if (orig_list == NULL)
    merged = json_incref(patch_list);
  else if (!meta.merge)
    merged = json_incref(patch_list);
  else if ((merged = smp_merge_list(run, orig_list, patch_list, meta.element, merge_key, false)) ==
           NULL)
    return -1;

  cleanup_json json_t *present = NULL, *absent = NULL;
  if (smp_partition(run, merged, order, merge_key, &present, &absent) < 0)
    return -1;
  enum smp_elem_kind kind;
  if (smp_element_kind(run, orig_list, patch_list, &kind) < 0)
    return -1;
  cleanup_json json_t *no_order = json_array();
  json_t *result = smp_normalize_order(run, present, absent, order,
                                       orig_list ? orig_list : no_order, merge_key, kind);
  if (result == NULL)
    return -1;
  json_object_setn_new(original, field, field_len, result);
  json_object_deln(patch, field, field_len);
  return 0;
}

static int
apply_set_element_orders(const struct smp_run *run, json_t *original, json_t *patch,
                         struct smp_ctx ctx)
{
  cleanup_json json_t *keys = json_array();
  const char *k;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach(patch, k, klen, v)
  {
    if (has_prefix(k, klen, SMP_SET_ELEMENT_ORDER))
      json_array_append_new(keys, json_stringn(k, klen));
  }
  size_t i;
  json_t *key;
  json_array_foreach (keys, i, key) {
    const char *name = json_string_value(key);
    size_t len = json_string_length(key);
    cleanup_json json_t *order = json_incref(json_object_getn(patch, name, len));
    json_object_deln(patch, name, len);
    if (apply_set_element_order(run, original, patch, ctx, name, len, order) < 0)
      return -1;
  }
  return 0;
}

/* The value a patch member takes when it is not merged with anything. */
static void
take_patch_value(json_t *original, const char *field, size_t field_len, json_t *value)
{
  discard_nulls(value);
  json_t *clean = remove_directives(value);
  if (clean == NULL)
    json_object_deln(original, field, field_len);
  else
    json_object_setn_new(original, field, field_len, clean);
}

static bool
same_go_type(const json_t *a, const json_t *b)
{
  if (json_is_boolean(a) && json_is_boolean(b))
    return true;
  return json_typeof(a) == json_typeof(b);
}

/* Merges one patch member into original. */
static int
merge_member(const struct smp_run *run, json_t *original, struct smp_ctx ctx, const char *key,
             size_t key_len, json_t *patch_value)
{
  const char *field = key;
  size_t field_len = key_len;
  bool is_delete_list = false;
  if (has_prefix(key, key_len, SMP_DELETE_FROM_PRIMITIVE_LIST)) {
    size_t prefix_len = strlen(SMP_DELETE_FROM_PRIMITIVE_LIST);
    if (key_len <= prefix_len || key[prefix_len] != '/')
      return smp_bad_request(run, "invalid patch format of primitive list");
    is_delete_list = true;
    if (key_len > prefix_len + 1) {
      field = key + prefix_len + 1;
      field_len = key_len - prefix_len - 1;
    }
  }
  if (json_is_null(patch_value)) {
    json_object_deln(original, field, field_len);
    return 0;
  }
  json_t *current = json_object_getn(original, field, field_len);
  if (current == NULL || !same_go_type(current, patch_value)) {
    if (!is_delete_list)
      take_patch_value(original, field, field_len, patch_value);
    return 0;
  }
  struct smp_field_meta meta = smp_lookup(run, ctx, field, field_len);
  json_t *merged;
  if (json_is_object(current)) {
    merged = meta.replace ? json_incref(patch_value)
                          : smp_merge_map(run, current, patch_value, meta.value);
  } else if (json_is_array(current)) {
    const char *merge_key = meta.merge_key && meta.merge_key[0] ? meta.merge_key : NULL;
    merged = meta.merge ? smp_merge_list(run, current, patch_value, meta.element, merge_key,
                                         is_delete_list)
                        : json_incref(patch_value);
  } else {
    merged = json_incref(patch_value);
  }
  if (merged == NULL)
    return -1;
  json_object_setn_new(original, field, field_len, merged);
  return 0;
}

json_t *
smp_merge_map(const struct smp_run *run, json_t *original, json_t *patch, struct smp_ctx ctx)
{
  json_t *directive = json_object_get(patch, SMP_DIRECTIVE);
  if (directive != NULL) {
    const char *d = json_is_string(directive) ? json_string_value(directive) : "";
    if (strcmp(d, "replace") == 0) {
      json_object_del(patch, SMP_DIRECTIVE);
      return json_incref(patch);
    }
    if (strcmp(d, "delete") == 0)
      return json_object();
    cleanup_free char *dd = smp_describe(directive);
    cleanup_free char *pd = smp_describe(patch);
    return smp_plain_error(run, "unknown patch type: %s in map: %s", dd, pd), NULL;
  }
  cleanup_json json_t *result = original ? json_incref(original) : json_object();
  if (apply_retain_keys(run, result, patch) < 0)
    return NULL;
  if (apply_set_element_orders(run, result, patch, ctx) < 0)
    return NULL;
  const char *k;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach(patch, k, klen, v)
  {
    if (merge_member(run, result, ctx, k, klen, v) < 0)
      return NULL;
  }
  return steal_ptr(result);
}

json_t *
strategic_merge_patch_apply_with_schema(const json_t *doc, const json_t *patch,
                                        const char *definition, const struct smp_schema *schema,
                                        k8c_err *err)
{
  struct smp_run run = {.schema = schema, .err = err};
  if (!json_is_object(doc))
    return smp_bad_request(&run, "invalid JSON document"), NULL;
  if (json_is_null(patch))
    return json_deep_copy(doc);
  if (!json_is_object(patch))
    return smp_bad_request(&run, "json: cannot unmarshal non-object into Go value of type "
                                 "map[string]interface {}"),
           NULL;
  cleanup_json json_t *original = json_deep_copy(doc);
  cleanup_json json_t *patch_copy = json_deep_copy(patch);
  struct smp_ctx root = {.definition = definition};
  json_t *result = smp_merge_map(&run, original, patch_copy, root);
  if (result != NULL)
    strip_directive_keys(result);
  return result;
}
