/* configmap.h — data-key validation ConfigMap and Secret share (IsConfigMapKey). */
#ifndef K8C_REGISTRY_CORE_CONFIGMAP_H
#define K8C_REGISTRY_CORE_CONFIGMAP_H

#include "lib/err.h"

#include <jansson.h>

/* Validates the keys of data (field "data") and binaryData ("binaryData", may be NULL)
 * and that no key appears in both. Returns problems found. */
int validate_data_keys(k8c_err *err, const json_t *data, const char *data_field,
                       const json_t *binary, const char *binary_field);

/* On update of an object whose old `immutable` is true: data, binaryData/stringData and
 * `immutable` itself may not change. Returns problems found. */
int validate_immutable_data(k8c_err *err, const json_t *obj, const json_t *old,
                            const char *binary_key);

#endif
