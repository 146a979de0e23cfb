/* apply.c — server-side apply and Update ownership tracking over managedFields.
 *
 * Both operations follow structured-merge-diff's updater: compute the new object, diff
 * it against the live one, and move ownership of what changed — an apply first checks
 * that the fields it changes are not owned by someone else (409 unless forced) and
 * prunes what it stopped applying. Field sets stay in their FieldsV1 form throughout. */
#include "registry/apply.h"

#include "apimachinery/fieldset.h"
#include "apimachinery/meta.h"
#include "apimachinery/typed.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/managed_fields.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BEFORE_FIRST_APPLY "before-first-apply"

/* metadata fields never tracked as owned (upstream's stripMeta). */
static const char *const untracked_metadata[] = {
    "f:name",        "f:namespace",  "f:creationTimestamp", "f:selfLink",        "f:uid",
    "f:clusterName", "f:generation", "f:managedFields",     "f:resourceVersion",
};

/* ---- helpers ------------------------------------------------------------------------- */

static void
format_now(char out[32], const struct apply_env *env)
{
  if (env->now != NULL) {
    snprintf(out, 32, "%s", env->now);
    return;
  }
  meta_format_rfc3339(time(NULL), out);
}

/* Removes the paths upstream never records: apiVersion, kind, metadata itself and its
 * identity/bookkeeping fields. */
static void
strip_untracked(json_t *set)
{
  json_object_del(set, "f:apiVersion");
  json_object_del(set, "f:kind");
  json_t *metadata = json_object_get(set, "f:metadata");
  if (metadata == NULL)
    return;
  for (size_t i = 0; i < sizeof untracked_metadata / sizeof untracked_metadata[0]; i++)
    json_object_del(metadata, untracked_metadata[i]);
  if (!fieldset_node_settle(metadata, false))
    json_object_del(set, "f:metadata");
}

/* A shallow view of obj without metadata.managedFields (caller owns; shares children
 * with obj, so it must only be read): obj itself when it has none, as on most creates. */
static json_t *
without_managed_fields(const json_t *obj)
{
  json_t *metadata = json_object_get(obj, "metadata");
  if (!json_is_object(metadata) || json_object_get(metadata, "managedFields") == NULL)
    return json_incref((json_t *)obj);
  json_t *view = json_copy((json_t *)obj);
  json_t *meta_view = json_copy(metadata);
  json_object_del(meta_view, "managedFields");
  json_object_set_new_nocheck(view, "metadata", meta_view);
  return view;
}

static void
set_managed_fields(json_t *obj, const struct managed_fields *mf, const char *now)
{
  json_t *metadata = json_object_get(obj, "metadata");
  if (!json_is_object(metadata)) {
    if (mf->count == 0)
      return;
    metadata = json_object();
    json_object_set_new(obj, "metadata", metadata);
  }
  if (mf->count == 0) {
    json_object_del(metadata, "managedFields");
    return;
  }
  json_object_set_new_nocheck(metadata, "managedFields", managed_fields_encode(mf, now));
}

