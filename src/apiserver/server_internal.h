/* server_internal.h — what the API server's files share: the server context and the
 * per-area request handlers. */
#ifndef K8C_APISERVER_SERVER_INTERNAL_H
#define K8C_APISERVER_SERVER_INTERNAL_H

#include "apiserver/pki.h"
#include "apiserver/request.h"
#include "apiserver/response.h"
#include "apiserver/server.h"

#include <pthread.h>

struct apiserver {
  struct apiserver_config cfg;
  struct MHD_Daemon *daemon;
  struct pki_verifier *verifier;
  struct rbac_authorizer *rbac; /* NULL without a registry (tests) */
  atomic_bool ready;
  atomic_bool stopping;
};

/* Each returns an MHD result (MHD_YES / MHD_NO). */
int handle_resource(struct apiserver *s, struct api_request *r);
int handle_watch(struct apiserver *s, struct api_request *r);
/* Returns 1 and answers if the path is a discovery or OpenAPI path, else 0. */
int handle_discovery(struct apiserver *s, struct api_request *r, const char *path, int *ret);
int handle_openapi(struct apiserver *s, struct api_request *r, const char *path, int *ret);

/* Returns 1 and answers if path is the SelfSubjectAccessReview collection, else 0. */
int ssar_handle(struct apiserver *s, struct api_request *r, const char *path, int *ret);
/* Returns 1 and answers if path is a SelfSubjectReview collection (kubectl auth whoami). */
int ssr_handle(struct apiserver *s, struct api_request *r, const char *path, int *ret);

/* Authorization: may who perform verb on the target? -1 with 403 if not. */
int authorize(struct apiserver *s, const struct identity *who, const struct request_info *ri,
              k8c_err *err);

#endif
