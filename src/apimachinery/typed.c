/* typed.c — field sets, merge, compare and prune over JSON, driven by the schema.
 *
 * One small type descriptor (struct ty) is derived per step down the tree from the
 * schema field; the four walks share it and the list-item keys (k:/v:/i:), so a list's
 * semantics are decided in exactly one place (list_kind_of / item_key). A compare
 * builds whatever the old object lacks (all of a create) in one walk (added_value)
 * rather than inserting each path from the root. */
#include "apimachinery/typed.h"
#include "lib/decimal.h"

#include "apimachinery/fieldset.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ty_kind { TY_SCALAR, TY_STRUCT, TY_MAP, TY_LIST, TY_DEDUCED };
enum ty_list { LIST_ATOMIC, LIST_SET, LIST_MAP };

struct ty {
  enum ty_kind kind;
  bool atomic;           /* replaced as a whole (atomic struct/map/list) */
  enum ty_list list;     /* TY_LIST */
  const char *def;       /* TY_STRUCT: its definition; TY_MAP/TY_LIST: the elements' */
  enum schema_kind elem; /* TY_MAP/TY_LIST: the elements' kind */
  const char *keys;      /* LIST_MAP: comma-joined key field names */
};

/* Definitions with x-kubernetes-map-type: atomic, for list and map elements (schema.h
 * gives map-type only for fields). */
#define DEF(name)                                                                                  \
  {                                                                                                \
    name, sizeof name - 1                                                                          \
  }
