/* fieldset.c — union, difference, intersection and walks over FieldsV1 trees.
 *
 * Every operation keeps nodes canonical: a leaf member is `{}`, a member with children
 * carries ".", and a node that is neither is removed from its parent. Copies go through
 * fieldset_copy, which skips jansson's per-node loop check (a set is a tree of objects). */
#include "apimachinery/fieldset.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER_KEY "."

static bool
is_member_key(const char *key)
{
  return key[0] == '.' && key[1] == '\0';
}

bool
fieldset_node_is_member(const json_t *node)
{
  return json_object_size(node) == 0 || json_object_get(node, MEMBER_KEY) != NULL;
}

bool
fieldset_node_has_children(const json_t *node)
{
  size_t size = json_object_size(node);
  if (json_object_get(node, MEMBER_KEY) != NULL)
    size--;
  return size > 0;
}

bool
fieldset_node_settle(json_t *node, bool member)
{
  if (!fieldset_node_has_children(node)) {
    json_object_del(node, MEMBER_KEY);
    return member;
  }
  if (member) {
    if (json_object_get(node, MEMBER_KEY) == NULL)
      json_object_set_new(node, MEMBER_KEY, json_object());
  } else {
    json_object_del(node, MEMBER_KEY);
  }
  return true;
}

void
fieldset_insert(json_t *set, const char *const *elems, size_t n)
{
  json_t *node = set;
  for (size_t i = 0; i < n; i++) {
    json_t *child = json_object_get(node, elems[i]);
    bool last = i + 1 == n;
    if (child == NULL) {
      child = json_object(); /* `{}`: a member if last, else it gets a child next round */
      json_object_set_new(node, elems[i], child);
    } else if (last) {
      fieldset_node_settle(child, true);
    } else if (json_object_size(child) == 0) {
      /* a leaf member about to get children: keep its membership explicit */
      json_object_set_new(child, MEMBER_KEY, json_object());
    }
    node = child;
  }
}

json_t *
fieldset_copy(const json_t *set)
{
  if (!json_is_object(set))
    return json_deep_copy(set);
  json_t *out = json_object();
  const char *key;
  json_t *child;
  json_object_foreach ((json_t *)set, key, child) {
    size_t len = json_object_iter_key_len(json_object_key_to_iter(key));
    json_object_setn_new_nocheck(out, key, len, fieldset_copy(child));
  }
  return out;
}

void
fieldset_union(json_t *dst, const json_t *src)
{
  const char *key;
  json_t *src_child;
  json_object_foreach ((json_t *)src, key, src_child) {
    if (is_member_key(key))
      continue;
    json_t *dst_child = json_object_get(dst, key);
    if (dst_child == NULL) {
      json_object_set_new(dst, key, fieldset_copy(src_child));
      continue;
    }
    bool member = fieldset_node_is_member(dst_child) || fieldset_node_is_member(src_child);
    fieldset_union(dst_child, src_child);
    fieldset_node_settle(dst_child, member);
  }
}

void
fieldset_subtract(json_t *dst, const json_t *src)
{
  const char *key;
  json_t *src_child;
  json_object_foreach ((json_t *)src, key, src_child) {
    if (is_member_key(key))
      continue;
    json_t *dst_child = json_object_get(dst, key);
    if (dst_child == NULL)
      continue;
    bool member = fieldset_node_is_member(dst_child) && !fieldset_node_is_member(src_child);
    if (fieldset_node_has_children(src_child) && fieldset_node_has_children(dst_child))
      fieldset_subtract(dst_child, src_child);
    if (!fieldset_node_settle(dst_child, member))
      json_object_del(dst, key);
  }
}

bool
fieldset_subtract_changes(const json_t *dst, const json_t *src)
{
  const char *key;
  json_t *src_child;
  json_object_foreach ((json_t *)src, key, src_child) {
    if (is_member_key(key))
      continue;
    const json_t *dst_child = json_object_get(dst, key);
    if (dst_child == NULL)
      continue;
    bool member = fieldset_node_is_member(dst_child) && !fieldset_node_is_member(src_child);
    bool has_children = fieldset_node_has_children(dst_child);
    if (has_children && fieldset_node_has_children(src_child) &&
        fieldset_subtract_changes(dst_child, src_child))
      return true;
    /* what fieldset_node_settle(dst_child, member) would do to an unchanged child */
    bool has_member_key = json_object_get(dst_child, MEMBER_KEY) != NULL;
    if (!has_children ? (has_member_key || !member) : (member != has_member_key))
      return true;
  }
  return false;
}

