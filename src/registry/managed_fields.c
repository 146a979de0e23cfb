/* managed_fields.c — decoding, looking up and encoding metadata.managedFields entries.
 *
 * An entry keeps its time unless the operation that wrote it touched it (or it is new),
 * as upstream does: managers losing fields to someone else keep their timestamps. Sets
 * are copy-on-write: decoding and encoding pass the FieldsV1 trees by reference. */
#include "registry/managed_fields.h"

#include "apimachinery/fieldset.h"
#include "lib/mem.h"
#include "registry/strategy_util.h"

#include <stdlib.h>
#include <string.h>

static const char *
string_or(const json_t *obj, const char *key, const char *fallback)
{
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : fallback;
}

static bool
identity_matches(const struct managed_entry *e, const char *manager, const char *operation,
                 const char *api_version, const char *subresource)
{
  if (strcmp(e->manager, manager) != 0 || strcmp(e->operation, operation) != 0 ||
      strcmp(e->subresource, subresource) != 0)
    return false;
  return strcmp(operation, "Apply") == 0 || strcmp(e->api_version, api_version) == 0;
}

static struct managed_entry *
append_entry(struct managed_fields *mf)
{
  if (mf->count == mf->cap) {
    mf->cap = mf->cap ? mf->cap * 2 : 4;
    mf->entries = xrealloc(mf->entries, mf->cap * sizeof *mf->entries);
  }
  struct managed_entry *e = &mf->entries[mf->count++];
  memset(e, 0, sizeof *e);
  return e;
}

void
managed_fields_decode(struct managed_fields *mf, const json_t *array)
{
  memset(mf, 0, sizeof *mf);
  size_t i;
  json_t *item;
  json_array_foreach ((json_t *)array, i, item) {
    const json_t *fields = json_object_get(item, "fieldsV1");
    const char *manager = json_string_value(json_object_get(item, "manager"));
    if (!json_is_object(fields) || manager == NULL)
      continue;
    const char *operation = string_or(item, "operation", "Update");
    const char *api_version = string_or(item, "apiVersion", "");
    const char *subresource = string_or(item, "subresource", "");
    struct managed_entry *e =
        managed_fields_find(mf, manager, operation, api_version, subresource, false);
    if (e != NULL) { /* a repeated identity: keep one entry holding both sets */
      fieldset_union(managed_entry_writable_set(e), fields);
      continue;
    }
    e = append_entry(mf);
    e->manager = xstrdup(manager);
    e->operation = xstrdup(operation);
    e->api_version = xstrdup(api_version);
    e->subresource = xstrdup(subresource);
    const char *time = json_string_value(json_object_get(item, "time"));
    e->time = time ? xstrdup(time) : NULL;
    e->set = json_incref((json_t *)fields);
    e->shared = true;
    e->decoded = true;
  }
}

struct managed_entry *
managed_fields_find(struct managed_fields *mf, const char *manager, const char *operation,
                    const char *api_version, const char *subresource, bool create)
{
  for (size_t i = 0; i < mf->count; i++)
    if (identity_matches(&mf->entries[i], manager, operation, api_version, subresource))
      return &mf->entries[i];
  if (!create)
    return NULL;
  struct managed_entry *e = append_entry(mf);
  e->manager = xstrdup(manager);
  e->operation = xstrdup(operation);
  e->api_version = xstrdup(api_version);
  e->subresource = xstrdup(subresource);
  e->set = json_object();
  return e;
}

static void
entry_free(struct managed_entry *e)
{
  free(e->manager);
  free(e->operation);
  free(e->api_version);
  free(e->subresource);
  free(e->time);
  json_decref(e->set);
}

json_t *
managed_entry_writable_set(struct managed_entry *e)
{
  if (e->shared) {
    json_t *copy = fieldset_copy(e->set);
    json_decref(e->set);
    e->set = copy;
    e->shared = false;
  }
  return e->set;
}

void
managed_entry_subtract(struct managed_entry *e, const json_t *src)
{
  if (e->shared && !fieldset_subtract_changes(e->set, src))
    return;
  fieldset_subtract(managed_entry_writable_set(e), src);
}

void
managed_fields_drop_empty(struct managed_fields *mf)
{
  size_t kept = 0;
  for (size_t i = 0; i < mf->count; i++) {
    if (fieldset_is_empty(mf->entries[i].set)) {
      entry_free(&mf->entries[i]);
      continue;
    }
    mf->entries[kept++] = mf->entries[i];
  }
  mf->count = kept;
}

static bool
entry_changed(const struct managed_entry *e)
{
  return e->touched || !e->decoded || e->time == NULL;
}

struct sort_item {
  const struct managed_entry *entry;
  const char *time;
};

static int
compare_entries(const void *a, const void *b)
{
  const struct sort_item *p = a, *q = b;
  int c = strcmp(p->entry->operation, q->entry->operation);
  if (c == 0)
    c = strcmp(p->time ? p->time : "", q->time ? q->time : ""); /* RFC3339 UTC sorts as text */
  if (c == 0)
    c = strcmp(p->entry->manager, q->entry->manager);
  if (c == 0)
    c = strcmp(p->entry->api_version, q->entry->api_version);
  if (c == 0)
    c = strcmp(p->entry->subresource, q->entry->subresource);
  return c;
}

json_t *
managed_fields_encode(const struct managed_fields *mf, const char *now)
{
  struct sort_item *items = xcalloc(mf->count ? mf->count : 1, sizeof *items);
  for (size_t i = 0; i < mf->count; i++) {
    items[i].entry = &mf->entries[i];
    items[i].time = entry_changed(&mf->entries[i]) ? now : mf->entries[i].time;
  }
  qsort(items, mf->count, sizeof *items, compare_entries);
  json_t *array = json_array();
  for (size_t i = 0; i < mf->count; i++) {
    const struct managed_entry *e = items[i].entry;
    json_t *obj = json_object();
    /* literal keys need no UTF-8 check; values that may come from a client keep theirs */
    json_object_set_new_nocheck(obj, "manager", obj_string(e->manager));
    json_object_set_new_nocheck(obj, "operation", obj_string(e->operation));
    if (e->api_version[0])
      json_object_set_new_nocheck(obj, "apiVersion", obj_string(e->api_version));
    if (items[i].time)
      json_object_set_new_nocheck(obj, "time", obj_string(items[i].time));
    json_object_set_new_nocheck(obj, "fieldsType", json_string_nocheck("FieldsV1"));
    json_object_set_nocheck(obj, "fieldsV1", e->set);
    if (e->subresource[0])
      json_object_set_new_nocheck(obj, "subresource", obj_string(e->subresource));
    json_array_append_new(array, obj);
  }
  free(items);
  return array;
}

void
managed_fields_free(struct managed_fields *mf)
{
  for (size_t i = 0; i < mf->count; i++)
    entry_free(&mf->entries[i]);
  free(mf->entries);
  memset(mf, 0, sizeof *mf);
}

char *
managed_entry_label(const struct managed_entry *entry)
{
  if (strcmp(entry->operation, "Update") == 0 && entry->api_version[0])
    return xasprintf("\"%s\" using %s", entry->manager, entry->api_version);
  return xasprintf("\"%s\"", entry->manager);
}