static const struct {
  const char *name;
  size_t len; /* compared first: most definitions differ in length from every entry */
} atomic_definitions[] = {
    DEF("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
    DEF("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"),
    DEF("io.k8s.api.autoscaling.v1.CrossVersionObjectReference"),
    DEF("io.k8s.api.core.v1.ConfigMapKeySelector"),
    DEF("io.k8s.api.core.v1.EndpointAddress"),
    DEF("io.k8s.api.core.v1.EndpointPort"),
    DEF("io.k8s.api.core.v1.LocalObjectReference"),
    DEF("io.k8s.api.core.v1.NodeSelector"),
    DEF("io.k8s.api.core.v1.NodeSelectorTerm"),
    DEF("io.k8s.api.core.v1.ObjectFieldSelector"),
    DEF("io.k8s.api.core.v1.ObjectReference"),
    DEF("io.k8s.api.core.v1.ResourceFieldSelector"),
    DEF("io.k8s.api.core.v1.ScopeSelector"),
    DEF("io.k8s.api.core.v1.SecretKeySelector"),
    DEF("io.k8s.api.core.v1.SecretReference"),
    DEF("io.k8s.api.core.v1.TopologySelectorTerm"),
    DEF("io.k8s.api.core.v1.TypedLocalObjectReference"),
    DEF("io.k8s.api.discovery.v1.EndpointPort"),
    DEF("io.k8s.api.networking.v1.ServiceBackendPort"),
    DEF("io.k8s.api.rbac.v1.RoleRef"),
    DEF("io.k8s.api.rbac.v1.Subject"),
    DEF("io.k8s.api.admissionregistration.v1.MatchResources"),
    DEF("io.k8s.api.admissionregistration.v1.NamedRuleWithOperations"),
    DEF("io.k8s.api.admissionregistration.v1.ParamKind"),
    DEF("io.k8s.api.admissionregistration.v1.ParamRef"),
    DEF("io.k8s.api.admissionregistration.v1.Variable"),
};
#undef DEF

/* Key fields upstream defaults when an item omits them (ports are keyed by protocol). */
static const char *const defaulted_key_fields[][2] = {
    {"protocol", "\"TCP\""},
};

static const struct ty deduced_ty = {.kind = TY_DEDUCED};
static const struct ty scalar_ty = {.kind = TY_SCALAR};

/* ---- types ------------------------------------------------------------------------- */

static bool
definition_is_atomic(const char *def)
{
  size_t len = strlen(def);
  for (size_t i = 0; i < sizeof atomic_definitions / sizeof atomic_definitions[0]; i++)
    if (atomic_definitions[i].len == len && memcmp(def, atomic_definitions[i].name, len) == 0)
      return true;
  return false;
}

static struct ty
struct_ty(const char *def)
{
  if (def == NULL)
    return deduced_ty;
  return (struct ty){.kind = TY_STRUCT, .def = def, .atomic = definition_is_atomic(def)};
}

/* Lists without x-kubernetes-list-type follow the patch strategy: a merge key makes a
 * map, "merge" over scalars a set; anything else is atomic (structured-merge-diff's
 * reading of the OpenAPI). */
static struct ty
list_ty_of(const struct schema_field *sf)
{
  struct ty t = {.kind = TY_LIST, .def = sf->ref, .elem = sf->item_kind, .list = LIST_ATOMIC};
  if (sf->list_type != NULL) {
    if (strcmp(sf->list_type, "map") == 0) {
      t.list = LIST_MAP;
      t.keys = sf->list_map_keys ? sf->list_map_keys : sf->patch_merge_key;
    } else if (strcmp(sf->list_type, "set") == 0) {
      t.list = LIST_SET;
    }
  } else if (sf->patch_merge_key != NULL) {
    t.list = LIST_MAP;
    t.keys = sf->patch_merge_key;
  } else if (sf->patch_strategy != NULL && strstr(sf->patch_strategy, "merge") != NULL &&
             sf->item_kind == SCHEMA_SCALAR) {
    t.list = LIST_SET;
  }
  if (t.list == LIST_MAP && t.keys == NULL)
    t.list = LIST_ATOMIC;
  t.atomic = t.list == LIST_ATOMIC;
  return t;
}

static struct ty
field_ty(const struct typed_schema *schema, const struct ty *parent, const char *name, bool *known)
{
  *known = false;
  if (parent->kind == TY_MAP)
    return parent->elem == SCHEMA_SCALAR   ? scalar_ty
           : parent->elem == SCHEMA_OBJECT ? struct_ty(parent->def)
           : parent->elem == SCHEMA_ARRAY  ? (struct ty){.kind = TY_LIST, .atomic = true}
                                           : deduced_ty;
  if (parent->kind != TY_STRUCT)
    return deduced_ty;
  const struct schema_field *sf = schema->field_lookup(parent->def, name);
  if (sf == NULL)
    return deduced_ty;
  *known = true;
  switch (sf->kind) {
  case SCHEMA_SCALAR:
    return scalar_ty;
  case SCHEMA_OBJECT: {
    struct ty t = struct_ty(sf->ref);
    if (sf->map_type != NULL && t.kind == TY_STRUCT)
      t.atomic = strcmp(sf->map_type, "atomic") == 0;
    return t;
  }
  case SCHEMA_ARRAY:
    return list_ty_of(sf);
  case SCHEMA_MAP:
    return (struct ty){.kind = TY_MAP,
                       .def = sf->ref,
                       .elem = sf->item_kind,
                       .atomic = sf->map_type && strcmp(sf->map_type, "atomic") == 0};
  case SCHEMA_ANY:
  default:
    return deduced_ty;
  }
}

static struct ty
item_ty(const struct ty *list)
{
  switch (list->elem) {
  case SCHEMA_SCALAR:
    return scalar_ty;
  case SCHEMA_OBJECT:
    return struct_ty(list->def);
  case SCHEMA_ARRAY:
    return (struct ty){.kind = TY_LIST, .atomic = true};
  default:
    return deduced_ty;
  }
}

/* A deduced type made concrete by the value's JSON shape. */
static struct ty
resolve(const struct ty *t, const json_t *value)
{
  if (t->kind != TY_DEDUCED)
    return *t;
  if (json_is_object(value))
    return (struct ty){.kind = TY_MAP, .elem = SCHEMA_ANY};
  if (json_is_array(value))
    return (struct ty){.kind = TY_LIST, .atomic = true};
  return scalar_ty;
}

/* true if the value is walked into (granular struct/map/list of matching JSON shape). */
static bool
is_granular(const struct ty *t, const json_t *value)
{
  if (t->atomic || value == NULL)
    return false;
  if (t->kind == TY_STRUCT || t->kind == TY_MAP)
    return json_is_object(value);
  if (t->kind == TY_LIST)
    return json_is_array(value);
  return false;
}

/* ---- list items ---------------------------------------------------------------------- */

/* Appends value the way jansson's compact encoder prints it, for strings needing no
 * escapes, integers, booleans and null; false (nothing appended) for anything else. */
static bool
append_plain_json(buf *out, const json_t *value)
{
  switch (json_typeof(value)) {
  case JSON_STRING: {
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    for (size_t i = 0; i < len; i++)
      if ((unsigned char)text[i] < 0x20 || text[i] == '"' || text[i] == '\\')
        return false;
    buf_append(out, "\"", 1);
    buf_append(out, text, len);
    buf_append(out, "\"", 1);
    return true;
  }
  case JSON_INTEGER: {
    char digits[DECIMAL_INT64_MAX];
    buf_append(out, digits, decimal_int64(json_integer_value(value), digits));
    return true;
  }
  case JSON_TRUE:
    buf_puts(out, "true");
    return true;
  case JSON_FALSE:
    buf_puts(out, "false");
    return true;
  case JSON_NULL:
    buf_puts(out, "null");
    return true;
  default:
    return false;
  }
}

static bool
is_plain_name(const char *name)
{
  for (; *name; name++)
    if ((unsigned char)*name < 0x20 || *name == '"' || *name == '\\')
      return false;
  return true;
}

/* One key field of a keyed list item: its value, or the JSON text upstream defaults it to. */
struct key_field {
  char name[128];
  const json_t *value;
  const char *default_text;
};

/* The key fields of `item` present or defaulted, in the order of list->keys, a repeated
 * name keeping its last value. Returns how many (at most `cap`). */
static size_t
key_fields_of(const struct ty *list, const json_t *item, struct key_field *fields, size_t cap)
{
  size_t n = 0;
  const char *p = list->keys;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0 && len < sizeof fields[0].name) {
      struct key_field f = {.value = NULL, .default_text = NULL};
      memcpy(f.name, p, len);
      f.name[len] = '\0';
      f.value = json_object_get(item, f.name);
      for (size_t i = 0;
           f.value == NULL && i < sizeof defaulted_key_fields / sizeof defaulted_key_fields[0]; i++)
        if (strcmp(f.name, defaulted_key_fields[i][0]) == 0)
          f.default_text = defaulted_key_fields[i][1];
      if (f.value != NULL || f.default_text != NULL) {
        size_t at = 0;
        while (at < n && strcmp(fields[at].name, f.name) != 0)
          at++;
        if (at < cap) {
          fields[at] = f;
          if (at == n)
            n++;
        }
      }
    }
    p += len;
    if (*p == ',')
      p++;
  }
  return n;
}

