/* history.c — ControllerRevisions shared by the StatefulSet and DaemonSet controllers
 * (upstream's controller/history): claiming a set's revisions, building, hashing, comparing
 * and storing them. A revision's data is the patch that puts its template back, so rolling
 * back (kubectl rollout undo) is patching the set with it and the controller then finds
 * the equal revision and re-uses it with a new number. */
#include "controllers/history.h"

#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

/* upstream's ControllerRevisionName keeps the prefix to 223 characters. */
#define HISTORY_PREFIX_MAX 223

long long
history_revision(const json_t *rev)
{
  return cu_int(rev, "revision", 0);
}

static bool
str_eq(const char *a, const char *b)
{
  return a && b && strcmp(a, b) == 0;
}

static int
cmp_revisions(const void *a, const void *b)
{
  const json_t *ra = *(json_t *const *)a, *rb = *(json_t *const *)b;
  long long na = history_revision(ra), nb = history_revision(rb);
  if (na != nb)
    return na < nb ? -1 : 1;
  time_t ta = cu_parse_time(meta_string(ra, "creationTimestamp"));
  time_t tb = cu_parse_time(meta_string(rb, "creationTimestamp"));
  if (ta != tb)
    return ta < tb ? -1 : 1;
  const char *sa = meta_name(ra), *sb = meta_name(rb);
  return strcmp(sa ? sa : "", sb ? sb : "");
}

void
history_sort(json_t **revs, size_t n)
{
  if (n > 1)
    qsort(revs, n, sizeof *revs, cmp_revisions);
}

long long
history_next_revision(json_t *const *revs, size_t n)
{
  long long max = 0;
  for (size_t i = 0; i < n; i++)
    if (history_revision(revs[i]) > max)
      max = history_revision(revs[i]);
  return max + 1;
}

int
history_list(const struct history_ctx *h, const json_t *owner, const label_selector *sel,
             json_t ***revs, size_t *n, k8c_err *err)
{
  json_t **all = NULL;
  size_t nall = 0;
  *revs = NULL;
  *n = 0;
  if (informer_by_index(h->inf, "namespace", meta_namespace(owner), &all, &nall, err) < 0)
    return -1;
  json_t **out = xcalloc(nall ? nall : 1, sizeof *out);
  size_t nout = 0;
  const char *uid = meta_uid(owner);
  bool deleting = meta_string(owner, "deletionTimestamp") != NULL;
  int rc = 0;
  for (size_t i = 0; i < nall; i++) {
    json_t *rev = all[i];
    bool matches = label_selector_matches(sel, meta_labels(rev));
    json_t *ref = cu_controller_ref(rev);
    if (ref) {
      if (!str_eq(json_string_value(json_object_get(ref, "uid")), uid))
        continue;
      if (matches) {
        out[nout++] = json_incref(rev);
      } else if (!deleting) {
        k8c_err rerr = {0};
        if (cu_release(h->client, h->res, rev, uid, &rerr) < 0)
          rc = -1;
        k8c_err_clear(&rerr);
      }
      continue;
    }
    if (!matches || deleting || meta_string(rev, "deletionTimestamp") != NULL)
      continue;
    json_t *adopted = NULL;
    k8c_err aerr = {0};
    if (cu_adopt(h->client, h->res, rev, "apps/v1", h->owner_kind, owner, &adopted, &aerr) < 0) {
      if (aerr.status != 404)
        rc = -1;
      k8c_err_clear(&aerr);
      continue;
    }
    out[nout++] = adopted;
  }
  informer_objs_free(all, nall);
  history_sort(out, nout);
  *revs = out;
  *n = nout;
  if (rc < 0)
    return k8c_error(err, 409, K8C_REASON_CONFLICT, "claiming revisions of %s %s", h->owner_kind,
                     meta_name(owner));
  return 0;
}

/* upstream's getPatch goes through the typed object and json.Marshal of a map: keys
 * sorted at every level and the template's metadata.creationTimestamp present as null.
 * kubectl rollout undo compares its own such encoding with the stored bytes to tell that
 * a set already runs a revision, so the data keeps exactly that shape and key order. */
json_t *
history_patch(const json_t *owner)
{
  json_t *tpl = json_object_get(json_object_get(owner, "spec"), "template");
  cleanup_json json_t *copy = json_is_object(tpl) ? json_deep_copy(tpl) : json_object();
  json_t *meta = json_object_get(copy, "metadata");
  if (!json_is_object(meta)) {
    meta = json_object();
    json_object_set_new(copy, "metadata", meta);
  }
  if (json_object_get(meta, "creationTimestamp") == NULL)
    json_object_set_new(meta, "creationTimestamp", json_null());
  json_object_set_new(copy, "$patch", json_string("replace"));
  cleanup_json json_t *patch = json_pack("{s:{s:O}}", "spec", "template", copy);
  cleanup_free char *text = json_dumps(patch, JSON_SORT_KEYS | JSON_COMPACT);
  json_t *sorted = text ? json_loads(text, 0, NULL) : NULL;
  return sorted ? sorted : json_incref(patch);
}

char *
history_hash(const json_t *data, long long collision_count)
{
  cleanup_json json_t *cc = collision_count ? json_integer(collision_count) : NULL;
  return dep_template_hash(data, cc);
}

static char *
revision_name(const json_t *owner, const char *hash)
{
  const char *prefix = meta_name(owner);
  size_t len = strlen(prefix);
  if (len > HISTORY_PREFIX_MAX)
    len = HISTORY_PREFIX_MAX;
  return xasprintf("%.*s-%s", (int)len, prefix, hash);
}

