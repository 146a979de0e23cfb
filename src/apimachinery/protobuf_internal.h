/* protobuf_internal.h — what the protobuf decoder's files share (not for other callers):
 * the nested-object entry point and the JSON forms of the well-known k8s messages.
 * Both return a new reference in *out, or NULL in *out when the field is to be omitted. */
#ifndef K8C_APIMACHINERY_PROTOBUF_INTERNAL_H
#define K8C_APIMACHINERY_PROTOBUF_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Decodes "k8s\0" + runtime.Unknown at a nesting depth (RawExtension may hold one). */
int pb_decode_envelope(const uint8_t *data, size_t len, int depth, json_t **out, k8c_err *err);

/* JSON of a message whose Go type marshals itself (enum proto_well_known, not ITEMS). */
int pb_well_known_json(int well_known, const uint8_t *data, size_t len, int depth, json_t **out,
                       k8c_err *err);

/* Go's time.Duration.String() ("1h0m0s", "1.5s", "300ms", "0s"); writes into out. */
void pb_go_duration(int64_t nanoseconds, char *out, size_t size);

/* A JSON string from bytes that must be UTF-8; NULL with a 400 in err otherwise. */
json_t *pb_json_string(const uint8_t *data, size_t len, const char *what, k8c_err *err);

#endif
