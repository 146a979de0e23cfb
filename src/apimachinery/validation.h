/* validation.h — upstream's generic validators (apimachinery/pkg/util/validation and
 * ObjectMeta validation), each appending StatusCauses to a k8c_err with upstream's
 * wording, so per-kind validation reads like upstream's ValidatePod, ValidateService...
 *
 * Convention: validators append causes and return the number of problems found (0 = ok).
 * The caller turns "any causes" into a 422 with validation_finish(). Field paths use
 * upstream's form: "metadata.name", "spec.containers[0].image", "metadata.labels". */
#ifndef K8C_APIMACHINERY_VALIDATION_H
#define K8C_APIMACHINERY_VALIDATION_H

#include "lib/buf.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

/* Cause types (metav1.CauseType). */
#define CAUSE_REQUIRED "FieldValueRequired"
#define CAUSE_INVALID "FieldValueInvalid"
#define CAUSE_NOT_SUPPORTED "FieldValueNotSupported"
#define CAUSE_DUPLICATE "FieldValueDuplicate"
#define CAUSE_FORBIDDEN "FieldValueForbidden"
#define CAUSE_TOO_LONG "FieldValueTooLong"
#define CAUSE_UNKNOWN_FIELD "FieldValueUnknown"

/* Each returns 0 if valid, else appends one cause for `field` and returns 1.
 * Messages follow upstream, e.g. for a bad DNS-1123 subdomain:
 *   Invalid value: "Foo_": a lowercase RFC 1123 subdomain must consist of ... */
int validate_dns1123_subdomain(k8c_err *err, const char *field, const char *value);
int validate_dns1123_label(k8c_err *err, const char *field, const char *value);
int validate_dns1035_label(k8c_err *err, const char *field, const char *value);
int validate_qualified_name(k8c_err *err, const char *field, const char *value);
int validate_label_value(k8c_err *err, const char *field, const char *value);
int validate_c_identifier(k8c_err *err, const char *field,
                          const char *value); /* env names are laxer */
int validate_port_number(k8c_err *err, const char *field, json_int_t port);
int validate_port_name(k8c_err *err, const char *field, const char *value); /* IANA_SVC_NAME */
int validate_nonnegative(k8c_err *err, const char *field, json_int_t value);
int validate_required_string(k8c_err *err, const char *field, const json_t *value);
/* value must be one of the NULL-terminated allowed list (FieldValueNotSupported). */
int validate_one_of(k8c_err *err, const char *field, const char *value, const char *const *allowed);
/* Labels map: keys qualified names, values label values. */
int validate_labels(k8c_err *err, const char *field, const json_t *labels);
/* Annotations: keys qualified names, total size <= 256 KiB. */
int validate_annotations(k8c_err *err, const char *field, const json_t *annotations);
/* A metav1.LabelSelector {matchLabels, matchExpressions}. */
int validate_label_selector(k8c_err *err, const char *field, const json_t *selector);
/* A resource.Quantity string ("100m", "64Mi", "1.5"). */
int validate_quantity(k8c_err *err, const char *field, const json_t *value);

/* ObjectMeta: name (via name_validator, NULL = DNS-1123 subdomain) or generateName
 * required, namespace required iff namespaced, labels, annotations, and on update the
 * immutable fields (name, namespace, uid, creationTimestamp). old_meta NULL on create. */
typedef int (*name_validator)(k8c_err *err, const char *field, const char *value);
int validate_object_meta(k8c_err *err, const json_t *meta, const json_t *old_meta, bool namespaced,
                         name_validator validate_name);

/* If err has causes, turns it into upstream's 422:
 *   Kind.group "name" is invalid: [cause1, cause2]
 * and returns -1; otherwise returns 0. kind e.g. "Deployment", group e.g. "apps" ("" core). */
int validation_finish(k8c_err *err, const char *kind, const char *group, const char *name);

/* ---- additions beyond the original interface ---- */

/* Environment variable names (upstream's IsEnvVarName, the classic rule). */
int validate_env_var_name(k8c_err *err, const char *field, const char *value);

/* Cause builders for per-kind validators, with upstream's wording:
 *   Invalid value: "v": detail | Required value[: detail] | Forbidden[: detail] |
 *   Duplicate value: "v" | Too long: may not be more than N bytes */
void validation_add_invalid(k8c_err *err, const char *field, const char *value, const char *detail);
void validation_add_required(k8c_err *err, const char *field, const char *detail);
void validation_add_forbidden(k8c_err *err, const char *field, const char *detail);
void validation_add_duplicate(k8c_err *err, const char *field, const char *value);
void validation_add_too_long(k8c_err *err, const char *field, long max_bytes);

/* Predicates without causes (for selectors and other parsers). */
bool validation_is_qualified_name(const char *value);
bool validation_is_label_value(const char *value);
bool validation_is_dns1123_subdomain(const char *value);
bool validation_is_dns1123_label(const char *value);

/* Appends value quoted like Go's %q ("a\"b"). */
void validation_quote(buf *out, const char *value);

/* upstream's IsQualifiedName / IsValidLabelValue detail messages joined with "; " (as
 * label selector parsing reports them), or NULL when value is valid. Caller frees. */
char *validation_qualified_name_problems(const char *value);
char *validation_label_value_problems(const char *value);

#endif
