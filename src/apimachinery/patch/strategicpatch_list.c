/* strategicpatch_list.c — strategic merge patch: lists with the "merge" strategy.
 *
 * Lists of primitives are unioned (or reduced by $deleteFromPrimitiveList); lists of
 * objects merge item by item on the merge key, honouring $patch items. The result is
 * then ordered as upstream does: patch items in patch order, server-only items in
 * server order, interleaved by their positions in the live list. */
#include "apimachinery/patch/strategicpatch_internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

static int
no_merge_key_error(const struct smp_run *run, const json_t *item, const char *merge_key)
{
  cleanup_free char *d = smp_describe(item);
  return smp_plain_error(run, "map: %s does not contain declared merge key: %s", d,
                         merge_key ? merge_key : "");
}

static int
not_a_map_error(const struct smp_run *run, const json_t *item)
{
  return smp_plain_error(run, "expected a map[string]interface {}, but received a %s",
                         json_is_array(item) ? "[]interface {}" : "scalar");
}

long
smp_find_by_key(const struct smp_run *run, const json_t *list, const char *merge_key,
                const json_t *value)
{
  size_t i;
  json_t *item;
  json_array_foreach (list, i, item) {
    if (!json_is_object(item))
      return smp_plain_error(run, "value for key %zu is not a map.", i), -2;
    json_t *candidate = json_object_get(item, merge_key ? merge_key : "");
    if (candidate != NULL && smp_go_equal(candidate, value))
      return (long)i;
  }
  return -1;
}

int
smp_element_kind(const struct smp_run *run, const json_t *a, const json_t *b,
                 enum smp_elem_kind *kind)
{
  const json_t *lists[2] = {a, b};
  const json_t *first = NULL;
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *item;
    json_array_foreach (lists[l], i, item) {
      if (first == NULL) {
        first = item;
        if (json_is_array(item))
          return smp_unprocessable(run);
        if (json_is_null(item))
          return smp_plain_error(run, "list element types are not identical");
        continue;
      }
      bool same = json_typeof(item) == json_typeof(first) ||
                  (json_is_boolean(item) && json_is_boolean(first));
      if (!same) {
        cleanup_free char *ad = smp_describe(a);
        cleanup_free char *bd = smp_describe(b);
        return smp_plain_error(run, "list element types are not identical: [%s %s]", ad, bd);
      }
    }
  }
  if (first == NULL)
    return smp_plain_error(run, "no elements in any of the given slices");
  *kind = json_is_object(first) ? SMP_ELEM_MAP : SMP_ELEM_SCALAR;
  return 0;
}

/* The position of item's merge-key value (maps) or of item itself (scalars) in
 * order, -1 if absent: upstream's index(). */
static long
position_in(const json_t *order, const json_t *item, const char *merge_key, enum smp_elem_kind kind)
{
  const json_t *want = item;
  if (kind == SMP_ELEM_MAP)
    want = json_is_object(item) ? json_object_get(item, merge_key ? merge_key : "") : NULL;
  size_t i;
  json_t *candidate;
  json_array_foreach (order, i, candidate) {
    const json_t *have = candidate;
    if (kind == SMP_ELEM_MAP)
      have =
          json_is_object(candidate) ? json_object_get(candidate, merge_key ? merge_key : "") : NULL;
    if (smp_go_equal(want, have))
      return (long)i;
  }
  return -1;
}

int
smp_partition(const struct smp_run *run, const json_t *list, const json_t *by,
              const char *merge_key, json_t **present, json_t **absent)
{
  *present = json_array();
  *absent = json_array();
  size_t i;
  json_t *item;
  json_array_foreach (list, i, item) {
    bool found;
    if (merge_key == NULL) {
      found = position_in(by, item, NULL, SMP_ELEM_SCALAR) >= 0;
    } else {
      if (!json_is_object(item))
        return not_a_map_error(run, item);
      json_t *value = json_object_get(item, merge_key);
      if (value == NULL)
        return no_merge_key_error(run, item, merge_key);
      long at = smp_find_by_key(run, by, merge_key, value);
      if (at == -2)
        return -1;
      found = at >= 0;
    }
    json_array_append(found ? *present : *absent, item);
  }
  return 0;
}

struct ranked {
  json_t *item;
  long rank;  /* position in the order list, -1 if absent */
  size_t pos; /* position before sorting, for stability */
};