/* "k:" + the key fields as compact JSON with sorted names, built directly; NULL when a
 * value is not plain (see append_plain_json) and jansson must encode it. */
static char *
keyed_key_direct(struct key_field *fields, size_t n)
{
  for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
    for (size_t j = i; j > 0 && strcmp(fields[j - 1].name, fields[j].name) > 0; j--) {
      struct key_field tmp = fields[j];
      fields[j] = fields[j - 1];
      fields[j - 1] = tmp;
    }
  buf out;
  buf_init(&out);
  buf_puts(&out, "k:{");
  for (size_t i = 0; i < n; i++) {
    if (!is_plain_name(fields[i].name)) {
      buf_free(&out);
      return NULL;
    }
    if (i)
      buf_append(&out, ",", 1);
    buf_append(&out, "\"", 1);
    buf_puts(&out, fields[i].name);
    buf_append(&out, "\":", 2);
    if (fields[i].value == NULL) {
      buf_puts(&out, fields[i].default_text);
    } else if (!append_plain_json(&out, fields[i].value)) {
      buf_free(&out);
      return NULL;
    }
  }
  buf_puts(&out, "}");
  return buf_steal(&out, NULL);
}

/* The path element of item `index` of a granular list (caller frees). */
static char *
item_key(const struct ty *list, const json_t *item, size_t index)
{
  if (list->list == LIST_SET) {
    buf out;
    buf_init(&out);
    buf_puts(&out, "v:");
    if (append_plain_json(&out, item))
      return buf_steal(&out, NULL);
    buf_free(&out);
    return fieldset_key_value(item);
  }
  if (!json_is_object(item))
    return fieldset_key_index(index);
  struct key_field fields[16];
  size_t n = key_fields_of(list, item, fields, sizeof fields / sizeof fields[0]);
  if (n == 0)
    return fieldset_key_index(index);
  char *key = keyed_key_direct(fields, n);
  if (key != NULL)
    return key;
  json_t *object = json_object();
  for (size_t i = 0; i < n; i++)
    json_object_set_new(object, fields[i].name,
                        fields[i].value
                            ? json_incref((json_t *)fields[i].value)
                            : json_loads(fields[i].default_text, JSON_DECODE_ANY, NULL));
  key = fieldset_key_keyed(object);
  json_decref(object);
  return key;
}

