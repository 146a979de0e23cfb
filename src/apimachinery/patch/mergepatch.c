/* mergepatch.c — RFC 7386 JSON Merge Patch, applied and created, with the apiserver's
 * (evanphx/json-patch v4) handling of nulls and non-object documents.
 *
 * Application works on a deep copy of the document and copies every patch value it
 * takes, so the caller's inputs are never shared with or changed by the result. */
#include "apimachinery/patch/mergepatch.h"

#include <stdbool.h>

/* Removes null members and null elements, recursively, in place. */
static void
prune_nulls(json_t *v)
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
        prune_nulls(child);
    }
  } else if (json_is_array(v)) {
    size_t i = 0;
    while (i < json_array_size(v)) {
      json_t *child = json_array_get(v, i);
      if (json_is_null(child)) {
        json_array_remove(v, i);
      } else {
        prune_nulls(child);
        i++;
      }
    }
  }
}

static json_t *
pruned_copy(const json_t *v)
{
  json_t *copy = json_deep_copy(v);
  prune_nulls(copy);
  return copy;
}

static void merge_objects(json_t *doc, const json_t *patch);

/* The merged value of one member: objects merge into the current value, anything else
 * replaces it (pruned when the current value is not an object, as upstream). Returns
 * a new reference. */
static json_t *
merge_value(json_t *current, const json_t *patch)
{
  if (!json_is_object(current))
    return pruned_copy(patch);
  if (!json_is_object(patch))
    return json_deep_copy(patch);
  merge_objects(current, patch);
  return json_incref(current);
}

static void
merge_objects(json_t *doc, const json_t *patch)
{
  const char *k;
  size_t klen;
  json_t *pv;
  json_object_keylen_foreach((json_t *)patch, k, klen, pv)
  {
    if (json_is_null(pv)) {
      json_object_deln(doc, k, klen);
      continue;
    }
    json_t *current = json_object_getn(doc, k, klen);
    json_t *merged = current ? merge_value(current, pv) : pruned_copy(pv);
    json_object_setn_new(doc, k, klen, merged);
  }
}

json_t *
merge_patch_apply(const json_t *doc, const json_t *patch, k8c_err *err)
{
  if (doc == NULL || json_is_null(doc))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "Invalid JSON Document"), NULL;
  if (!json_is_object(patch) && !json_is_array(patch))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "Invalid JSON Patch"), NULL;
  if (!json_is_object(doc) || !json_is_object(patch))
    return pruned_copy(patch);
  json_t *result = json_deep_copy(doc);
  merge_objects(result, patch);
  return result;
}

/* Numbers are one type for the diff, whether integer or real. */
static bool
same_type(const json_t *a, const json_t *b)
{
  if (json_is_number(a) && json_is_number(b))
    return true;
  if (json_is_boolean(a) && json_is_boolean(b))
    return true;
  return json_typeof(a) == json_typeof(b);
}

static bool
values_equal(const json_t *a, const json_t *b)
{
  if (!same_type(a, b))
    return false;
  if (json_is_number(a))
    return json_number_value(a) == json_number_value(b);
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b))
      return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
        return false;
    return true;
  }
  if (json_is_object(a)) {
    if (json_object_size(a) != json_object_size(b))
      return false;
    const char *k;
    size_t klen;
    json_t *av;
    json_object_keylen_foreach((json_t *)a, k, klen, av)
    {
      json_t *bv = json_object_getn(b, k, klen);
      if (bv == NULL || !values_equal(av, bv))
        return false;
    }
    return true;
  }
  return json_equal(a, b);
}

static json_t *
diff_objects(const json_t *original, const json_t *modified)
{
  json_t *patch = json_object();
  const char *k;
  size_t klen;
  json_t *mv;
  json_object_keylen_foreach((json_t *)modified, k, klen, mv)
  {
    json_t *ov = json_object_getn(original, k, klen);
    if (ov != NULL && json_is_object(ov) && json_is_object(mv)) {
      json_t *sub = diff_objects(ov, mv);
      if (json_object_size(sub) > 0)
        json_object_setn_new(patch, k, klen, sub);
      else
        json_decref(sub);
    } else if (ov == NULL || !values_equal(ov, mv)) {
      json_object_setn_new(patch, k, klen, json_deep_copy(mv));
    }
  }
  json_t *ov;
  json_object_keylen_foreach((json_t *)original, k, klen, ov)
  {
    if (json_object_getn(modified, k, klen) == NULL)
      json_object_setn_new(patch, k, klen, json_null());
  }
  return patch;
}

json_t *
merge_patch_create(const json_t *original, const json_t *modified)
{
  if (!json_is_object(original) || !json_is_object(modified))
    return NULL;
  return diff_objects(original, modified);
}
