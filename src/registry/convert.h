/* convert.h — conversion between a resource's served version and the form it is stored
 * in, for resources served in two shapes over one storage: events.k8s.io/v1 Events are
 * stored as core/v1 Events (as upstream does), so both APIs see the same objects. */
#ifndef K8C_REGISTRY_CONVERT_H
#define K8C_REGISTRY_CONVERT_H

#include "api/resource.h"

#include <jansson.h>
#include <stdbool.h>

/* true when objects of res are stored in another version's shape. */
bool convert_needed(const struct api_resource *res);

/* New references: the stored form of a served object, and the served form of a stored one.
 * For resources that need no conversion, a new reference to obj itself. */
json_t *convert_to_storage(const struct api_resource *res, const json_t *obj);
json_t *convert_from_storage(const struct api_resource *res, const json_t *obj);

/* Converts stored JSON text to the served form's text (caller frees); NULL on bad input. */
char *convert_text_from_storage(const struct api_resource *res, const char *json, size_t len,
                                size_t *out_len);

#endif