/* A granular list's items with their keys; later duplicates of a key are dropped. */
struct keyed_items {
  size_t n;
  char **keys;
  json_t **items;
};

static void
keyed_items_init(struct keyed_items *k, const struct ty *list, const json_t *array)
{
  size_t size = json_array_size(array);
  k->n = 0;
  k->keys = size ? xmalloc(size * sizeof *k->keys) : NULL;
  k->items = size ? xmalloc(size * sizeof *k->items) : NULL;
  for (size_t i = 0; i < size; i++) {
    json_t *item = json_array_get(array, i);
    char *key = item_key(list, item, i);
    bool duplicate = false;
    for (size_t j = 0; j < k->n && !duplicate; j++)
      duplicate = strcmp(k->keys[j], key) == 0;
    if (duplicate) {
      free(key);
      continue;
    }
    k->keys[k->n] = key;
    k->items[k->n] = item;
    k->n++;
  }
}

static ssize_t
keyed_items_find(const struct keyed_items *k, const char *key)
{
  for (size_t i = 0; i < k->n; i++)
    if (strcmp(k->keys[i], key) == 0)
      return (ssize_t)i;
  return -1;
}

static void
keyed_items_free(struct keyed_items *k)
{
  for (size_t i = 0; i < k->n; i++)
    free(k->keys[i]);
  free(k->keys);
  free(k->items);
}

/* ---- field sets ---------------------------------------------------------------------- */

static void attach(json_t *parent, const char *key, json_t *child, bool member);

/* Fills `node` with the paths below value; returns true if value's own path is a member. */
static bool
set_of_value(const struct typed_schema *schema, const json_t *value, const struct ty *declared,
             json_t *node)
{
  struct ty t = resolve(declared, value);
  if (t.kind == TY_SCALAR)
    return true;
  if (json_is_null(value))
    return false;
  if (!is_granular(&t, value))
    return true;
  if (t.kind == TY_LIST) {
    struct ty element = item_ty(&t);
    for (size_t i = 0; i < json_array_size(value); i++) {
      const json_t *item = json_array_get(value, i);
      cleanup_free char *key = item_key(&t, item, i);
      json_t *child = json_object();
      set_of_value(schema, item, &element, child);
      attach(node, key, child, true);
    }
    return false;
  }
  const char *name;
  json_t *child_value;
  json_object_foreach ((json_t *)value, name, child_value) {
    bool known;
    struct ty child_ty = field_ty(schema, &t, name, &known);
    json_t *child = json_object();
    bool member = set_of_value(schema, child_value, &child_ty, child);
    cleanup_free char *key = fieldset_key_field(name);
    attach(node, key, child, member || !known);
  }
  return false;
}

/* Puts child under parent[key] (merging with what is there) if it is a member or has
 * children; consumes child. */
