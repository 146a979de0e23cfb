/* response.h — writing answers: JSON objects, Status errors, lists, Tables and YAML,
 * chosen by the request's Accept header (content negotiation as upstream). */
#ifndef K8C_APISERVER_RESPONSE_H
#define K8C_APISERVER_RESPONSE_H

#include "apiserver/request.h"
#include "registry/registry.h"

#include <jansson.h>

enum media_type { MEDIA_JSON = 0, MEDIA_YAML, MEDIA_TABLE, MEDIA_NONE };

struct negotiated {
  enum media_type type;
  bool table_v1beta1;         /* the client asked for meta.k8s.io/v1beta1 Tables */
  const char *include_object; /* "None", "Metadata" (default), "Object" */
};

/* Picks the response media type; -1 with 406 if nothing acceptable. */
int response_negotiate(const struct api_request *r, bool table_ok, struct negotiated *out,
                       k8c_err *err);

/* Queues a response; body is taken (freed by MHD). Returns the MHD result. */
int response_send(struct api_request *r, int status, const char *content_type, char *body,
                  size_t len, const json_t *warnings);
int response_json(struct api_request *r, int status, const json_t *obj, const struct negotiated *n,
                  const json_t *warnings);
/* Queues a 200 with a cached object's JSON as the body, without copying it: the response
 * holds a reference to co until libmicrohttpd is done with it (the caller keeps its own). */
int response_cached_json(struct api_request *r, cache_obj *co);
/* A Status for err (with details naming the target if given). */
int response_error(struct api_request *r, const k8c_err *err);
/* The Status answer for a successful delete of a collection, etc. */
int response_status_success(struct api_request *r, int status, const json_t *details);

/* An object, list or watch event rendered as the negotiated type. */
int response_object(struct api_request *r, int status, const char *json, size_t len,
                    const struct negotiated *n, const json_t *warnings);
/* A list as the negotiated type. JSON is streamed from the items' cached bytes and takes
 * them: l is left empty (list_result_free on it is then a no-op). */
int response_list(struct api_request *r, struct list_result *l, const struct negotiated *n);

/* Table rendering of one object or several; returns a new Table object. */
json_t *table_build(const struct api_resource *res, json_t *const *objs, size_t count,
                    const struct negotiated *n, bool with_columns);

#endif
