/* apply.h — server-side apply and managedFields tracking (structured-merge-diff's
 * behaviour): which manager owns which field, conflicts, and the apply merge. */
#ifndef K8C_REGISTRY_APPLY_H
#define K8C_REGISTRY_APPLY_H

#include "api/schema.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

/* Applies `applied` (the user's partial configuration, already decoded from YAML) as
 * `manager` onto `live` (NULL when the object does not exist yet), for the OpenAPI
 * `definition`. Returns the new object (caller owns) with metadata.managedFields updated:
 * the manager's Apply entry owns exactly the fields in `applied`; fields it owned before
 * and no longer applies are removed unless another manager owns them. Conflicts with
 * other managers' fields whose values differ give 409 Conflict with reason "Conflict",
 * a message like upstream's `Apply failed with 1 conflict: conflict with
 * "kubectl-client-side-apply" using apps/v1: .spec.replicas` and one cause per field; force=true
 * takes ownership. Also as upstream: manager NULL/"" → 422; applied carrying managedFields → 400; a
 * live object without managedFields is first attributed to an Update manager "before-first-apply";
 * the entry's time changes only when the apply changed the object. */
json_t *apply_server_side(const json_t *live, const json_t *applied, const char *definition,
                          const char *manager, bool force, k8c_err *err);

/* Records a non-apply write (operation "Update") by `manager` in obj's managedFields:
 * fields that changed relative to `old` (NULL on create) become owned by manager (and
 * are removed from other managers' sets). manager NULL → "unknown". subresource ""
 * or "status". Modifies obj in place. obj's own managedFields are used when it carries
 * any (`[{}]` clears them), else old's. Only the writer's entry gets a new time. */
void apply_track_update(json_t *obj, const json_t *old, const char *manager, const char *operation,
                        const char *subresource);

/* What the two functions above take from outside: the schema, the kind → definition
 * mapping and the clock. The functions above use the generated tables
 * (schema_field_lookup, api_resource_find_kind) and the current time; the _env variants
 * below let tests and callers supply their own (they live in apply.c, the defaults in
 * apply_default.c, so a test that uses only the _env variants needs no generated table).
 * apply_track_update finds the object's definition with definition_for(apiVersion, kind);
 * NULL there means an unknown kind, whose fields are typed by their JSON shape. */
struct apply_env {
  const struct schema_field *(*field_lookup)(const char *definition, const char *name);
  const char *(*definition_for)(const char *api_version, const char *kind);
  const char *now; /* RFC3339 UTC time for changed entries; NULL = the current time */
};

json_t *apply_server_side_env(const struct apply_env *env, const json_t *live,
                              const json_t *applied, const char *definition, const char *manager,
                              bool force, k8c_err *err);
void apply_track_update_env(const struct apply_env *env, json_t *obj, const json_t *old,
                            const char *manager, const char *operation, const char *subresource);

#endif