static const json_t *
managed_fields_of(const json_t *obj)
{
  return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

/* ---- conflicts ----------------------------------------------------------------------- */

struct conflict_report {
  k8c_err *err;
  const char *label;
  buf *listing; /* "- path" lines for the multi-conflict message */
  char *first_path;
  size_t count;
};

static void
report_conflict(const char *const *elems, size_t n, void *ctx)
{
  struct conflict_report *r = ctx;
  cleanup_free char *path = fieldset_path_string(elems, n);
  k8c_err_add_cause(r->err, "FieldManagerConflict", path, "conflict with %s", r->label);
  buf_printf(r->listing, "\n- %s", path);
  if (r->first_path == NULL)
    r->first_path = xstrdup(path);
  r->count++;
}

/* Fills err with upstream's 409: one cause per conflicting field, and a message naming
 * the managers. conflicts[i] is the part of entries[i]'s set this apply would change. */
static int
conflict_error(const struct managed_fields *mf, json_t *const *conflicts, k8c_err *err)
{
  k8c_err_clear(err); /* the causes added below accumulate across managers */
  buf listing;
  buf_init(&listing);
  size_t total = 0;
  char *first_label = NULL, *first_path = NULL;
  for (size_t i = 0; i < mf->count; i++) {
    if (conflicts[i] == NULL)
      continue;
    char *label = managed_entry_label(&mf->entries[i]);
    buf_printf(&listing, "%sconflicts with %s:", total ? "\n" : "", label);
    struct conflict_report r = {.err = err, .label = label, .listing = &listing};
    fieldset_for_each(conflicts[i], report_conflict, &r);
    total += r.count;
    if (first_label == NULL) {
      first_label = label;
      first_path = r.first_path;
    } else {
      free(label);
      free(r.first_path);
    }
  }
  json_t *causes = err ? steal_ptr(err->causes) : NULL;
  if (total == 1)
    k8c_error(err, 409, K8C_REASON_CONFLICT, "Apply failed with 1 conflict: conflict with %s: %s",
              first_label, first_path);
  else
    k8c_error(err, 409, K8C_REASON_CONFLICT, "Apply failed with %zu conflicts: %s", total,
              buf_cstr(&listing));
  if (err != NULL)
    err->causes = causes;
  else
    json_decref(causes);
  free(first_label);
  free(first_path);
  buf_free(&listing);
  return -1;
}

/* ---- apply ----------------------------------------------------------------------------- */

json_t *
apply_server_side_env(const struct apply_env *env, const json_t *live, const json_t *applied,
                      const char *definition, const char *manager, bool force, k8c_err *err)
{
  if (!json_is_object(applied)) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "apply configuration must be a JSON object");
    return NULL;
  }
  if (manager == NULL || manager[0] == '\0') {
    k8c_error(err, 422, K8C_REASON_INVALID,
              "fieldManager: Required value: is required for apply patch");
    return NULL;
  }
  const json_t *applied_managed = managed_fields_of(applied);
  if (applied_managed != NULL && !json_is_null(applied_managed) &&
      !(json_is_array(applied_managed) && json_array_size(applied_managed) == 0)) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "metadata.managedFields must be nil");
    return NULL;
  }

  const struct typed_schema schema = {.field_lookup = env->field_lookup};
  char now[32];
  format_now(now, env);
  const char *api_version = json_string_value(json_object_get(applied, "apiVersion"));
  if (api_version == NULL && live != NULL)
    api_version = json_string_value(json_object_get(live, "apiVersion"));

  cleanup_json json_t *config = without_managed_fields(applied);
  cleanup_json json_t *live_view = live ? without_managed_fields(live) : NULL;
  struct managed_fields mf;
  managed_fields_decode(&mf, live ? managed_fields_of(live) : NULL);
  if (live != NULL && mf.count == 0) {
    /* An object nobody tracked yet: its current content belongs to one Update manager. */
    struct managed_entry *before = managed_fields_find(&mf, BEFORE_FIRST_APPLY, "Update",
                                                       api_version ? api_version : "", "", true);
    json_decref(before->set);
    before->set = typed_field_set(&schema, live_view, definition);
    before->shared = false;
    strip_untracked(before->set);
  }

  json_t *merged = typed_merge(&schema, live_view, config, definition);
  json_t *raw_set = typed_field_set(&schema, config, definition);
  struct managed_entry *mine = managed_fields_find(&mf, manager, "Apply", "", "", true);
  free(mine->api_version);
  mine->api_version = xstrdup(api_version ? api_version : "");
  json_t *last_set = mine->set; /* possibly shared: only read below */
  mine->set = fieldset_copy(raw_set);
  mine->shared = false;
  strip_untracked(mine->set);

  if (!fieldset_is_empty(last_set)) {
    json_t *owned = fieldset_copy(raw_set);
    for (size_t i = 0; i < mf.count; i++)
      fieldset_union(owned, mf.entries[i].set);
    typed_prune(&schema, merged, last_set, owned, definition);
    json_decref(owned);
  }
  json_decref(last_set);
  json_decref(raw_set);

  if (live_view != NULL) {
    json_t *changed, *removed;
    typed_compare(&schema, live_view, merged, definition, &changed, &removed);
    strip_untracked(changed);
    strip_untracked(removed);
    size_t mine_index = (size_t)(mine - mf.entries);
    json_t **conflicts = xcalloc(mf.count, sizeof *conflicts);
    bool any = false;
    for (size_t i = 0; i < mf.count; i++) {
      if (i == mine_index)
        continue;
      json_t *c = fieldset_intersect(mf.entries[i].set, changed);
      if (fieldset_is_empty(c)) {
        json_decref(c);
        continue;
      }
      conflicts[i] = c;
      any = true;
    }
    if (any && !force)
      conflict_error(&mf, conflicts, err);
    for (size_t i = 0; i < mf.count; i++) {
      if (conflicts[i] != NULL)
        managed_entry_subtract(&mf.entries[i], conflicts[i]);
      managed_entry_subtract(&mf.entries[i], removed);
      json_decref(conflicts[i]);
    }
    free(conflicts);
    /* upstream stamps an applier's entry whenever its apply changed the object */
    mine->touched = !fieldset_is_empty(changed) || !fieldset_is_empty(removed);
    json_decref(changed);
    json_decref(removed);
    if (any && !force) {
      json_decref(merged);
      managed_fields_free(&mf);
      return NULL;
    }
  }

  managed_fields_drop_empty(&mf);
  set_managed_fields(merged, &mf, now);
  managed_fields_free(&mf);
  return merged;
}

