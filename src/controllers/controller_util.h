/* controller_util.h — what the workload controllers share (upstream's controller_utils
 * and podutil): pod activity, readiness and availability, controller ownerReferences,
 * IntOrString scaling, the pod deletion ranking, and expectations — the record of
 * creates/deletes a controller made but has not yet seen through its informer, so that
 * it never acts twice on a stale cache. All readers borrow from their arguments. */
#ifndef K8C_CONTROLLERS_CONTROLLER_UTIL_H
#define K8C_CONTROLLERS_CONTROLLER_UTIL_H

#include "client/informer.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---------- time ---------- */

/* Seconds since the epoch of an RFC 3339 timestamp ("2006-01-02T15:04:05Z", fractions
 * ignored); 0 if s is NULL or does not parse. */
time_t cu_parse_time(const char *s);
/* The wall clock in seconds. */
time_t cu_now(void);
/* The monotonic clock in milliseconds. */
long long cu_monotonic_ms(void);

/* ---------- objects ---------- */

/* An integer field found at a dotted path ("spec.replicas"), or dflt. */
long long cu_int(const json_t *obj, const char *path, long long dflt);
/* A string field at a dotted path (borrowed), or NULL. */
const char *cu_str(const json_t *obj, const char *path);
/* "ns/name" of obj (caller frees). */
char *cu_key(const json_t *obj);
/* Adds a "namespace" index on metadata.namespace to inf unless it already has one. */
void cu_add_namespace_index(informer *inf);

/* ---------- pods ---------- */

/* Not Succeeded or Failed and not being deleted (upstream's IsPodActive). */
bool pod_is_active(const json_t *pod);
/* The Ready condition is True. */
bool pod_is_ready(const json_t *pod);
/* When the Ready condition last became True (0 if not ready or unknown). */
time_t pod_ready_since(const json_t *pod);
/* Ready for at least min_ready_seconds at now (ready is enough when it is 0). */
bool pod_is_available(const json_t *pod, long long min_ready_seconds, time_t now);

/* ---------- owner references ---------- */

/* The ownerReference with controller: true (borrowed), or NULL. */
json_t *cu_controller_ref(const json_t *obj);
/* A new controller ownerReference {apiVersion, kind, name, uid, controller: true,
 * blockOwnerDeletion: true} naming owner. Caller owns it. */
json_t *cu_controller_ref_new(const char *api_version, const char *kind, const json_t *owner);
/* The object in owners (an informer of kind) that ref names in ns, if its uid matches
 * ref's: a new reference, or NULL. */
json_t *cu_resolve_controller_ref(informer *owners, const char *kind, const char *ns,
                                  const json_t *ref);

/* Adopts obj for owner: an update adding the controller ownerReference, with obj's
 * resourceVersion as precondition. 0, or -1 with err (409 when obj changed meanwhile). */
int cu_adopt(k8c_client *c, const struct api_resource *res, const json_t *obj,
             const char *owner_api_version, const char *owner_kind, const json_t *owner,
             json_t **out, k8c_err *err);
/* Releases obj: removes the ownerReference with owner_uid. A 404 counts as success. */
int cu_release(k8c_client *c, const struct api_resource *res, const json_t *obj,
               const char *owner_uid, k8c_err *err);

/* ---------- IntOrString ---------- */

/* v (an integer or "N%") scaled against total, rounding percentages up or down; v NULL
 * gives 0. -1 if v is neither. */
int cu_scaled_int_or_percent(const json_t *v, long long total, bool round_up, long long *out);

/* ---------- pod deletion ranking ---------- */

/* Sorts pods so that the ones to delete first come first, as upstream's
 * ActivePodsWithRanks: unassigned < assigned; Pending < Unknown < Running; not ready <
 * ready; lower pod-deletion-cost first; more pods of the same owner on the same node
 * first; ready for less time first (logarithmic buckets, then uid); more container
 * restarts first; newer first (logarithmic buckets, then uid). pods are borrowed and
 * only reordered. */
void cu_sort_pods_for_deletion(json_t **pods, size_t n, time_t now);

/* ---------- expectations ---------- */

/* Per controller-key record of pending creations (a count) and deletions (pod keys).
 * Thread-safe; records expire after 5 minutes as upstream's. */
typedef struct expectations expectations;

expectations *expectations_new(void);
void expectations_free(expectations *e);
/* True when key has no record, its record is fulfilled, or it expired. */
bool expectations_satisfied(expectations *e, const char *key);
/* Replaces key's record: adds creations expected. */
void expectations_expect_creations(expectations *e, const char *key, int adds);
/* Replaces key's record: deletions of these pod keys expected. */
void expectations_expect_deletions(expectations *e, const char *key, char *const *pod_keys,
                                   size_t n);
/* One expected creation happened (or will not happen). */
void expectations_creation_observed(expectations *e, const char *key);
/* pod_key's expected deletion happened (or will not happen); ignored if not expected. */
void expectations_deletion_observed(expectations *e, const char *key, const char *pod_key);
void expectations_delete(expectations *e, const char *key);

#endif