static void
attach(json_t *parent, const char *key, json_t *child, bool member)
{
  if (!fieldset_node_settle(child, member)) {
    json_decref(child);
    return;
  }
  json_t *existing = json_object_get(parent, key);
  if (existing == NULL) {
    json_object_set_new(parent, key, child);
    return;
  }
  bool was_member = fieldset_node_is_member(existing);
  fieldset_union(existing, child);
  fieldset_node_settle(existing, was_member || member);
  json_decref(child);
}

json_t *
typed_field_set(const struct typed_schema *schema, const json_t *obj, const char *definition)
{
  json_t *set = json_object();
  struct ty root = struct_ty(definition);
  set_of_value(schema, obj, &root, set);
  json_object_del(set, ".");
  return set;
}

/* ---- merge --------------------------------------------------------------------------- */

static json_t *merge_value(const struct typed_schema *schema, const json_t *live,
                           const json_t *applied, const struct ty *declared);

static json_t *
merge_lists(const struct typed_schema *schema, const json_t *live, const json_t *applied,
            const struct ty *t)
{
  struct keyed_items l, r;
  keyed_items_init(&l, t, live);
  keyed_items_init(&r, t, applied);
  struct ty element = item_ty(t);
  json_t *out = json_array();
  size_t li = 0, ri = 0;
  /* Applied items come in applied order; live-only items keep their place among them. */
  while (li < l.n || ri < r.n) {
    if (li < l.n) {
      ssize_t rj = keyed_items_find(&r, l.keys[li]);
      if (rj < 0) {
        json_array_append_new(out, json_deep_copy(l.items[li++]));
        continue;
      }
      if ((size_t)rj < ri) { /* already emitted with the applied item */
        li++;
        continue;
      }
      if ((size_t)rj == ri) {
        json_array_append_new(out, merge_value(schema, l.items[li], r.items[ri], &element));
        li++;
        ri++;
        continue;
      }
    }
    if (ri < r.n) {
      ssize_t lj = keyed_items_find(&l, r.keys[ri]);
      json_array_append_new(
          out, merge_value(schema, lj >= 0 ? l.items[lj] : NULL, r.items[ri], &element));
      ri++;
      continue;
    }
    li++;
  }
  keyed_items_free(&l);
  keyed_items_free(&r);
  return out;
}

static json_t *
merge_value(const struct typed_schema *schema, const json_t *live, const json_t *applied,
            const struct ty *declared)
{
  if (applied == NULL)
    return json_deep_copy(live);
  if (live == NULL)
    return json_deep_copy(applied);
  struct ty t = resolve(declared, applied);
  if (!is_granular(&t, applied) || !is_granular(&t, live))
    return json_deep_copy(applied);
  if (t.kind == TY_LIST)
    return merge_lists(schema, live, applied, &t);
  json_t *out = json_object();
  const char *name;
  json_t *value;
  json_object_foreach ((json_t *)live, name, value) {
    json_t *applied_value = json_object_get(applied, name);
    if (applied_value == NULL) {
      json_object_set_new(out, name, json_deep_copy(value));
      continue;
    }
    bool known;
    struct ty child_ty = field_ty(schema, &t, name, &known);
    json_object_set_new(out, name, merge_value(schema, value, applied_value, &child_ty));
  }
  json_object_foreach ((json_t *)applied, name, value) {
    if (json_object_get(live, name) == NULL)
      json_object_set_new(out, name, json_deep_copy(value));
  }
  return out;
}

json_t *
typed_merge(const struct typed_schema *schema, const json_t *live, const json_t *applied,
            const char *definition)
{
  struct ty root = struct_ty(definition);
  json_t *out = merge_value(schema, live, applied, &root);
  return out ? out : json_object();
}

/* ---- compare ------------------------------------------------------------------------- */

struct compare {
  const struct typed_schema *schema;
  json_t *changed;
  json_t *removed;
  char **path;
  size_t depth;
  size_t cap;
};

static void
path_push(struct compare *c, char *elem)
{
  if (c->depth == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    c->path = xrealloc(c->path, c->cap * sizeof *c->path);
  }
  c->path[c->depth++] = elem;
}

