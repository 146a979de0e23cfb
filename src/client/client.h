/* client.h — the API client every controller, the scheduler and the node agents use
 * (client-go's typed/dynamic client), as a vtable: the same calls run in-process against
 * the registry (inside `k8c server`) or, later, over HTTPS (`k8c agent`).
 *
 * Objects are jansson values in the served version's shape. Errors are k8c_err with the
 * API's status codes and reasons (404 NotFound, 409 Conflict/AlreadyExists, 422 Invalid,
 * 410 Expired ...), exactly as an HTTP client would see them. */
#ifndef K8C_CLIENT_CLIENT_H
#define K8C_CLIENT_CLIENT_H

#include "api/resource.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct registry;

/* ---------- options ---------- */

struct client_list_opts {
  const char *label_selector;         /* NULL = everything */
  const char *field_selector;         /* NULL = everything */
  const char *resource_version;       /* NULL/"" = most recent; for watches, see client_watch */
  const char *resource_version_match; /* NULL, "NotOlderThan", "Exact" */
  long long limit;                    /* 0 = no paging */
  const char *continue_token;         /* from a previous page's metadata.continue */
  bool allow_bookmarks;               /* watches only */
  bool send_initial_events;           /* watches only */
};

struct client_write_opts {
  bool dry_run;
  bool force;                /* server-side apply: take ownership on conflicts */
  const char *field_manager; /* NULL = the client's own */
  const char *subresource;   /* patch only: NULL/"" or "status" */
};

/* ---------- watch events ---------- */

enum client_event_type {
  CLIENT_EVENT_ADDED = 1,
  CLIENT_EVENT_MODIFIED,
  CLIENT_EVENT_DELETED,
  CLIENT_EVENT_BOOKMARK, /* the object carries only metadata.resourceVersion */
  CLIENT_EVENT_ERROR     /* the object is a Status (e.g. code 410 for an expired version) */
};

/* One event from client_watch_next. Zero it before first use; client_event_clear releases
 * it (next does so itself before filling it again). raw and object belong to the event. */
struct client_event {
  enum client_event_type type;
  const char *raw; /* the object's JSON text, NUL-terminated */
  size_t raw_len;
  json_t *parsed; /* private: use client_event_object() */
  void *hold;     /* private: what keeps raw alive (backend-specific) */
  void (*release)(void *hold);
};

/* The event's object, parsed from raw on first use and owned by the event (borrowed
 * reference: json_incref it to keep it past client_event_clear). NULL if raw is not
 * JSON. */
json_t *client_event_object(struct client_event *ev);
void client_event_clear(struct client_event *ev);
/* "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR". */
const char *client_event_type_name(enum client_event_type type);

/* ---------- the vtable ---------- */

typedef struct k8c_client k8c_client;
typedef struct client_watch client_watch;

struct client_watch_ops {
  int (*next)(client_watch *w, struct client_event *ev, int timeout_ms);
  void (*cancel)(client_watch *w);
  void (*close)(client_watch *w);
};

/* Binds a pod to a node through pods/binding (409 if it is already bound). */
int client_bind(k8c_client *c, const char *ns, const char *name, const char *uid, const char *node,
                k8c_err *err);

/* Backends embed this as their first member. */
struct client_watch {
  const struct client_watch_ops *ops;
};

struct k8c_client_ops {
  int (*get)(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
             json_t **out, k8c_err *err);
  int (*list)(k8c_client *c, const struct api_resource *res, const char *ns,
              const struct client_list_opts *o, json_t **out, k8c_err *err);
  int (*create)(k8c_client *c, const struct api_resource *res, const char *ns, json_t *obj,
                const struct client_write_opts *o, json_t **out, k8c_err *err);
  /* subresource: "" for the object, "status" for update_status. */
  int (*update)(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                const char *subresource, json_t *obj, const struct client_write_opts *o,
                json_t **out, k8c_err *err);
  int (*patch)(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
               const char *patch_type, json_t *patch, const struct client_write_opts *o,
               json_t **out, k8c_err *err);
  int (*del)(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
             json_t *delete_options, const struct client_write_opts *o, json_t **out, k8c_err *err);
  client_watch *(*watch)(k8c_client *c, const struct api_resource *res, const char *ns,
                         const struct client_list_opts *o, k8c_err *err);
  /* pods/binding: assigns pod ns/name (uid, if not NULL, must match) to node. */
  int (*bind)(k8c_client *c, const char *ns, const char *name, const char *uid, const char *node,
              k8c_err *err);
  /* serviceaccounts/token: posts request (a TokenRequest) for ServiceAccount ns/name. */
  int (*request_token)(k8c_client *c, const char *ns, const char *name, const json_t *request,
                       json_t **out, k8c_err *err);
  void (*free)(k8c_client *c);
};