static int
compare_ranked(const void *a, const void *b)
{
  const struct ranked *x = a, *y = b;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

/* Upstream's stable sort by position in order, where an item absent from order
 * counts as "less" than anything: a stable sort when all are present, else Go's
 * insertion sort with that inconsistent comparison. */
static void
sort_by_order(struct ranked *r, size_t n)
{
  bool all_present = true;
  for (size_t i = 0; i < n; i++)
    all_present = all_present && r[i].rank >= 0;
  if (all_present) {
    qsort(r, n, sizeof *r, compare_ranked);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    for (size_t j = i; j > 0; j--) {
      bool less = r[j].rank < 0 || r[j - 1].rank < 0 || r[j].rank < r[j - 1].rank;
      if (!less)
        break;
      struct ranked t = r[j];
      r[j] = r[j - 1];
      r[j - 1] = t;
    }
  }
}

static bool
is_delete_item(const json_t *item)
{
  json_t *d = json_object_get(item, SMP_DIRECTIVE);
  return json_is_string(d) && strcmp(json_string_value(d), "delete") == 0;
}

static int
check_merge_keys(const struct smp_run *run, const json_t *list, const char *merge_key)
{
  size_t i;
  json_t *item;
  json_array_foreach (list, i, item) {
    if (!json_is_object(item))
      return not_a_map_error(run, item);
    if (json_object_get(item, merge_key ? merge_key : "") == NULL)
      return no_merge_key_error(run, item, merge_key);
  }
  return 0;
}

/* Upstream's normalizeSliceOrder: sorts to_sort by order; deletion items go last. */
static json_t *
order_slice(const struct smp_run *run, const json_t *to_sort, const json_t *order,
            const char *merge_key, enum smp_elem_kind kind)
{
  if (kind == SMP_ELEM_MAP && (check_merge_keys(run, to_sort, merge_key) < 0 ||
                               check_merge_keys(run, order, merge_key) < 0))
    return NULL;
  size_t n = json_array_size(to_sort), kept = 0;
  struct ranked *r = xcalloc(n ? n : 1, sizeof *r);
  cleanup_json json_t *deletions = json_array();
  size_t i;
  json_t *item;
  json_array_foreach (to_sort, i, item) {
    if (kind == SMP_ELEM_MAP && is_delete_item(item)) {
      json_array_append(deletions, item);
      continue;
    }
    r[kept] = (struct ranked){item, position_in(order, item, merge_key, kind), kept};
    kept++;
  }
  sort_by_order(r, kept);
  json_t *sorted = json_array();
  for (i = 0; i < kept; i++)
    json_array_append(sorted, r[i].item);
  free(r);
  json_array_extend(sorted, deletions);
  return sorted;
}

json_t *
smp_normalize_order(const struct smp_run *run, json_t *patch_items, json_t *server_only,
                    const json_t *patch_order, const json_t *server_order, const char *merge_key,
                    enum smp_elem_kind kind)
{
  cleanup_json json_t *right = order_slice(run, patch_items, patch_order, merge_key, kind);
  if (right == NULL)
    return NULL;
  cleanup_json json_t *left = order_slice(run, server_only, server_order, merge_key, kind);
  if (left == NULL)
    return NULL;
  json_t *all = json_array();
  size_t i = 0, j = 0, nl = json_array_size(left), nr = json_array_size(right);
  while (i < nl || j < nr) {
    bool take_left;
    if (i >= nl) {
      take_left = false;
    } else if (j >= nr) {
      take_left = true;
    } else {
      long li = position_in(server_order, json_array_get(left, i), merge_key, kind);
      long ri = position_in(server_order, json_array_get(right, j), merge_key, kind);
      take_left = li >= 0 && ri >= 0 && li < ri;
    }
    json_array_append(all, take_left ? json_array_get(left, i++) : json_array_get(right, j++));
  }
  return all;
}

/* Items of current not in to_delete (by Go equality). */
static json_t *
delete_from_list(const json_t *current, const json_t *to_delete)
{
  json_t *kept = json_array();
  size_t i;
  json_t *item;
  json_array_foreach (current, i, item) {
    if (position_in(to_delete, item, NULL, SMP_ELEM_SCALAR) < 0)
      json_array_append(kept, item);
  }
  return kept;
}

/* Applies $patch items of a list of objects. On return *original is the list to merge
 * into (deletions applied, or the patch items for "replace") and *patch the remaining
 * plain items; both new references. */
static int
apply_list_directives(const struct smp_run *run, const json_t *original_in, const json_t *patch_in,
                      const char *merge_key, json_t **original, json_t **patch)
{
  cleanup_json json_t *orig = json_copy((json_t *)original_in);
  cleanup_json json_t *plain = json_array();
  bool replace = false;
  size_t i;
  json_t *item;
  json_array_foreach (patch_in, i, item) {
    json_t *directive = json_object_get(item, SMP_DIRECTIVE);
    if (directive == NULL) {
      json_array_append(plain, item);
      continue;
    }
    const char *d = json_is_string(directive) ? json_string_value(directive) : "";
    if (strcmp(d, "delete") == 0) {
      json_t *value = json_object_get(item, merge_key);
      if (value == NULL)
        return no_merge_key_error(run, item, merge_key);
      long at;
      while ((at = smp_find_by_key(run, orig, merge_key, value)) >= 0)
        json_array_remove(orig, (size_t)at);
      if (at == -2)
        return -1;
    } else if (strcmp(d, "replace") == 0) {
      replace = true;
    } else if (strcmp(d, "merge") == 0) {
      return smp_plain_error(run, "merging lists cannot yet be specified in the patch");
    } else {
      cleanup_free char *dd = smp_describe(directive);
      cleanup_free char *id = smp_describe(item);
      return smp_plain_error(run, "unknown patch type: %s in map: %s", dd, id);
    }
  }
  if (replace) {
    *original = steal_ptr(plain);
    *patch = json_array();
  } else {
    *original = steal_ptr(orig);
    *patch = steal_ptr(plain);
  }
  return 0;
}

/* Merges plain patch items into original by merge key; unmatched items are appended. */
static json_t *
merge_items(const struct smp_run *run, const json_t *original, const json_t *patch,
            const char *merge_key, struct smp_ctx element)
{
  cleanup_json json_t *merged = json_copy((json_t *)original);
  size_t i;
  json_t *item;
  json_array_foreach (patch, i, item) {
    json_t *value = json_object_get(item, merge_key);
    if (value == NULL)
      return no_merge_key_error(run, item, merge_key), NULL;
    long at = smp_find_by_key(run, merged, merge_key, value);
    if (at == -2)
      return NULL;
    if (at < 0) {
      json_array_append(merged, item);
      continue;
    }
    json_t *m = smp_merge_map(run, json_array_get(merged, (size_t)at), item, element);
    if (m == NULL)
      return NULL;
    json_array_set_new(merged, (size_t)at, m);
  }
  return steal_ptr(merged);
}

/* Union of two lists of primitives, first occurrences kept. */
static json_t *
union_scalars(const json_t *a, const json_t *b)
{
  json_t *out = json_array();
  const json_t *lists[2] = {a, b};
  for (int l = 0; l < 2; l++) {
    size_t i;
    json_t *item;
    json_array_foreach (lists[l], i, item) {
      if (position_in(out, item, NULL, SMP_ELEM_SCALAR) < 0)
        json_array_append(out, item);
    }
  }
  return out;
}

json_t *
smp_merge_list(const struct smp_run *run, json_t *original, json_t *patch, struct smp_ctx element,
               const char *merge_key, bool is_delete_list)
{
  if (json_array_size(original) == 0 && json_array_size(patch) == 0)
    return json_incref(original);
  enum smp_elem_kind kind;
  if (smp_element_kind(run, original, patch, &kind) < 0)
    return NULL;

  cleanup_json json_t *base = NULL, *items = NULL, *merged = NULL;
  if (kind == SMP_ELEM_SCALAR) {
    if (is_delete_list)
      return delete_from_list(original, patch);
    base = json_incref(original);
    items = json_incref(patch);
    merged = union_scalars(original, patch);
  } else {
    if (merge_key == NULL)
      return smp_plain_error(run, "cannot merge lists without merge key for type struct"), NULL;
    if (apply_list_directives(run, original, patch, merge_key, &base, &items) < 0)
      return NULL;
    if ((merged = merge_items(run, base, items, merge_key, element)) == NULL)
      return NULL;
  }
  cleanup_json json_t *present = NULL, *absent = NULL;
  if (smp_partition(run, merged, items, kind == SMP_ELEM_MAP ? merge_key : NULL, &present,
                    &absent) < 0)
    return NULL;
  return smp_normalize_order(run, present, absent, items, base,
                             kind == SMP_ELEM_MAP ? merge_key : NULL, kind);
}