static void
path_pop(struct compare *c)
{
  free(c->path[--c->depth]);
}

static void
record(struct compare *c, json_t *set)
{
  fieldset_insert(set, (const char *const *)c->path, c->depth);
}

static bool
empty_or_null(const json_t *v)
{
  return v == NULL || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
         (json_is_array(v) && json_array_size(v) == 0);
}

static void compare_value(struct compare *c, const json_t *old, const json_t *new_value,
                          const struct ty *declared);

/* add_child for a key parent does not have yet. */
static void
add_new_child(json_t *parent, const char *key, size_t key_len, json_t *child, bool member)
{
  if (json_object_size(child) == 0) {
    if (member)
      json_object_setn_new_nocheck(parent, key, key_len, child);
    else
      json_decref(child);
    return;
  }
  if (member)
    json_object_setn_new_nocheck(child, ".", 1, json_object());
  json_object_setn_new_nocheck(parent, key, key_len, child);
}

/* Puts the built node `child` under parent[key] as record() would have left it: kept if
 * it is a member or has children, members with children carrying "." after them.
 * Consumes child. */
static void
add_child(json_t *parent, const char *key, json_t *child, bool member)
{
  json_t *existing = json_object_get(parent, key);
  if (existing != NULL) { /* only for field names equal up to an embedded NUL */
    bool was_member = fieldset_node_is_member(existing);
    fieldset_union(existing, child);
    fieldset_node_settle(existing, was_member || member);
    json_decref(child);
    return;
  }
  add_new_child(parent, key, strlen(key), child, member);
}

/* compare_value for a path old does not have (everything below it is added), building
 * the path's part of `changed` in one walk into `node` instead of inserting each leaf
 * from the root. Returns whether the path itself is recorded. depth is the path's
 * length. Must stay equivalent to compare_value with old == NULL. */
static bool
added_value(const struct typed_schema *schema, const json_t *value, const struct ty *declared,
            json_t *node, size_t depth)
{
  struct ty t = resolve(declared, value);
  bool granular = is_granular(&t, value) || json_is_null(value);
  if (t.kind == TY_SCALAR || t.atomic || !granular || empty_or_null(value))
    return true;
  if (t.kind == TY_LIST) {
    struct keyed_items items;
    keyed_items_init(&items, &t, value);
    struct ty element = item_ty(&t);
    for (size_t i = 0; i < items.n; i++) {
      json_t *child = json_object();
      added_value(schema, items.items[i], &element, child, depth + 1);
      /* an added item is itself a path; keys are unique (keyed_items_init drops repeats)
       * and node starts empty, so nothing can be there yet */
      add_new_child(node, items.keys[i], strlen(items.keys[i]), child, true);
    }
    keyed_items_free(&items);
  } else {
    /* node starts empty and member names are unique, so a child can be added without
     * looking for an existing one, until a name with an embedded NUL (cut short as a C
     * string, so it may meet another) has been seen. */
    bool may_meet = false;
    for (void *it = json_object_iter((json_t *)value); it != NULL;
         it = json_object_iter_next((json_t *)value, it)) {
      const char *name = json_object_iter_key(it);
      size_t name_len = json_object_iter_key_len(it);
      const json_t *child_value = json_object_iter_value(it);
      json_t *child = json_object();
      /* A scalar, null or empty value is a member whatever its type says (the first
       * return above): no schema lookup for it. */
      bool member = true;
      if (!empty_or_null(child_value) &&
          (json_is_object(child_value) || json_is_array(child_value))) {
        bool known;
        struct ty child_ty = field_ty(schema, &t, name, &known);
        member = added_value(schema, child_value, &child_ty, child, depth + 1);
      }
      char small[128];
      size_t len = strlen(name);
      may_meet |= len != name_len;
      if (len + 3 <= sizeof small) {
        small[0] = 'f';
        small[1] = ':';
        memcpy(small + 2, name, len + 1);
        if (may_meet)
          add_child(node, small, child, member);
        else
          add_new_child(node, small, len + 2, child, member);
      } else {
        cleanup_free char *key = fieldset_key_field(name);
        if (may_meet)
          add_child(node, key, child, member);
        else
          add_new_child(node, key, strlen(key), child, member);
      }
    }
  }
  return t.kind != TY_STRUCT && depth > 0;
}

