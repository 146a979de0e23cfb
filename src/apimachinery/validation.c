/* validation.c — upstream's generic validators (see validation.h).
 *
 * Each check is a hand-written character-class test equivalent to upstream's regex, and
 * each failure becomes one StatusCause whose message is built exactly as upstream's
 * field.Error.ErrorBody() would ("Invalid value: \"x\": <detail>"), so a 422 from k8c
 * reads the same as one from kube-apiserver. */
#include "apimachinery/validation.h"

#include "apimachinery/quantity.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- upstream's formats and messages (facts, restated) ---- */

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_MSG                                                                          \
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "         \
  "and must start and end with an alphanumeric character"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define DNS1123_SUBDOMAIN_MSG                                                                      \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "        \
  "or '.', and must start and end with an alphanumeric character"
#define DNS1035_LABEL_FMT "[a-z]([-a-z0-9]*[a-z0-9])?"
#define DNS1035_LABEL_MSG                                                                          \
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "        \
  "an alphabetic character, and end with an alphanumeric character"
#define QUALIFIED_NAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QUALIFIED_NAME_MSG                                                                         \
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "         \
  "an alphanumeric character"
#define LABEL_VALUE_FMT "(" QUALIFIED_NAME_FMT ")?"
#define LABEL_VALUE_MSG                                                                            \
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "         \
  "or '.', and must start and end with an alphanumeric character"
#define C_IDENTIFIER_FMT "[A-Za-z_][A-Za-z0-9_]*"
#define C_IDENTIFIER_MSG                                                                           \
  "a valid C identifier must start with alphabetic character or '_', followed by a "               \
  "string of alphanumeric characters or '_'"
#define ENV_VAR_NAME_FMT "[-._a-zA-Z][-._a-zA-Z0-9]*"
#define ENV_VAR_NAME_MSG                                                                           \
  "a valid environment variable name must consist of alphabetic characters, digits, '_', "         \
  "'-', or '.', and must not start with a digit"

#define DNS1123_LABEL_MAX 63
#define DNS1123_SUBDOMAIN_MAX 253
#define QUALIFIED_NAME_MAX 63
#define LABEL_VALUE_MAX 63
#define PORT_NAME_MAX 15
#define ANNOTATIONS_TOTAL_MAX (256 * 1024)

/* ---- message building ---- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if p starts an invalid one. */
static size_t
utf8_sequence_length(const unsigned char *p)
{
  size_t n;
  unsigned min;
  if (p[0] < 0x80)
    return 1;
  else if ((p[0] & 0xe0) == 0xc0)
    n = 2, min = 0x80;
  else if ((p[0] & 0xf0) == 0xe0)
    n = 3, min = 0x800;
  else if ((p[0] & 0xf8) == 0xf0)
    n = 4, min = 0x10000;
  else
    return 0;
  unsigned cp = p[0] & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void
validation_quote(buf *out, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  buf_puts(out, "\"");
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_sequence_length(p);
    if (n > 1) { /* valid multi-byte character: kept as is */
      buf_append(out, p, n);
      p += n;
      continue;
    }
    switch (*p) {
    case '"':
      buf_puts(out, "\\\"");
      break;
    case '\\':
      buf_puts(out, "\\\\");
      break;
    case '\n':
      buf_puts(out, "\\n");
      break;
    case '\t':
      buf_puts(out, "\\t");
      break;
    case '\r':
      buf_puts(out, "\\r");
      break;
    default:
      if (n == 0 || *p < 0x20 || *p == 0x7f) { /* control or invalid UTF-8 byte */
        char esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
        buf_append(out, esc, 4);
      } else {
        buf_append(out, p, 1);
      }
    }
    p++;
  }
  buf_puts(out, "\"");
}

/* A JSON string of s, with bytes that are not valid UTF-8 replaced by '?'. */
static json_t *
json_string_utf8_safe(const char *s)
{
  json_t *j = json_string(s);
  if (j != NULL)
    return j;
  cleanup_free char *copy = xstrdup(s);
  for (unsigned char *p = (unsigned char *)copy; *p;) {
    size_t n = utf8_sequence_length(p);
    if (n == 0) {
      *p++ = '?';
      continue;
    }
    p += n;
  }
  return json_string(copy);
}