/* ---- update tracking ------------------------------------------------------------------ */

void
apply_track_update_env(const struct apply_env *env, json_t *obj, const json_t *old,
                       const char *manager, const char *operation, const char *subresource)
{
  if (!json_is_object(obj))
    return;
  manager = manager && manager[0] ? manager : "unknown";
  operation = operation && operation[0] ? operation : "Update";
  subresource = subresource ? subresource : "";
  const struct typed_schema schema = {.field_lookup = env->field_lookup};
  char now[32];
  format_now(now, env);
  const char *api_version = json_string_value(json_object_get(obj, "apiVersion"));
  const char *kind = json_string_value(json_object_get(obj, "kind"));
  const char *definition =
      api_version && kind && env->definition_for ? env->definition_for(api_version, kind) : NULL;

  /* The request's managedFields win when it sends some (`[{}]` clears them); otherwise
   * the stored ones carry over, so clients unaware of them cannot drop them. */
  const json_t *source = managed_fields_of(obj);
  if (json_array_size(source) == 0)
    source = old ? managed_fields_of(old) : NULL;
  struct managed_fields mf;
  managed_fields_decode(&mf, source);

  cleanup_json json_t *new_view = without_managed_fields(obj);
  cleanup_json json_t *old_view = old ? without_managed_fields(old) : NULL;
  json_t *changed, *removed;
  typed_compare(&schema, old_view, new_view, definition, &changed, &removed);
  strip_untracked(changed);
  strip_untracked(removed);

  struct managed_entry *mine =
      managed_fields_find(&mf, manager, operation, api_version ? api_version : "", subresource,
                          !fieldset_is_empty(changed));
  for (size_t i = 0; i < mf.count; i++) {
    struct managed_entry *e = &mf.entries[i];
    managed_entry_subtract(e, removed);
    if (e != mine)
      managed_entry_subtract(e, changed);
  }
  if (mine != NULL) {
    if (json_object_size(mine->set) == 0) { /* a new entry: the union is `changed` itself */
      json_decref(mine->set);
      mine->set = steal_ptr(changed);
      mine->shared = false;
    } else {
      fieldset_union(managed_entry_writable_set(mine), changed);
    }
    mine->touched = true;
  }
  json_decref(changed);
  json_decref(removed);

  managed_fields_drop_empty(&mf);
  set_managed_fields(obj, &mf, now);
  managed_fields_free(&mf);
}
