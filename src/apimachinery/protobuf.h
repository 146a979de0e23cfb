/* protobuf.h — decodes a Kubernetes protobuf request body (application/vnd.kubernetes.protobuf:
 * "k8s\0" + runtime.Unknown wrapping the typed object) into the JSON object the JSON API
 * would have carried. All knowledge of fields lives in the generated table (api/proto.h);
 * the rules mirror Go's protobuf -> struct -> JSON round trip. */
#ifndef K8C_APIMACHINERY_PROTOBUF_H
#define K8C_APIMACHINERY_PROTOBUF_H

#include <jansson.h>
#include <stddef.h>

#include "lib/err.h"

#define K8S_PROTOBUF_CONTENT_TYPE "application/vnd.kubernetes.protobuf"

/* Returns a new JSON object (caller owns it: json_decref) with "apiVersion" and "kind"
 * first, then the fields in Go struct order. NULL with err filled: 400 BadRequest for
 * malformed input or an unregistered kind, 415 for a contentEncoding. */
json_t *k8s_protobuf_decode(const void *data, size_t len, k8c_err *err);

#endif