/* Appends a cause without the fixed-size limit of k8c_err_add_cause; takes msg. */
static void
add_cause_owned(k8c_err *err, const char *type, const char *field, char *msg)
{
  if (err == NULL) {
    free(msg);
    return;
  }
  if (err->causes == NULL)
    err->causes = json_array();
  json_t *cause = json_object();
  json_object_set_new(cause, "reason", json_string(type));
  json_object_set_new(cause, "message", json_string_utf8_safe(msg));
  if (field != NULL)
    json_object_set_new(cause, "field", json_string_utf8_safe(field));
  json_array_append_new(err->causes, cause);
  free(msg);
}

static void
add_invalid_string(k8c_err *err, const char *field, const char *value, const char *detail)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, "Invalid value: ");
  validation_quote(&b, value);
  buf_puts(&b, ": ");
  buf_puts(&b, detail);
  add_cause_owned(err, CAUSE_INVALID, field, buf_steal(&b, NULL));
}

static void
add_invalid_int(k8c_err *err, const char *field, json_int_t value, const char *detail)
{
  add_cause_owned(err, CAUSE_INVALID, field,
                  xasprintf("Invalid value: %" JSON_INTEGER_FORMAT ": %s", value, detail));
}

void
validation_add_invalid(k8c_err *err, const char *field, const char *value, const char *detail)
{
  add_invalid_string(err, field, value, detail);
}

void
validation_add_required(k8c_err *err, const char *field, const char *detail)
{
  char *msg =
      detail && *detail ? xasprintf("Required value: %s", detail) : xstrdup("Required value");
  add_cause_owned(err, CAUSE_REQUIRED, field, msg);
}

void
validation_add_forbidden(k8c_err *err, const char *field, const char *detail)
{
  char *msg = detail && *detail ? xasprintf("Forbidden: %s", detail) : xstrdup("Forbidden");
  add_cause_owned(err, CAUSE_FORBIDDEN, field, msg);
}

void
validation_add_duplicate(k8c_err *err, const char *field, const char *value)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, "Duplicate value: ");
  validation_quote(&b, value);
  add_cause_owned(err, CAUSE_DUPLICATE, field, buf_steal(&b, NULL));
}

void
validation_add_too_long(k8c_err *err, const char *field, long max_bytes)
{
  add_cause_owned(err, CAUSE_TOO_LONG, field,
                  xasprintf("Too long: may not be more than %ld bytes", max_bytes));
}

/* upstream's RegexError(msg, fmt, examples...) */
static char *
regex_error(const char *prefix, const char *msg, const char *fmt, const char *const *examples)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, prefix);
  buf_puts(&b, msg);
  buf_puts(&b, " (e.g. ");
  for (int i = 0; examples[i]; i++) {
    if (i > 0)
      buf_puts(&b, " or ");
    buf_printf(&b, "'%s', ", examples[i]);
  }
  buf_printf(&b, "regex used for validation is '%s')", fmt);
  return buf_steal(&b, NULL);
}

static int
invalid_regex(k8c_err *err, const char *field, const char *value, const char *prefix,
              const char *msg, const char *fmt, const char *const *examples)
{
  cleanup_free char *detail = regex_error(prefix, msg, fmt, examples);
  add_invalid_string(err, field, value, detail);
  return 1;
}

static int
invalid_max_len(k8c_err *err, const char *field, const char *value, const char *prefix, int max)
{
  cleanup_free char *detail = xasprintf("%smust be no more than %d characters", prefix, max);
  add_invalid_string(err, field, value, detail);
  return 1;
}

/* ---- character-class matchers equivalent to upstream's regexes ---- */

static bool
is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
  return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool
matches_dns1123_label(const char *s, size_t n)
{
  if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_lower_alnum(s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool
matches_dns1123_subdomain(const char *s)
{
  const char *start = s;
  for (;;) {
    const char *dot = strchr(start, '.');
    size_t n = dot ? (size_t)(dot - start) : strlen(start);
    if (!matches_dns1123_label(start, n))
      return false;
    if (dot == NULL)
      return true;
    start = dot + 1;
  }
}

static bool
matches_dns1035_label(const char *s)
{
  size_t n = strlen(s);
  return n > 0 && s[0] >= 'a' && s[0] <= 'z' && matches_dns1123_label(s, n);
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static bool
matches_qualified_name_part(const char *s, size_t n)
{
  if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return false;
  return true;
}

/* ---- upstream's Is* checks, parameterised by a message prefix ---- */

static const char *const subdomain_examples[] = {"example.com", NULL};
static const char *const qualified_examples[] = {"MyName", "my.name", "123-abc", NULL};

static int
check_subdomain(k8c_err *err, const char *field, const char *shown, const char *value,
                const char *prefix)
{
  int problems = 0;
  if (strlen(value) > DNS1123_SUBDOMAIN_MAX)
    problems += invalid_max_len(err, field, shown, prefix, DNS1123_SUBDOMAIN_MAX);
  if (!matches_dns1123_subdomain(value))
    problems += invalid_regex(err, field, shown, prefix, DNS1123_SUBDOMAIN_MSG,
                              DNS1123_SUBDOMAIN_FMT, subdomain_examples);
  return problems;
}

static int
check_qualified_name(k8c_err *err, const char *field, const char *shown, const char *value)
{
  const char *slash = strchr(value, '/');
  if (slash != NULL && strchr(slash + 1, '/') != NULL) {
    cleanup_free char *detail = regex_error("a qualified name ", QUALIFIED_NAME_MSG,
                                            QUALIFIED_NAME_FMT, qualified_examples);
    cleanup_free char *full = xasprintf(
        "%s with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')", detail);
    add_invalid_string(err, field, shown, full);
    return 1;
  }
  int problems = 0;
  const char *name = value;
  if (slash != NULL) {
    cleanup_free char *prefix = xstrndup(value, (size_t)(slash - value));
    if (*prefix == '\0') {
      add_invalid_string(err, field, shown, "prefix part must be non-empty");
      problems++;
    } else {
      problems += check_subdomain(err, field, shown, prefix, "prefix part ");
    }
    name = slash + 1;
  }
  size_t n = strlen(name);
  if (n == 0) {
    add_invalid_string(err, field, shown, "name part must be non-empty");
    problems++;
  } else if (n > QUALIFIED_NAME_MAX) {
    problems += invalid_max_len(err, field, shown, "name part ", QUALIFIED_NAME_MAX);
  }
  if (!matches_qualified_name_part(name, n))
    problems += invalid_regex(err, field, shown, "name part ", QUALIFIED_NAME_MSG,
                              QUALIFIED_NAME_FMT, qualified_examples);
  return problems;
}

/* ---- public validators ---- */

int
validate_dns1123_subdomain(k8c_err *err, const char *field, const char *value)
{
  return check_subdomain(err, field, value, value, "");
}

int
validate_dns1123_label(k8c_err *err, const char *field, const char *value)
{
  static const char *const examples[] = {"my-name", "123-abc", NULL};
  int problems = 0;
  size_t n = strlen(value);
  if (n > DNS1123_LABEL_MAX)
    problems += invalid_max_len(err, field, value, "", DNS1123_LABEL_MAX);
  if (!matches_dns1123_label(value, n))
    problems +=
        invalid_regex(err, field, value, "", DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, examples);
  return problems;
}

int
validate_dns1035_label(k8c_err *err, const char *field, const char *value)
{
  static const char *const examples[] = {"my-name", "abc-123", NULL};
  int problems = 0;
  if (strlen(value) > DNS1123_LABEL_MAX)
    problems += invalid_max_len(err, field, value, "", DNS1123_LABEL_MAX);
  if (!matches_dns1035_label(value))
    problems +=
        invalid_regex(err, field, value, "", DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, examples);
  return problems;
}

int
validate_qualified_name(k8c_err *err, const char *field, const char *value)
{
  return check_qualified_name(err, field, value, value);
}

bool
validation_is_qualified_name(const char *value)
{
  return check_qualified_name(NULL, NULL, value, value) == 0;
}

bool
validation_is_label_value(const char *value)
{
  size_t n = strlen(value);
  return n <= LABEL_VALUE_MAX && (n == 0 || matches_qualified_name_part(value, n));
}

bool
validation_is_dns1123_subdomain(const char *value)
{
  return strlen(value) <= DNS1123_SUBDOMAIN_MAX && matches_dns1123_subdomain(value);
}

bool
validation_is_dns1123_label(const char *value)
{
  size_t n = strlen(value);
  return n <= DNS1123_LABEL_MAX && matches_dns1123_label(value, n);
}

/* Joins the details of err's causes (each "Invalid value: <quoted>: detail") with "; ". */
static char *
joined_details(k8c_err *tmp, const char *value)
{
  if (tmp->causes == NULL)
    return NULL;
  buf quoted, out;
  buf_init(&quoted);
  buf_init(&out);
  buf_puts(&out, "");
  validation_quote(&quoted, value);
  size_t skip = strlen("Invalid value: ") + quoted.len + strlen(": ");
  size_t i;
  json_t *cause;
  json_array_foreach (tmp->causes, i, cause) {
    const char *msg = json_string_value(json_object_get(cause, "message"));
    if (i > 0)
      buf_puts(&out, "; ");
    buf_puts(&out, msg && strlen(msg) >= skip ? msg + skip : "");
  }
  buf_free(&quoted);
  k8c_err_clear(tmp);
  return buf_steal(&out, NULL);
}

char *
validation_qualified_name_problems(const char *value)
{
  k8c_err tmp = {0};
  validate_qualified_name(&tmp, NULL, value);
  return joined_details(&tmp, value);
}

char *
validation_label_value_problems(const char *value)
{
  k8c_err tmp = {0};
  validate_label_value(&tmp, NULL, value);
  return joined_details(&tmp, value);
}

int
validate_label_value(k8c_err *err, const char *field, const char *value)
{
  static const char *const examples[] = {"MyValue", "my_value", "12345", NULL};
  int problems = 0;
  size_t n = strlen(value);
  if (n > LABEL_VALUE_MAX)
    problems += invalid_max_len(err, field, value, "", LABEL_VALUE_MAX);
  if (n > 0 && !matches_qualified_name_part(value, n))
    problems += invalid_regex(err, field, value, "", LABEL_VALUE_MSG, LABEL_VALUE_FMT, examples);
  return problems;
}

int
validate_c_identifier(k8c_err *err, const char *field, const char *value)
{
  static const char *const examples[] = {"my_name", "MY_NAME", "MyName", NULL};
  bool ok = value[0] != '\0' && (isalpha((unsigned char)value[0]) || value[0] == '_');
  for (const char *p = value; ok && *p; p++)
    ok = isascii((unsigned char)*p) && (isalnum((unsigned char)*p) || *p == '_');
  if (ok)
    return 0;
  return invalid_regex(err, field, value, "", C_IDENTIFIER_MSG, C_IDENTIFIER_FMT, examples);
}

int
validate_env_var_name(k8c_err *err, const char *field, const char *value)
{
  static const char *const examples[] = {"my.env-name", "MY_ENV.NAME", "MyEnvName1", NULL};
  int problems = 0;
  bool ok = value[0] != '\0' && !isdigit((unsigned char)value[0]);
  for (const char *p = value; ok && *p; p++)
    ok = isascii((unsigned char)*p) &&
         (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.');
  if (!ok)
    problems += invalid_regex(err, field, value, "", ENV_VAR_NAME_MSG, ENV_VAR_NAME_FMT, examples);
  if (strcmp(value, ".") == 0) {
    add_invalid_string(err, field, value, "must not be '.'");
    problems++;
  } else if (strcmp(value, "..") == 0) {
    add_invalid_string(err, field, value, "must not be '..'");
    problems++;
  } else if (strncmp(value, "..", 2) == 0) {
    add_invalid_string(err, field, value, "must not start with '..'");
    problems++;
  }
  return problems;
}

int
validate_port_number(k8c_err *err, const char *field, json_int_t port)
{
  if (port >= 1 && port <= 65535)
    return 0;
  add_invalid_int(err, field, port, "must be between 1 and 65535, inclusive");
  return 1;
}

int
validate_port_name(k8c_err *err, const char *field, const char *value)
{
  int problems = 0;
  size_t n = strlen(value);
  bool charset_ok = n > 0, has_letter = false;
  for (size_t i = 0; i < n; i++) {
    if (value[i] >= 'a' && value[i] <= 'z')
      has_letter = true;
    else if (!(value[i] >= '0' && value[i] <= '9') && value[i] != '-')
      charset_ok = false;
  }
  const char *failures[5];
  int count = 0;
  if (n > PORT_NAME_MAX)
    failures[count++] = "must be no more than 15 characters";
  if (!charset_ok)
    failures[count++] = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (!has_letter)
    failures[count++] = "must contain at least one letter (a-z)";
  if (strstr(value, "--") != NULL)
    failures[count++] = "must not contain consecutive hyphens";
  if (n > 0 && (value[0] == '-' || value[n - 1] == '-'))
    failures[count++] = "must not begin or end with a hyphen";
  for (int i = 0; i < count; i++) {
    add_invalid_string(err, field, value, failures[i]);
    problems++;
  }
  return problems;
}

int
validate_nonnegative(k8c_err *err, const char *field, json_int_t value)
{
  if (value >= 0)
    return 0;
  add_invalid_int(err, field, value, "must be greater than or equal to 0");
  return 1;
}

int
validate_required_string(k8c_err *err, const char *field, const json_t *value)
{
  if (json_is_string(value) && json_string_length(value) > 0)
    return 0;
  validation_add_required(err, field, "");
  return 1;
}

int
validate_one_of(k8c_err *err, const char *field, const char *value, const char *const *allowed)
{
  for (int i = 0; allowed[i]; i++)
    if (strcmp(value, allowed[i]) == 0)
      return 0;
  buf b;
  buf_init(&b);
  buf_puts(&b, "Unsupported value: ");
  validation_quote(&b, value);
  buf_puts(&b, ": supported values: ");
  for (int i = 0; allowed[i]; i++) {
    if (i > 0)
      buf_puts(&b, ", ");
    validation_quote(&b, allowed[i]);
  }
  add_cause_owned(err, CAUSE_NOT_SUPPORTED, field, buf_steal(&b, NULL));
  return 1;
}

int
validate_labels(k8c_err *err, const char *field, const json_t *labels)
{
  if (labels == NULL || json_is_null(labels))
    return 0;
  if (!json_is_object(labels)) {
    add_invalid_string(err, field, "", "must be a map of string keys to string values");
    return 1;
  }
  int problems = 0;
  const char *key;
  const json_t *value;
  json_object_foreach ((json_t *)labels, key, value) {
    problems += validate_qualified_name(err, field, key);
    if (!json_is_string(value)) {
      add_invalid_string(err, field, key, "label values must be strings");
      problems++;
      continue;
    }
    problems += validate_label_value(err, field, json_string_value(value));
  }
  return problems;
}

int
validate_annotations(k8c_err *err, const char *field, const json_t *annotations)
{
  if (annotations == NULL || json_is_null(annotations))
    return 0;
  if (!json_is_object(annotations)) {
    add_invalid_string(err, field, "", "must be a map of string keys to string values");
    return 1;
  }
  int problems = 0;
  size_t total = 0;
  const char *key;
  const json_t *value;
  json_object_foreach ((json_t *)annotations, key, value) {
    cleanup_free char *lower = xstrdup(key);
    for (char *p = lower; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    problems += check_qualified_name(err, field, key, lower);
    total += strlen(key) + (json_is_string(value) ? json_string_length(value) : 0);
  }
  if (total > ANNOTATIONS_TOTAL_MAX) {
    validation_add_too_long(err, field, ANNOTATIONS_TOTAL_MAX);
    problems++;
  }
  return problems;
}

static int
validate_selector_requirement(k8c_err *err, const char *path, const json_t *req)
{
  int problems = 0;
  const char *op = json_string_value(json_object_get(req, "operator"));
  const json_t *values = json_object_get(req, "values");
  size_t nvalues = json_is_array(values) ? json_array_size(values) : 0;
  cleanup_free char *values_path = xasprintf("%s.values", path);
  if (op && (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0)) {
    if (nvalues == 0) {
      validation_add_required(err, values_path,
                              "must be specified when `operator` is 'In' or 'NotIn'");
      problems++;
    }
  } else if (op && (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0)) {
    if (nvalues > 0) {
      validation_add_forbidden(err, values_path,
                               "may not be specified when `operator` is 'Exists' or "
                               "'DoesNotExist'");
      problems++;
    }
  } else {
    cleanup_free char *op_path = xasprintf("%s.operator", path);
    add_invalid_string(err, op_path, op ? op : "", "not a valid selector operator");
    problems++;
  }
  cleanup_free char *key_path = xasprintf("%s.key", path);
  const char *key = json_string_value(json_object_get(req, "key"));
  problems += validate_qualified_name(err, key_path, key ? key : "");
  for (size_t i = 0; i < nvalues; i++) {
    const char *v = json_string_value(json_array_get(values, i));
    cleanup_free char *value_path = xasprintf("%s.values[%zu]", path, i);
    problems += validate_label_value(err, value_path, v ? v : "");
  }
  return problems;
}

int
validate_label_selector(k8c_err *err, const char *field, const json_t *selector)
{
  if (selector == NULL || json_is_null(selector))
    return 0;
  if (!json_is_object(selector)) {
    add_invalid_string(err, field, "", "must be a label selector object");
    return 1;
  }
  cleanup_free char *labels_path = xasprintf("%s.matchLabels", field);
  int problems = validate_labels(err, labels_path, json_object_get(selector, "matchLabels"));
  const json_t *exprs = json_object_get(selector, "matchExpressions");
  size_t i;
  const json_t *req;
  json_array_foreach ((json_t *)exprs, i, req) {
    cleanup_free char *path = xasprintf("%s.matchExpressions[%zu]", field, i);
    problems += validate_selector_requirement(err, path, req);
  }
  return problems;
}

int
validate_quantity(k8c_err *err, const char *field, const json_t *value)
{
  char number[64];
  const char *text;
  if (json_is_string(value)) {
    text = json_string_value(value);
  } else if (json_is_integer(value)) {
    snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    text = number;
  } else if (json_is_real(value)) {
    snprintf(number, sizeof number, "%.17g", json_real_value(value));
    text = number;
  } else {
    add_invalid_string(err, field, "", QUANTITY_FORMAT_ERROR);
    return 1;
  }
  quantity q;
  k8c_err perr = {0};
  if (quantity_parse(text, &q, &perr) < 0) {
    add_invalid_string(err, field, text, perr.message);
    k8c_err_clear(&perr);
    return 1;
  }
  return 0;
}

/* ---- ObjectMeta ---- */

/* Validates a generateName the way upstream does: the name validator runs with a trailing
 * '-' masked (it is a prefix), but the cause shows the value as written. */
static int
validate_generate_name(k8c_err *err, const char *field, const char *value,
                       name_validator validate_name)
{
  cleanup_free char *masked = xstrdup(value);
  size_t n = strlen(masked);
  if (n > 1 && masked[n - 1] == '-')
    masked[n - 1] = 'a';
  k8c_err tmp = {0};
  int problems = validate_name(&tmp, field, masked);
  if (problems == 0 || tmp.causes == NULL) {
    k8c_err_clear(&tmp);
    return problems;
  }
  buf shown_masked, shown_value;
  buf_init(&shown_masked);
  buf_init(&shown_value);
  validation_quote(&shown_masked, masked);
  validation_quote(&shown_value, value);
  const char *masked_q = buf_cstr(&shown_masked);
  size_t i;
  json_t *cause;
  json_array_foreach (tmp.causes, i, cause) {
    const char *msg = json_string_value(json_object_get(cause, "message"));
    const char *type = json_string_value(json_object_get(cause, "reason"));
    const char *at = msg ? strstr(msg, masked_q) : NULL;
    char *rewritten;
    if (at != NULL)
      rewritten = xasprintf("%.*s%s%s", (int)(at - msg), msg, buf_cstr(&shown_value),
                            at + strlen(masked_q));
    else
      rewritten = xstrdup(msg ? msg : "");
    add_cause_owned(err, type ? type : CAUSE_INVALID, field, rewritten);
  }
  buf_free(&shown_masked);
  buf_free(&shown_value);
  k8c_err_clear(&tmp);
  return problems;
}

static const char *
meta_string(const json_t *meta, const char *key)
{
  const char *s = json_string_value(json_object_get(meta, key));
  return s ? s : "";
}

static int
validate_immutable(k8c_err *err, const char *field, const char *now, const char *before)
{
  if (strcmp(now, before) == 0)
    return 0;
  add_invalid_string(err, field, now, "field is immutable");
  return 1;
}

static int
validate_finalizers(k8c_err *err, const json_t *finalizers)
{
  int problems = 0;
  size_t i;
  const json_t *f;
  json_array_foreach ((json_t *)finalizers, i, f) {
    const char *name = json_string_value(f);
    problems += validate_qualified_name(err, "metadata.finalizers", name ? name : "");
  }
  return problems;
}

int
validate_object_meta(k8c_err *err, const json_t *meta, const json_t *old_meta, bool namespaced,
                     name_validator validate_name)
{
  if (validate_name == NULL)
    validate_name = validate_dns1123_subdomain;
  int problems = 0;
  const char *name = meta_string(meta, "name");
  const char *namespace = meta_string(meta, "namespace");

  if (old_meta != NULL) {
    problems += validate_immutable(err, "metadata.name", name, meta_string(old_meta, "name"));
    problems += validate_immutable(err, "metadata.namespace", namespace,
                                   meta_string(old_meta, "namespace"));
    /* the store copies uid/creationTimestamp from the old object when a client omits them */
    const char *uid = meta_string(meta, "uid");
    if (*uid)
      problems += validate_immutable(err, "metadata.uid", uid, meta_string(old_meta, "uid"));
    const char *created = meta_string(meta, "creationTimestamp");
    if (*created)
      problems += validate_immutable(err, "metadata.creationTimestamp", created,
                                     meta_string(old_meta, "creationTimestamp"));
  } else {
    const char *generate_name = meta_string(meta, "generateName");
    if (*generate_name)
      problems +=
          validate_generate_name(err, "metadata.generateName", generate_name, validate_name);
    if (*name == '\0') {
      validation_add_required(err, "metadata.name", "name or generateName is required");
      problems++;
    } else {
      problems += validate_name(err, "metadata.name", name);
    }
    if (namespaced) {
      if (*namespace == '\0') {
        validation_add_required(err, "metadata.namespace", "");
        problems++;
      } else {
        problems += validate_dns1123_label(err, "metadata.namespace", namespace);
      }
    } else if (*namespace != '\0') {
      validation_add_forbidden(err, "metadata.namespace", "not allowed on this type");
      problems++;
    }
  }
  problems += validate_labels(err, "metadata.labels", json_object_get(meta, "labels"));
  problems +=
      validate_annotations(err, "metadata.annotations", json_object_get(meta, "annotations"));
  problems += validate_finalizers(err, json_object_get(meta, "finalizers"));
  return problems;
}

/* ---- the 422 ---- */

int
validation_finish(k8c_err *err, const char *kind, const char *group, const char *name)
{
  if (err == NULL)
    return 0;
  if (err->causes == NULL || json_array_size(err->causes) == 0)
    return err->status != 0 ? -1 : 0;

  /* upstream's aggregate: "field: body" per distinct error, bracketed when more than one */
  json_t *causes = err->causes;
  buf joined;
  buf_init(&joined);
  size_t distinct = 0;
  size_t i;
  json_t *cause;
  json_t *seen = json_object();
  json_array_foreach (causes, i, cause) {
    const char *field = json_string_value(json_object_get(cause, "field"));
    const char *msg = json_string_value(json_object_get(cause, "message"));
    cleanup_free char *one =
        field && *field ? xasprintf("%s: %s", field, msg ? msg : "") : xstrdup(msg ? msg : "");
    if (json_object_get(seen, one) != NULL)
      continue;
    json_object_set_new(seen, one, json_true());
    if (distinct++ > 0)
      buf_puts(&joined, ", ");
    buf_puts(&joined, one);
  }
  json_decref(seen);

  const char *name_part = name ? name : "";
  buf quoted;
  buf_init(&quoted);
  validation_quote(&quoted, name_part);
  err->causes = NULL;
  if (group != NULL && *group)
    k8c_error(err, 422, K8C_REASON_INVALID,
              distinct > 1 ? "%s.%s %s is invalid: [%s]" : "%s.%s %s is invalid: %s", kind, group,
              buf_cstr(&quoted), buf_cstr(&joined));
  else
    k8c_error(err, 422, K8C_REASON_INVALID,
              distinct > 1 ? "%s%s %s is invalid: [%s]" : "%s%s %s is invalid: %s", kind, "",
              buf_cstr(&quoted), buf_cstr(&joined));
  err->causes = causes;
  snprintf(err->subject_kind, sizeof err->subject_kind, "%s", kind);
  snprintf(err->subject_name, sizeof err->subject_name, "%s", name_part);
  buf_free(&quoted);
  buf_free(&joined);
  return -1;
}
