/* openapi_data.h — the generated OpenAPI document table (src/api/gen/openapi_*.c), for
 * openapi.c only. Documents are gzip streams compiled in as byte arrays. */
#ifndef K8C_API_OPENAPI_DATA_H
#define K8C_API_OPENAPI_DATA_H

#include <stddef.h>

struct openapi_doc {
  const char *path;        /* "api/v1", "apis/apps/v1"; "v2" for the swagger document */
  const unsigned char *gz; /* gzip stream */
  size_t gz_len;
  size_t raw_len;   /* length of the uncompressed document (JSON, or protobuf for v2.pb) */
  const char *hash; /* uppercase hex SHA-512 of the uncompressed document */
};

extern const char openapi_v3_index_json[]; /* the /openapi/v3 body */
extern const size_t openapi_v3_index_len;
extern const struct openapi_doc openapi_v3_docs[]; /* sorted by path */
extern const size_t openapi_v3_docs_count;
extern const struct openapi_doc openapi_v2_doc;
/* The v2 document as a gnostic openapi.v2.Document protobuf (gen/openapi_v2_pb.c). */
extern const struct openapi_doc openapi_v2_pb_doc;

#endif