/* Records the subtree `sub` (consumed) built by added_value at the current path: the
 * path's ancestors are created as fieldset_insert creates them, and only if anything
 * is recorded. */
static void
graft_added(struct compare *c, json_t *sub, bool member)
{
  if (c->depth == 0) { /* the root: nothing is recorded yet, sub is the whole set */
    json_decref(c->changed);
    c->changed = sub;
    return;
  }
  if (json_object_size(sub) == 0 && !member) {
    json_decref(sub);
    return;
  }
  json_t *node = c->changed;
  for (size_t i = 0; i + 1 < c->depth; i++) {
    json_t *child = json_object_get(node, c->path[i]);
    if (child == NULL) {
      child = json_object();
      json_object_set_new(node, c->path[i], child);
    } else if (json_object_size(child) == 0) {
      json_object_set_new(child, ".", json_object());
    }
    node = child;
  }
  add_child(node, c->path[c->depth - 1], sub, member);
}

static void
compare_lists(struct compare *c, const json_t *old, const json_t *new_value, const struct ty *t)
{
  struct keyed_items l = {0}, r = {0};
  if (json_is_array(old))
    keyed_items_init(&l, t, old);
  if (json_is_array(new_value))
    keyed_items_init(&r, t, new_value);
  struct ty element = item_ty(t);
  /* an item that appears or disappears is itself a path, whatever its type */
  for (size_t i = 0; i < l.n; i++) {
    ssize_t j = keyed_items_find(&r, l.keys[i]);
    path_push(c, xstrdup(l.keys[i]));
    compare_value(c, l.items[i], j >= 0 ? r.items[j] : NULL, &element);
    if (j < 0)
      record(c, c->removed);
    path_pop(c);
  }
  for (size_t j = 0; j < r.n; j++) {
    if (keyed_items_find(&l, r.keys[j]) >= 0)
      continue;
    path_push(c, xstrdup(r.keys[j]));
    compare_value(c, NULL, r.items[j], &element);
    record(c, c->changed);
    path_pop(c);
  }
  keyed_items_free(&l);
  keyed_items_free(&r);
}

static void
compare_value(struct compare *c, const json_t *old, const json_t *new_value,
              const struct ty *declared)
{
  if (old == new_value) /* one shared subtree (or both absent): nothing changed */
    return;
  if (old == NULL && new_value != NULL) {
    json_t *sub = json_object();
    bool member = added_value(c->schema, new_value, declared, sub, c->depth);
    graft_added(c, sub, member);
    return;
  }
  struct ty t = resolve(declared, new_value ? new_value : old);
  bool shapes_match = (old == NULL || new_value == NULL || json_is_null(old) ||
                       json_is_null(new_value) || json_typeof(old) == json_typeof(new_value));
  bool granular = (old == NULL || is_granular(&t, old) || json_is_null(old)) &&
                  (new_value == NULL || is_granular(&t, new_value) || json_is_null(new_value));
  bool leaf = t.kind == TY_SCALAR || t.atomic || !shapes_match || !granular ||
              (empty_or_null(old) && empty_or_null(new_value));
  if (leaf) {
    if (old == NULL)
      record(c, c->changed);
    else if (new_value == NULL)
      record(c, c->removed);
    else if (!json_equal((json_t *)old, (json_t *)new_value))
      record(c, c->changed);
    return;
  }
  if (t.kind == TY_LIST) {
    compare_lists(c, old, new_value, &t);
  } else {
    const char *name;
    json_t *value;
    bool known;
    if (json_is_object(old)) {
      json_object_foreach ((json_t *)old, name, value) {
        struct ty child_ty = field_ty(c->schema, &t, name, &known);
        path_push(c, fieldset_key_field(name));
        compare_value(c, value, json_object_get(new_value, name), &child_ty);
        path_pop(c);
      }
    }
    if (json_is_object(new_value)) {
      json_object_foreach ((json_t *)new_value, name, value) {
        if (json_object_get(old, name) != NULL)
          continue;
        struct ty child_ty = field_ty(c->schema, &t, name, &known);
        path_push(c, fieldset_key_field(name));
        compare_value(c, NULL, value, &child_ty);
        path_pop(c);
      }
    }
  }
  /* A map or list that appears or disappears is itself a path; a struct field's existence
   * is implied by its fields. */
  if (t.kind == TY_STRUCT || c->depth == 0)
    return;
  if (old == NULL)
    record(c, c->changed);
  else if (new_value == NULL)
    record(c, c->removed);
}