json_t *
history_new(const struct history_ctx *h, const json_t *owner, json_t *data, long long revision,
            const char *hash)
{
  cleanup_free char *name = revision_name(owner, hash);
  json_t *labels = json_object();
  json_t *tpl = json_object_get(json_object_get(owner, "spec"), "template");
  json_t *tpl_labels = json_object_get(json_object_get(tpl, "metadata"), "labels");
  if (json_is_object(tpl_labels))
    json_object_update(labels, tpl_labels);
  json_object_set_new(labels, HISTORY_LABEL_HASH, json_string(hash));
  json_t *meta = json_pack("{s:s, s:s, s:o}", "name", name, "namespace", meta_namespace(owner),
                           "labels", labels);
  json_t *annotations = meta_annotations(owner);
  if (json_object_size(annotations) > 0)
    json_object_set_new(meta, "annotations", json_deep_copy(annotations));
  json_t *refs = json_array();
  json_array_append_new(refs, cu_controller_ref_new("apps/v1", h->owner_kind, owner));
  json_object_set_new(meta, "ownerReferences", refs);
  return json_pack("{s:s, s:s, s:o, s:O, s:I}", "apiVersion", "apps/v1", "kind",
                   "ControllerRevision", "metadata", meta, "data", data, "revision",
                   (json_int_t)revision);
}

bool
history_equal(const json_t *a, const json_t *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  const char *ha = json_string_value(json_object_get(meta_labels(a), HISTORY_LABEL_HASH));
  const char *hb = json_string_value(json_object_get(meta_labels(b), HISTORY_LABEL_HASH));
  if (ha && hb && strcmp(ha, hb) != 0)
    return false;
  return json_equal(json_object_get(a, "data"), json_object_get(b, "data"));
}

json_t *
history_find_equal(json_t *const *revs, size_t n, const json_t *rev)
{
  json_t *found = NULL;
  for (size_t i = 0; i < n; i++)
    if (history_equal(revs[i], rev) &&
        (found == NULL || history_revision(revs[i]) >= history_revision(found)))
      found = revs[i];
  return found;
}

int
history_create(const struct history_ctx *h, const json_t *owner, const json_t *rev,
               long long *collision_count, json_t **out, k8c_err *err)
{
  const json_t *data = json_object_get(rev, "data");
  for (int attempt = 0; attempt < 100; attempt++) {
    cleanup_free char *hash = history_hash(data, *collision_count);
    cleanup_free char *name = revision_name(owner, hash);
    cleanup_json json_t *clone = json_deep_copy(rev);
    meta_set_string(clone, "name", name);
    json_object_set_new(meta_labels(clone), HISTORY_LABEL_HASH, json_string(hash));
    k8c_err cerr = {0};
    if (client_create(h->client, h->res, meta_namespace(owner), clone, NULL, out, &cerr) == 0)
      return 0;
    if (cerr.status != 409) {
      k8c_err_move(err, &cerr);
      return -1;
    }
    k8c_err_clear(&cerr);
    json_t *exists = NULL;
    if (client_get(h->client, h->res, meta_namespace(owner), name, &exists, err) < 0)
      return -1;
    if (json_equal(json_object_get(exists, "data"), data)) {
      *out = exists;
      return 0;
    }
    json_decref(exists);
    (*collision_count)++;
  }
  return k8c_error(err, 409, K8C_REASON_CONFLICT, "no free revision name for %s %s", h->owner_kind,
                   meta_name(owner));
}

int
history_set_revision(const struct history_ctx *h, const json_t *rev, long long revision,
                     json_t **out, k8c_err *err)
{
  cleanup_json json_t *clone = json_deep_copy(rev);
  for (int attempt = 0; attempt < 5; attempt++) {
    if (history_revision(clone) == revision) {
      *out = json_incref(clone);
      return 0;
    }
    json_object_set_new(clone, "revision", json_integer(revision));
    k8c_err uerr = {0};
    if (client_update(h->client, h->res, meta_namespace(rev), meta_name(rev), clone, NULL, out,
                      &uerr) == 0)
      return 0;
    if (uerr.status != 409) {
      k8c_err_move(err, &uerr);
      return -1;
    }
    k8c_err_clear(&uerr);
    json_decref(clone);
    clone = NULL;
    if (client_get(h->client, h->res, meta_namespace(rev), meta_name(rev), &clone, err) < 0)
      return -1;
  }
  return k8c_error(err, 409, K8C_REASON_CONFLICT, "revision %s keeps changing", meta_name(rev));
}

int
history_delete(const struct history_ctx *h, const json_t *rev, k8c_err *err)
{
  cleanup_json json_t *opts =
      json_pack("{s:{s:s}}", "preconditions", "uid", meta_uid(rev) ? meta_uid(rev) : "");
  k8c_err derr = {0};
  if (client_delete(h->client, h->res, meta_namespace(rev), meta_name(rev), opts, NULL, NULL,
                    &derr) < 0) {
    if (derr.status == 404 || derr.status == 409) {
      k8c_err_clear(&derr);
      return 0;
    }
    k8c_err_move(err, &derr);
    return -1;
  }
  return 0;
}

json_t *
history_apply(const json_t *owner, const json_t *rev)
{
  json_t *copy = json_deep_copy(owner);
  json_t *tpl = json_object_get(json_object_get(json_object_get(rev, "data"), "spec"), "template");
  if (!json_is_object(tpl))
    return copy;
  json_t *restored = json_deep_copy(tpl);
  json_object_del(restored, "$patch");
  json_t *spec = json_object_get(copy, "spec");
  if (json_is_object(spec))
    json_object_set_new(spec, "template", restored);
  else
    json_decref(restored);
  return copy;
}
