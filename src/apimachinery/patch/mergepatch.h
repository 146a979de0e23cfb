/* mergepatch.h — RFC 7386 JSON Merge Patch (application/merge-patch+json) as the
 * apiserver applies it (evanphx/json-patch v4 MergePatch), and its inverse: the
 * patch that turns one object into another.
 *
 * The one idea: a merge patch is a partial document; null means "delete this key". */
#ifndef K8C_APIMACHINERY_PATCH_MERGEPATCH_H
#define K8C_APIMACHINERY_PATCH_MERGEPATCH_H

#include <jansson.h>

#include "lib/err.h"

/* Applies `patch` to `doc` and returns the result; the caller owns it. Neither input
 * is modified. Objects merge recursively, null members delete, anything else replaces.
 * As upstream, nulls are also pruned from values that are added or that replace a
 * non-object (including null elements of such arrays), a patch that is an array
 * replaces the whole document, and a document that is not an object is replaced by
 * the (pruned) patch. Errors: 400 BadRequest "Invalid JSON Patch" when the patch is
 * null or a scalar, "Invalid JSON Document" when the document is NULL/null. */
json_t *merge_patch_apply(const json_t *doc, const json_t *patch, k8c_err *err);

/* The merge patch that turns `original` into `modified` (both objects): changed and
 * added members with their new values, nested objects diffed recursively (omitted when
 * equal), arrays replaced whole when different, removed members as null. Numbers
 * compare by value (1 equals 1.0). Returns a new object the caller owns, or NULL if
 * either argument is not an object. */
json_t *merge_patch_create(const json_t *original, const json_t *modified);

#endif
