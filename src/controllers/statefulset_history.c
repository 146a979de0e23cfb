/* statefulset_history.c — a StatefulSet's ControllerRevisions, as upstream's
 * getStatefulSetRevisions and truncateHistory: the update revision is the set's template
 * (a new revision, the latest one, or an older equal one brought forward by a rollback),
 * the current revision the one status.currentRevision names; revisions no pod uses are
 * pruned down to revisionHistoryLimit. */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/statefulset_internal.h"
#include "lib/mem.h"

#include <string.h>

void
sts_revisions_free(struct sts_revisions *r)
{
  informer_objs_free(r->all, r->n);
  json_decref(r->current);
  json_decref(r->update);
  json_decref(r->current_set);
  json_decref(r->update_set);
  *r = (struct sts_revisions){0};
}

/* The update revision of set among r->all (a new reference), or NULL with err. */
static json_t *
find_or_make_update(struct sts_controller *c, const json_t *set, struct sts_revisions *r,
                    k8c_err *err)
{
  cleanup_json json_t *data = history_patch(set);
  cleanup_free char *hash = history_hash(data, r->collision_count);
  cleanup_json json_t *wanted =
      history_new(&c->history, set, data, history_next_revision(r->all, r->n), hash);
  json_t *equal = history_find_equal(r->all, r->n, wanted);
  json_t *out = NULL;
  if (equal != NULL && equal == r->all[r->n - 1])
    return json_incref(equal);
  if (equal != NULL) {
    if (history_set_revision(&c->history, equal, history_revision(wanted), &out, err) < 0)
      return NULL;
    return out;
  }
  if (history_create(&c->history, set, wanted, &r->collision_count, &out, err) < 0)
    return NULL;
  return out;
}

int
sts_revisions_get(struct sts_controller *c, const json_t *set, const label_selector *sel,
                  struct sts_revisions *r, k8c_err *err)
{
  *r = (struct sts_revisions){0};
  r->collision_count = cu_int(set, "status.collisionCount", 0);
  if (history_list(&c->history, set, sel, &r->all, &r->n, err) < 0 ||
      (r->update = find_or_make_update(c, set, r, err)) == NULL) {
    sts_revisions_free(r);
    return -1;
  }
  const char *current_name = cu_str(set, "status.currentRevision");
  for (size_t i = 0; i < r->n && current_name; i++)
    if (strcmp(meta_name(r->all[i]), current_name) == 0)
      r->current = json_incref(r->all[i]);
  if (r->current == NULL)
    r->current = json_incref(r->update);
  r->current_set = history_apply(set, r->current);
  r->update_set = history_apply(set, r->update);
  return 0;
}

static bool
is_live(const char *name, json_t *const *pods, size_t npods, const struct sts_revisions *r)
{
  if (strcmp(name, meta_name(r->current)) == 0 || strcmp(name, meta_name(r->update)) == 0)
    return true;
  for (size_t i = 0; i < npods; i++) {
    const char *used = json_string_value(json_object_get(meta_labels(pods[i]), STS_LABEL_REVISION));
    if (used && strcmp(used, name) == 0)
      return true;
  }
  return false;
}

int
sts_truncate_history(struct sts_controller *c, const json_t *set, json_t *const *pods, size_t npods,
                     const struct sts_revisions *r, k8c_err *err)
{
  long long limit = cu_int(set, "spec.revisionHistoryLimit", 10);
  size_t nold = 0;
  for (size_t i = 0; i < r->n; i++)
    nold += !is_live(meta_name(r->all[i]), pods, npods, r);
  if (limit < 0 || (long long)nold <= limit)
    return 0;
  size_t to_delete = nold - (size_t)limit;
  for (size_t i = 0; i < r->n && to_delete > 0; i++) {
    if (is_live(meta_name(r->all[i]), pods, npods, r))
      continue;
    if (history_delete(&c->history, r->all[i], err) < 0)
      return -1;
    to_delete--;
  }
  return 0;
}