json_t *
fieldset_intersect(const json_t *a, const json_t *b)
{
  json_t *out = json_object();
  const char *key;
  json_t *a_child;
  json_object_foreach ((json_t *)a, key, a_child) {
    if (is_member_key(key))
      continue;
    json_t *b_child = json_object_get(b, key);
    if (b_child == NULL)
      continue;
    bool member = fieldset_node_is_member(a_child) && fieldset_node_is_member(b_child);
    json_t *child = fieldset_node_has_children(a_child) && fieldset_node_has_children(b_child)
                        ? fieldset_intersect(a_child, b_child)
                        : json_object();
    if (fieldset_node_settle(child, member))
      json_object_set_new(out, key, child);
    else
      json_decref(child);
  }
  return out;
}

bool
fieldset_is_empty(const json_t *set)
{
  return !fieldset_node_has_children(set);
}

/* ---- walking ---------------------------------------------------------------------- */

struct walk {
  const char **elems;
  size_t depth;
  size_t cap;
  fieldset_visit_fn fn;
  void *ctx;
};

static int
compare_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
walk_node(struct walk *w, const json_t *node)
{
  size_t count = json_object_size(node);
  if (count == 0)
    return;
  const char **keys = xmalloc(count * sizeof *keys);
  size_t n = 0;
  const char *key;
  json_t *child;
  json_object_foreach ((json_t *)node, key, child) {
    if (!is_member_key(key))
      keys[n++] = key;
  }
  qsort(keys, n, sizeof *keys, compare_keys);
  if (w->depth + 1 > w->cap) {
    w->cap = w->cap ? w->cap * 2 : 16;
    w->elems = xrealloc(w->elems, w->cap * sizeof *w->elems);
  }
  for (size_t i = 0; i < n; i++) {
    child = json_object_get(node, keys[i]);
    w->elems[w->depth++] = keys[i];
    if (fieldset_node_is_member(child))
      w->fn(w->elems, w->depth, w->ctx);
    walk_node(w, child);
    w->depth--;
  }
  free(keys);
}

void
fieldset_for_each(const json_t *set, fieldset_visit_fn fn, void *ctx)
{
  struct walk w = {.fn = fn, .ctx = ctx};
  walk_node(&w, set);
  free(w.elems);
}

/* ---- keys and printing -------------------------------------------------------------- */

char *
fieldset_path_string(const char *const *elems, size_t n)
{
  buf out;
  buf_init(&out);
  for (size_t i = 0; i < n; i++) {
    const char *e = elems[i];
    if (strncmp(e, "f:", 2) == 0) {
      buf_printf(&out, ".%s", e + 2);
    } else if (strncmp(e, "v:", 2) == 0) {
      buf_printf(&out, "[=%s]", e + 2);
    } else if (strncmp(e, "i:", 2) == 0) {
      buf_printf(&out, "[%s]", e + 2);
    } else if (strncmp(e, "k:", 2) == 0) {
      json_t *fields = json_loads(e + 2, 0, NULL);
      const char *name;
      json_t *value;
      bool first = true;
      buf_puts(&out, "[");
      json_object_foreach (fields, name, value) {
        char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        buf_printf(&out, "%s%s=%s", first ? "" : ",", name, text ? text : "null");
        free(text);
        first = false;
      }
      buf_puts(&out, "]");
      json_decref(fields);
    } else {
      buf_printf(&out, ".%s", e);
    }
  }
  if (out.len == 0)
    return xstrdup("");
  return buf_steal(&out, NULL);
}

char *
fieldset_key_field(const char *name)
{
  size_t len = strlen(name);
  char *key = xmalloc(len + 3);
  key[0] = 'f';
  key[1] = ':';
  memcpy(key + 2, name, len + 1);
  return key;
}

static char *
prefixed_json(const char *prefix, const json_t *value, size_t flags)
{
  char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | flags);
  if (text == NULL)
    abort(); /* only on allocation failure: values here are always encodable */
  char *key = xasprintf("%s%s", prefix, text);
  free(text);
  return key;
}

char *
fieldset_key_keyed(const json_t *key_fields)
{
  return prefixed_json("k:", key_fields, JSON_SORT_KEYS);
}

char *
fieldset_key_value(const json_t *value)
{
  return prefixed_json("v:", value, JSON_SORT_KEYS);
}

char *
fieldset_key_index(size_t index)
{
  return xasprintf("i:%zu", index);
}
