/* store_internal.h — helpers shared by the generic store's read, write and delete
 * paths (registry/store_*.c). Not for use outside src/registry. */
#ifndef K8C_REGISTRY_STORE_INTERNAL_H
#define K8C_REGISTRY_STORE_INTERNAL_H

#include "registry/registry.h"
#include "registry/strategy.h"

/* "apps/v1" or "v1". Caller frees. */
char *store_api_version(const struct api_resource *res);

/* Dumps obj without metadata.resourceVersion, as stored. Caller frees. */
char *store_serialize(const json_t *obj, size_t *len);

/* Parses a stored/cached value. New reference. */
json_t *store_parse(const char *json, size_t len, k8c_err *err);

/* Sets metadata.resourceVersion to rev. */
void store_set_rv(json_t *obj, int64_t rev);

/* The resource's qualified name for messages: "deployments.apps" or "pods". */
void store_qualified_resource(const struct api_resource *res, char *out, size_t outlen);

/* 404 with upstream's message: deployments.apps "x" not found. */
int store_not_found(const struct api_resource *res, const char *name, k8c_err *err);

/* 409 Conflict with upstream's "Operation cannot be fulfilled on ..." message. */
int store_conflict(const struct api_resource *res, const char *name, const char *why, k8c_err *err);

/* Object ns/name of res as the watch cache has it, parsed (new reference), or NULL when
 * it is not there. */
json_t *store_cached_object(struct registry *reg, const struct api_resource *res, const char *ns,
                            const char *name);

/* Reads the current object as JSON in res's served form (new reference) with its revision. */
int store_read_current(struct registry *r, const struct api_resource *res, const char *key,
                       json_t **obj, int64_t *rev, k8c_err *err);

/* The generic write checks every create and update runs: defaults, the writer's
 * managedFields entry (unless o says an apply computed them), admission and strategy
 * preparation, field validation against the schema, strategy validation. */
int store_admit_and_validate(struct registry *r, const struct registry_target *t, json_t *obj,
                             const json_t *old, const struct write_opts *o, k8c_err *err);

/* Whether a kind tracks metadata.generation. */
bool store_tracks_generation(const struct api_resource *res);

/* The namespace must exist and not be terminating (for creates). */
int store_check_namespace(struct registry *r, const char *ns, k8c_err *err);

/* A storage compare-and-swap that lost to a concurrent writer is marked with an internal
 * reason, so retry loops tell it apart from conflicts a client must see (preconditions,
 * server-side apply). The mark never reaches a client: callers retry or convert it. */
#define STORE_REASON_RACE "StorageRace"
void store_mark_race(k8c_err *err);
bool store_is_race(const k8c_err *err);

/* After a lost race: waits (briefly) until the watch cache has applied everything the
 * store committed, so the retry reads the winner's write instead of losing again. */
void store_catch_up(struct registry *r);

/* Writes obj: a create when expected_rev is 0, else a compare-and-swap update against
 * expected_rev (a lost race is marked, see store_mark_race). */
int store_commit_update(struct registry *r, const struct api_resource *res, const char *key,
                        json_t *obj, int64_t expected_rev, bool dry_run, int64_t *new_rev,
                        k8c_err *err);

/* Serializes obj (in res's served form) as stored: converted to the storage form and
 * without metadata.resourceVersion. Caller frees. */
char *store_serialize_for(const struct api_resource *res, const json_t *obj, size_t *len);

/* Deletes the object now (no finalizers left). */
int store_delete_now(struct registry *r, const struct registry_target *t, const char *key,
                     json_t *obj, int64_t rev, bool dry_run, json_t **out, k8c_err *err);

/* Whether a terminating object may go now: deletionTimestamp set, no finalizers left
 * (for namespaces also spec.finalizers), no graceful termination pending. */
bool store_deletion_finished(const struct api_resource *res, const json_t *obj);

#endif
