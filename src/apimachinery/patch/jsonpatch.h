/* jsonpatch.h — RFC 6902 JSON Patch (application/json-patch+json) as the Kubernetes
 * apiserver applies it (evanphx/json-patch v4 semantics, including its leniencies).
 *
 * The one idea: the patch runs against a private deep copy of the document, so a
 * failing operation anywhere leaves the caller's document untouched. */
#ifndef K8C_APIMACHINERY_PATCH_JSONPATCH_H
#define K8C_APIMACHINERY_PATCH_JSONPATCH_H

#include <jansson.h>

#include "lib/err.h"

/* The apiserver's limits: operations per patch, and bytes that "copy" operations may
 * add to a document in total (JSONPatchMaxCopyBytes). */
#define JSON_PATCH_MAX_OPERATIONS 10000
#define JSON_PATCH_MAX_COPY_BYTES (3L * 1024 * 1024)

/* Applies `patch` (a JSON array of operations) to `doc` (an object or array) and
 * returns the patched document; the caller owns it. `doc` and `patch` are never
 * modified. Errors, as the apiserver reports them:
 *   400 BadRequest            patch is not an array of objects (a JSON null patch is
 *                             an empty patch, as upstream)
 *   413 RequestEntityTooLarge more than JSON_PATCH_MAX_OPERATIONS operations
 *   422 (no reason)           an operation failed: unknown op, missing path, test
 *                             failed, bad array index, copy limit exceeded
 * Upstream leniencies kept on purpose: "replace" on a missing object member adds it;
 * negative array indices count from the end; "copy" from a missing member copies
 * null; "test" of an object passes when every member of the document's object is
 * present and equal in the value (extra members in the value are ignored). */
json_t *json_patch_apply(const json_t *doc, const json_t *patch, k8c_err *err);

#endif