void
typed_compare(const struct typed_schema *schema, const json_t *old, const json_t *new_obj,
              const char *definition, json_t **changed, json_t **removed)
{
  struct compare c = {.schema = schema, .changed = json_object(), .removed = json_object()};
  struct ty root = struct_ty(definition);
  if (old != NULL || new_obj != NULL)
    compare_value(&c, old, new_obj, &root);
  free(c.path);
  *changed = c.changed;
  *removed = c.removed;
}

/* ---- prune --------------------------------------------------------------------------- */

static void prune_value(const struct typed_schema *schema, json_t *value, const struct ty *declared,
                        const json_t *last, const json_t *owned, size_t depth);

/* Decides for one child of `last`: returns true if the item must be removed; recurses
 * into it when only part of it goes. */
static bool
prune_child(const struct typed_schema *schema, json_t *child, const struct ty *child_ty,
            const json_t *last_child, const json_t *owned_child, bool named_field, size_t depth)
{
  if (owned_child == NULL && (fieldset_node_is_member(last_child) || named_field))
    return true;
  /* kept (owned, or an ancestor of something owned); what is below may still go */
  if (fieldset_node_has_children(last_child))
    prune_value(schema, child, child_ty, last_child, owned_child, depth + 1);
  return false;
}

static void
prune_value(const struct typed_schema *schema, json_t *value, const struct ty *declared,
            const json_t *last, const json_t *owned, size_t depth)
{
  struct ty t = resolve(declared, value);
  if (!is_granular(&t, value))
    return;
  if (t.kind == TY_LIST) {
    struct ty element = item_ty(&t);
    for (size_t i = json_array_size(value); i-- > 0;) {
      json_t *item = json_array_get(value, i);
      cleanup_free char *key = item_key(&t, item, i);
      const json_t *last_child = json_object_get(last, key);
      if (last_child == NULL)
        continue;
      if (prune_child(schema, item, &element, last_child, json_object_get(owned, key), false,
                      depth))
        json_array_remove(value, i);
    }
    return;
  }
  const char *key;
  json_t *last_child;
  json_object_foreach ((json_t *)last, key, last_child) {
    if (strncmp(key, "f:", 2) != 0)
      continue;
    const char *name = key + 2;
    json_t *child = json_object_get(value, name);
    if (child == NULL)
      continue;
    if (depth == 0 && (strcmp(name, "apiVersion") == 0 || strcmp(name, "kind") == 0 ||
                       strcmp(name, "metadata") == 0)) {
      /* identity fields stay; only what is below metadata can go */
      if (strcmp(name, "metadata") == 0 && fieldset_node_has_children(last_child)) {
        bool known;
        struct ty child_ty = field_ty(schema, &t, name, &known);
        prune_value(schema, child, &child_ty, last_child, json_object_get(owned, key), depth + 1);
      }
      continue;
    }
    bool known;
    struct ty child_ty = field_ty(schema, &t, name, &known);
    if (prune_child(schema, child, &child_ty, last_child, json_object_get(owned, key),
                    t.kind == TY_STRUCT && known, depth))
      json_object_del(value, name);
  }
}

void
typed_prune(const struct typed_schema *schema, json_t *obj, const json_t *last, const json_t *owned,
            const char *definition)
{
  struct ty root = struct_ty(definition);
  prune_value(schema, obj, &root, last, owned, 0);
}
