/* openapi_handler.c — serves /openapi/v2 and /openapi/v3[/GV] from the generated,
 * gzip-compressed documents: sent as stored when the client accepts gzip (kubectl
 * does), inflated otherwise. /openapi/v2 also comes as gnostic's protobuf Document,
 * which is what kubectl asks for. */
#include "api/openapi.h"
#include "apiserver/server_internal.h"
#include "lib/mem.h"

#include <microhttpd.h>
#include <string.h>

static bool
accepts_gzip(const struct api_request *r)
{
  const char *ae = request_header(r, "Accept-Encoding");
  return ae && strstr(ae, "gzip") != NULL;
}

/* kubectl asks for ...spec.v2@v1.0+protobuf; like kube-apiserver, answer with the dotted
 * form, because Go's mime parser rejects the '@' in a Content-Type. */
#define OPENAPI_V2_PROTOBUF "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

static int
send_document(struct api_request *r, const unsigned char *gz, size_t gz_len,
              const char *content_type, const char *etag)
{
  if (accepts_gzip(r)) {
    char *copy = xmalloc(gz_len);
    memcpy(copy, gz, gz_len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(gz_len, copy, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
      free(copy);
      return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Content-Encoding", "gzip");
    MHD_add_response_header(resp, "Vary", "Accept, Accept-Encoding");
    if (etag) {
      char *quoted = xasprintf("\"%s\"", etag);
      MHD_add_response_header(resp, "Etag", quoted);
      free(quoted);
      MHD_add_response_header(resp, "Cache-Control", "public, immutable");
    }
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  k8c_err err = {0};
  size_t len = 0;
  char *json = openapi_inflate(gz, gz_len, &len, &err);
  if (json == NULL) {
    int ret = response_error(r, &err);
    k8c_err_clear(&err);
    return ret;
  }
  return response_send(r, 200, content_type, json, len, NULL);
}

static bool
accepts_protobuf(const struct api_request *r)
{
  const char *accept = request_header(r, "Accept");
  return accept && strstr(accept, "protobuf") != NULL;
}

static bool
wants_only_protobuf(const struct api_request *r)
{
  const char *accept = request_header(r, "Accept");
  return accept && strstr(accept, "protobuf") && !strstr(accept, "json") && !strstr(accept, "*/*");
}

int
handle_openapi(struct apiserver *s, struct api_request *r, const char *path, int *ret)
{
  if (strncmp(path, "/openapi/", 9) != 0)
    return 0;
  k8c_err err = {0};
  if (strcmp(path, "/openapi/v2") == 0 && accepts_protobuf(r)) {
    const unsigned char *gz = NULL;
    size_t gz_len = 0;
    if (openapi_v2_protobuf(&gz, &gz_len, &err) < 0) {
      *ret = response_error(r, &err);
      k8c_err_clear(&err);
      return 1;
    }
    *ret = send_document(r, gz, gz_len, OPENAPI_V2_PROTOBUF, NULL);
    return 1;
  }
  if (wants_only_protobuf(r)) {
    k8c_error(&err, 406, K8C_REASON_NOT_ACCEPTABLE, "only application/json is served");
    *ret = response_error(r, &err);
    k8c_err_clear(&err);
    return 1;
  }
  if (strcmp(path, "/openapi/v3") == 0) {
    size_t len = 0;
    const char *index = openapi_v3_index(&len);
    *ret = response_send(r, 200, "application/json", xstrndup(index, len), len, NULL);
    return 1;
  }
  if (strcmp(path, "/openapi/v2") == 0) {
    const unsigned char *gz = NULL;
    size_t gz_len = 0;
    if (openapi_v2_document(&gz, &gz_len, &err) < 0) {
      *ret = response_error(r, &err);
      k8c_err_clear(&err);
      return 1;
    }
    *ret = send_document(r, gz, gz_len, "application/json", NULL);
    return 1;
  }
  if (strncmp(path, "/openapi/v3/", 12) == 0) {
    const unsigned char *gz = NULL;
    size_t gz_len = 0;
    const char *hash = NULL;
    if (openapi_v3_document(path + 12, &gz, &gz_len, &hash, &err) < 0) {
      *ret = response_error(r, &err);
      k8c_err_clear(&err);
      return 1;
    }
    *ret = send_document(r, gz, gz_len, "application/json", hash);
    return 1;
  }
  return 0;
}
