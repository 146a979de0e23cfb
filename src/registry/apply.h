/* apply.h — server-side apply and managedFields tracking (structured-merge-diff's
 * behaviour): which manager owns which field, conflicts, and the apply merge. */
#ifndef K8C_REGISTRY_APPLY_H
#define K8C_REGISTRY_APPLY_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

/* Applies `applied` (the user's partial configuration, already decoded from YAML) as
 * `manager` onto `live` (NULL when the object does not exist yet), for the OpenAPI
 * `definition`. Returns the new object (caller owns) with metadata.managedFields updated:
 * the manager's Apply entry owns exactly the fields in `applied`; fields it owned before
 * and no longer applies are removed unless another manager owns them. Conflicts with
 * other managers' fields whose values differ give 409 Conflict with reason "Conflict",
 * a message like upstream's `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply"
 * using apps/v1: .spec.replicas` and one cause per field; force=true takes ownership. */
json_t *apply_server_side(const json_t *live, const json_t *applied, const char *definition,
                          const char *manager, bool force, k8c_err *err);

/* Records a non-apply write (operation "Update") by `manager` in obj's managedFields:
 * fields that changed relative to `old` (NULL on create) become owned by manager (and
 * are removed from other managers' sets). manager NULL → "unknown". subresource ""
 * or "status". Modifies obj in place. */
void apply_track_update(json_t *obj, const json_t *old, const char *manager,
                        const char *operation, const char *subresource);

#endif