/* Binds a pod to a node through pods/binding (409 if it is already bound). */
int client_bind(k8c_client *c, const char *ns, const char *name, const char *uid, const char *node,
                k8c_err *err);

/* Asks for a token for ServiceAccount ns/name: request is an authentication.k8s.io/v1
 * TokenRequest; *out the answered TokenRequest (status.token is a credential). */
int client_request_token(k8c_client *c, const char *ns, const char *name, const json_t *request,
                         json_t **out, k8c_err *err);

/* Backends embed this as their first member. */
struct k8c_client {
  const struct k8c_client_ops *ops;
};

/* ---------- backends ---------- */

/* A client calling reg directly: the same defaulting, admission, validation, storage and
 * watch path as HTTP requests, without authentication or authorization (it is the
 * server's own, privileged client). reg must outlive the client; field_manager (copied)
 * is used for writes whose options name none. Free with client_free. */
k8c_client *client_inprocess_new(struct registry *reg, const char *field_manager);

/* ---------- calls (thread-safe; every json_t **out is a new reference for the caller;
 * bodies are borrowed and not modified; ns is "" for cluster-scoped resources and,
 * in list/watch, for all namespaces) ---------- */

/* The object, or 404. */
int client_get(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
               json_t **out, k8c_err *err);
/* A List object: {kind: "<Kind>List", apiVersion, metadata: {resourceVersion, continue?,
 * remainingItemCount?}, items: [...]}. o may be NULL. */
int client_list(k8c_client *c, const struct api_resource *res, const char *ns,
                const struct client_list_opts *o, json_t **out, k8c_err *err);
/* out may be NULL when the caller does not want the stored object. o may be NULL. */
int client_create(k8c_client *c, const struct api_resource *res, const char *ns, json_t *obj,
                  const struct client_write_opts *o, json_t **out, k8c_err *err);
/* name NULL or "" takes obj's metadata.name. A metadata.resourceVersion in obj is a
 * precondition (409 Conflict when stale), as upstream. */
int client_update(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                  json_t *obj, const struct client_write_opts *o, json_t **out, k8c_err *err);
int client_update_status(k8c_client *c, const struct api_resource *res, const char *ns,
                         const char *name, json_t *obj, const struct client_write_opts *o,
                         json_t **out, k8c_err *err);
/* patch_type: "application/merge-patch+json", "application/json-patch+json",
 * "application/strategic-merge-patch+json" or "application/apply-patch+yaml" (patch as
 * JSON). o->subresource selects e.g. "status". */
int client_patch(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                 const char *patch_type, json_t *patch, const struct client_write_opts *o,
                 json_t **out, k8c_err *err);
/* delete_options: a DeleteOptions object or NULL. *out (if out is not NULL): the object
 * as deleted, or still present with deletionTimestamp while finalizers hold it. */
int client_delete(k8c_client *c, const struct api_resource *res, const char *ns, const char *name,
                  json_t *delete_options, const struct client_write_opts *o, json_t **out,
                  k8c_err *err);
/* A watch on a collection. o->resource_version: NULL/""/"0" = an ADDED event for every
 * current object, then changes; "N" = every change after N (410 Expired if too old,
 * returned here as an error or later as an ERROR event, depending on the backend).
 * The caller owns the watch: client_watch_close it. */
client_watch *client_watch_start(k8c_client *c, const struct api_resource *res, const char *ns,
                                 const struct client_list_opts *o, k8c_err *err);
void client_free(k8c_client *c);

/* ---------- watches ---------- */

/* Waits up to timeout_ms (-1 = forever, 0 = poll) for the next event: 1 with *ev filled
 * (previous content released), 0 on timeout, -1 when the watch has ended (the server
 * closed it, it fell too far behind, or it was cancelled): start a new one. One reading
 * thread per watch. In-process watches send no BOOKMARK events. */
int client_watch_next(client_watch *w, struct client_event *ev, int timeout_ms);
/* From any thread: ends the watch; a blocked or later client_watch_next returns -1. Must
 * not race with client_watch_close. */
void client_watch_cancel(client_watch *w);
/* Ends the watch and frees it; not concurrently with client_watch_next. NULL is fine. */
void client_watch_close(client_watch *w);

/* ---------- helpers ---------- */

/* "ns/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc).
 * Caller frees; NULL if obj has no metadata.name. */
char *client_object_key(const json_t *obj);
/* metadata.resourceVersion, or NULL; borrowed from obj. */
const char *client_object_rv(const json_t *obj);

#endif
