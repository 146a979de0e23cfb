/* err.h — the one error type every fallible k8c function fills.
 *
 * A function that can fail returns a negative int (or NULL) and fills a k8c_err passed
 * as its last argument. The error carries an HTTP status, a Kubernetes Status reason and
 * a message; it becomes a Status body only at the API edge. See docs/design/errors.md. */
#ifndef K8C_LIB_ERR_H
#define K8C_LIB_ERR_H

#include <jansson.h>
#include <stdarg.h>

typedef struct k8c_err {
  int status;             /* HTTP status code: 400, 404, 409, 422, 500 ... (0 = no error) */
  char reason[32];        /* Status reason: "NotFound", "Conflict", "Invalid" ... */
  char message[1024];     /* human readable, already includes added context */
  json_t *causes;         /* owned; NULL or array of {reason,message,field} (StatusCause) */
  int retry_after;        /* seconds, for 429/503; 0 if unset */
  char subject_kind[64];  /* for Status details when it differs from the URL's: the Kind */
  char subject_name[256]; /* and the object's name (e.g. a 422 on create) */
} k8c_err;

/* Status reasons used across the code base (metav1.StatusReason). */
#define K8C_REASON_BAD_REQUEST "BadRequest"
#define K8C_REASON_UNAUTHORIZED "Unauthorized"
#define K8C_REASON_FORBIDDEN "Forbidden"
#define K8C_REASON_NOT_FOUND "NotFound"
#define K8C_REASON_ALREADY_EXISTS "AlreadyExists"
#define K8C_REASON_CONFLICT "Conflict"
#define K8C_REASON_GONE "Expired"
#define K8C_REASON_INVALID "Invalid"
#define K8C_REASON_METHOD_NOT_ALLOWED "MethodNotAllowed"
#define K8C_REASON_NOT_ACCEPTABLE "NotAcceptable"
#define K8C_REASON_TOO_LARGE "RequestEntityTooLarge"
#define K8C_REASON_UNSUPPORTED_MEDIA "UnsupportedMediaType"
#define K8C_REASON_TOO_MANY "TooManyRequests"
#define K8C_REASON_INTERNAL "InternalError"
#define K8C_REASON_UNAVAILABLE "ServiceUnavailable"
#define K8C_REASON_TIMEOUT "Timeout"

/* Fills err (if not NULL) and returns -1, so a failure is one line:
 *   return k8c_error(err, 404, K8C_REASON_NOT_FOUND, "pods \"%s\" not found", name); */
int k8c_error(k8c_err *err, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends a StatusCause {reason: type, message, field}; used for 422 Invalid. */
void k8c_err_add_cause(k8c_err *err, const char *type, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepends context: "opening store: " + existing message. Returns -1. */
int k8c_err_prefix(k8c_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees the causes and resets err to "no error". Safe on a zeroed or NULL err. */
void k8c_err_clear(k8c_err *err);

/* Moves src into dst (dst cleared first); src is left cleared. */
void k8c_err_move(k8c_err *dst, k8c_err *src);

#endif
