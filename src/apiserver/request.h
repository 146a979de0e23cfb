/* request.h — one API request as the handlers see it: the parsed URL (like upstream's
 * RequestInfo), query options, the caller's identity and the body. Owned by the HTTP
 * layer for the request's lifetime. */
#ifndef K8C_APISERVER_REQUEST_H
#define K8C_APISERVER_REQUEST_H

#include "api/resource.h"
#include "lib/buf.h"
#include "lib/err.h"

#include <stdbool.h>

struct MHD_Connection;

struct identity {
  bool authenticated;
  char user[256];
  char groups[8][128];
  int group_count;
};

enum api_verb {
  VERB_NONE = 0,
  VERB_GET,
  VERB_LIST,
  VERB_WATCH,
  VERB_CREATE,
  VERB_UPDATE,
  VERB_PATCH,
  VERB_DELETE,
  VERB_DELETECOLLECTION,
};

struct request_info {
  bool is_resource; /* /api/v1/... or /apis/g/v/... naming a resource */
  char group[128];
  char version[32];
  char namespace_[256]; /* "" when cluster-wide */
  char resource[128];
  char name[256];
  char subresource[64];
  enum api_verb verb;
  const struct api_resource *res; /* NULL if not served */
};

/* Upstream's limit on a fieldManager's length, in bytes. */
#define REQUEST_FIELD_MANAGER_MAX 128

struct api_request {
  struct MHD_Connection *conn;
  const char *method;
  const char *url;
  const char *version; /* "HTTP/1.1" ... as libmicrohttpd gives it */
  struct request_info info;
  const struct identity *who;
  buf body;
  bool body_too_large;
  bool corked; /* the TLS session holds this response back (tls_coalesce.h) */
  /* The field manager of a write without ?fieldManager (request_default_field_manager). */
  char agent_manager[REQUEST_FIELD_MANAGER_MAX + 1];
};

/* Parses method + path into info (info->res resolved against the served kinds).
 * Returns -1 with 404 for unknown paths / resources, 405 for unsupported methods. */
int request_info_parse(const char *method, const char *path, bool watch_param,
                       struct request_info *info, k8c_err *err);

/* A query parameter, or NULL. */
const char *request_query(const struct api_request *r, const char *name);
/* A header, or NULL. */
const char *request_header(const struct api_request *r, const char *name);

const char *api_verb_name(enum api_verb v);

/* Writes to out the field manager upstream records for a write that names none: the
 * User-Agent's text before its first '/', without control characters or invalid UTF-8,
 * cut to REQUEST_FIELD_MANAGER_MAX bytes at a character boundary ("" for a NULL agent).
 * "kubectl/v1.33.0 (linux/amd64) kubernetes/abc" gives "kubectl". */
void request_manager_from_user_agent(const char *user_agent,
                                     char out[REQUEST_FIELD_MANAGER_MAX + 1]);

#endif
