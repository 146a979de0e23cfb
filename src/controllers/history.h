/* history.h — ControllerRevisions for the StatefulSet and DaemonSet controllers, as
 * upstream's controller/history package: a revision per distinct pod template, named
 * OWNER-HASH, holding the strategic merge patch that restores the template
 * ({"spec":{"template":{...,"$patch":"replace"}}}) and a revision number that grows with
 * every new or re-used template. Revisions are json_t objects; every function borrows its
 * arguments and says what the caller owns. */
#ifndef K8C_CONTROLLERS_HISTORY_H
#define K8C_CONTROLLERS_HISTORY_H

#include "apimachinery/labels.h"
#include "client/client.h"
#include "client/informer.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define HISTORY_LABEL_HASH "controller-revision-hash"

/* Where a controller keeps revisions: the API resource, the shared informer (indexed by
 * "namespace") and the owner's kind ("StatefulSet", "DaemonSet", apiVersion apps/v1). */
struct history_ctx {
  k8c_client *client;
  const struct api_resource *res;
  informer *inf;
  const char *owner_kind;
};

/* The revisions of owner: those it controls (by uid) matching sel, plus orphans matching
 * sel, adopted; owned revisions that no longer match are released. Sorted oldest first
 * (revision, creationTimestamp, name). *revs is a new array of new references: free with
 * informer_objs_free. 0, or -1 with err (some adoption/release failed; *revs still set). */
int history_list(const struct history_ctx *h, const json_t *owner, const label_selector *sel,
                 json_t ***revs, size_t *n, k8c_err *err);

/* Sorts revisions by revision number, then creationTimestamp, then name. */
void history_sort(json_t **revs, size_t n);

/* One more than the highest revision number (1 for none). */
long long history_next_revision(json_t *const *revs, size_t n);

/* The revision data of a set: {"spec":{"template":{...,"$patch":"replace"}}}. New ref. */
json_t *history_patch(const json_t *owner);

/* A revision object (not stored) of owner named OWNER-hash: labels the template's plus
 * controller-revision-hash=hash, the owner's annotations, a controller ownerReference,
 * data and revision. New reference. */
json_t *history_new(const struct history_ctx *h, const json_t *owner, json_t *data,
                    long long revision, const char *hash);

/* The fnv32a hash of data and collision_count (0 = none), in upstream's safe alphabet.
 * Caller frees. */
char *history_hash(const json_t *data, long long collision_count);

/* upstream's EqualRevision: equal data, and equal hash labels when both have one. */
bool history_equal(const json_t *a, const json_t *b);

/* The revision of revs equal to rev with the highest number (borrowed), or NULL. */
json_t *history_find_equal(json_t *const *revs, size_t n, const json_t *rev);

/* upstream's CreateControllerRevision: creates rev (named owner-HASH of its data and
 * *collision_count); when the name is taken by a revision with equal data that one is
 * returned, otherwise *collision_count grows and the create is retried. *out: new ref. */
int history_create(const struct history_ctx *h, const json_t *owner, const json_t *rev,
                   long long *collision_count, json_t **out, k8c_err *err);

/* Sets rev's revision number (re-reading it on conflict). *out: new reference. */
int history_set_revision(const struct history_ctx *h, const json_t *rev, long long revision,
                         json_t **out, k8c_err *err);

/* Deletes rev (uid precondition; gone already counts as deleted). */
int history_delete(const struct history_ctx *h, const json_t *rev, k8c_err *err);

/* A copy of owner whose spec.template is the one rev records. New reference. */
json_t *history_apply(const json_t *owner, const json_t *rev);

/* rev's revision number (0 if absent). */
long long history_revision(const json_t *rev);

#endif
