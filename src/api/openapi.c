/* openapi.c — hands out the compiled-in OpenAPI documents (src/api/gen/openapi_*.c) and
 * inflates them on demand. Nothing is cached: the common client accepts gzip and gets the
 * stored stream; inflating is the slow path for the rest. */
#include "api/openapi.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "api/openapi_data.h"
#include "lib/mem.h"

const char *
openapi_v3_index(size_t *len)
{
  if (len)
    *len = openapi_v3_index_len;
  return openapi_v3_index_json;
}

int
openapi_v3_document(const char *gv_path, const unsigned char **gz, size_t *gz_len,
                    const char **hash, k8c_err *err)
{
  for (size_t i = 0; gv_path && i < openapi_v3_docs_count; i++) {
    const struct openapi_doc *doc = &openapi_v3_docs[i];
    if (strcmp(doc->path, gv_path) != 0)
      continue;
    *gz = doc->gz;
    *gz_len = doc->gz_len;
    if (hash)
      *hash = doc->hash;
    return 0;
  }
  return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "no OpenAPI v3 document for \"%s\"",
                   gv_path ? gv_path : "");
}

int
openapi_v2_document(const unsigned char **gz, size_t *gz_len, k8c_err *err)
{
  *gz = openapi_v2_doc.gz;
  *gz_len = openapi_v2_doc.gz_len;
  return 0;
}

int
openapi_v2_protobuf(const unsigned char **gz, size_t *gz_len, k8c_err *err)
{
  (void)err;
  *gz = openapi_v2_pb_doc.gz;
  *gz_len = openapi_v2_pb_doc.gz_len;
  return 0;
}

/* The gzip trailer's ISIZE: the uncompressed length modulo 2^32, a good first guess. */
static size_t
gzip_size_hint(const unsigned char *gz, size_t gz_len)
{
  if (gz_len < 18)
    return 4096;
  const unsigned char *t = gz + gz_len - 4;
  uint32_t isize =
      (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
  return isize > 0 && isize < (1u << 30) ? isize : 4096;
}

char *
openapi_inflate(const unsigned char *gz, size_t gz_len, size_t *out_len, k8c_err *err)
{
  z_stream zs = {0};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "inflate: cannot initialise zlib");
    return NULL;
  }
  size_t cap = gzip_size_hint(gz, gz_len) + 1;
  cleanup_free char *out = xmalloc(cap);
  size_t len = 0;
  zs.next_in = (unsigned char *)gz;
  zs.avail_in = (uInt)gz_len;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (cap - len < 2) {
      cap *= 2;
      out = xrealloc(out, cap);
    }
    zs.next_out = (unsigned char *)out + len;
    zs.avail_out = (uInt)(cap - len - 1);
    rc = inflate(&zs, Z_NO_FLUSH);
    len = cap - 1 - zs.avail_out;
    if (rc == Z_BUF_ERROR && zs.avail_in > 0 && zs.avail_out == 0)
      rc = Z_OK; /* output full: grow and go on */
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "inflate: corrupt gzip stream (zlib %d)", rc);
    return NULL;
  }
  out[len] = '\0';
  if (out_len)
    *out_len = len;
  return steal_ptr(out);
}
