/* strategy_util.c — JSON path access, defaulting and upstream-worded StatusCauses shared
 * by all kind strategies (see strategy_util.h). The Go-style value printers exist so a
 * 422 message quotes values exactly as upstream's field.Invalid does. */
#include "registry/strategy_util.h"
#include "lib/decimal.h"

#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---------------------------------------------------------------------- */

json_t *
obj_get(const json_t *obj, const char *path)
{
  const json_t *cur = obj;
  const char *p = path;
  while (cur != NULL && *p != '\0') {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (!json_is_object(cur))
      return NULL;
    cur = json_object_getn(cur, p, n);
    p += n;
    if (*p == '.')
      p++;
  }
  return (json_t *)cur;
}

const char *
obj_str(const json_t *obj, const char *path)
{
  return json_string_value(obj_get(obj, path));
}

json_t *
obj_string(const char *s)
{
  if (s == NULL)
    return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p >= 0x80)
      return json_string(s);
  return json_string_nocheck(s);
}

const char *
obj_str0(const json_t *obj, const char *path)
{
  const char *s = obj_str(obj, path);
  return s ? s : "";
}

json_int_t
obj_int(const json_t *obj, const char *path, json_int_t dflt)
{
  json_t *v = obj_get(obj, path);
  return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool
obj_true(const json_t *obj, const char *path)
{
  return json_is_true(obj_get(obj, path));
}

size_t
obj_len(const json_t *obj, const char *path)
{
  json_t *v = obj_get(obj, path);
  if (json_is_array(v))
    return json_array_size(v);
  if (json_is_object(v))
    return json_object_size(v);
  return 0;
}

/* ---- defaulting ------------------------------------------------------------------- */

bool
obj_unset(const json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return v == NULL || json_is_null(v);
}

json_t *
obj_ensure(json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  if (json_is_object(v))
    return v;
  v = json_object();
  json_object_set_new_nocheck(obj, key, v);
  return v;
}

void
obj_default_new(json_t *obj, const char *key, json_t *value)
{
  if (json_is_object(obj) && obj_unset(obj, key))
    json_object_set_new_nocheck(obj, key, value);
  else
    json_decref(value);
}

void
obj_default_str(json_t *obj, const char *key, const char *value)
{
  json_t *v = json_object_get(obj, key);
  if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
    json_object_set_new_nocheck(obj, key, obj_string(value));
}

void
obj_default_int(json_t *obj, const char *key, json_int_t value)
{
  obj_default_new(obj, key, json_integer(value));
}

void
obj_default_bool(json_t *obj, const char *key, bool value)
{
  obj_default_new(obj, key, json_boolean(value));
}

/* ---- causes ----------------------------------------------------------------------- */

void
cause_required(k8c_err *err, const char *field, const char *detail)
{
  if (detail && *detail)
    k8c_err_add_cause(err, CAUSE_REQUIRED, field, "Required value: %s", detail);
  else
    k8c_err_add_cause(err, CAUSE_REQUIRED, field, "Required value");
}

void
cause_invalid(k8c_err *err, const char *field, const char *value_repr, const char *detail)
{
  if (detail && *detail)
    k8c_err_add_cause(err, CAUSE_INVALID, field, "Invalid value: %s: %s", value_repr, detail);
  else
    k8c_err_add_cause(err, CAUSE_INVALID, field, "Invalid value: %s", value_repr);
}

void
cause_invalid_str(k8c_err *err, const char *field, const char *value, const char *detail)
{
  cleanup_free char *q = go_quote(value ? value : "");
  cause_invalid(err, field, q, detail);
}

void
cause_invalid_int(k8c_err *err, const char *field, json_int_t value, const char *detail)
{
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)value);
  cause_invalid(err, field, num, detail);
}

void
cause_forbidden(k8c_err *err, const char *field, const char *detail)
{
  k8c_err_add_cause(err, CAUSE_FORBIDDEN, field, "Forbidden: %s", detail);
}

void
cause_duplicate(k8c_err *err, const char *field, const char *value_repr)
{
  k8c_err_add_cause(err, CAUSE_DUPLICATE, field, "Duplicate value: %s", value_repr);
}

void
cause_not_found(k8c_err *err, const char *field, const char *value_repr)
{
  k8c_err_add_cause(err, CAUSE_NOT_FOUND, field, "Not found: %s", value_repr);
}

/* ---- Go value printers ------------------------------------------------------------ */

static void
quote_into(buf *b, const char *s)
{
  buf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      buf_puts(b, "\\\"");
      break;
    case '\\':
      buf_puts(b, "\\\\");
      break;
    case '\n':
      buf_puts(b, "\\n");
      break;
    case '\t':
      buf_puts(b, "\\t");
      break;
    case '\r':
      buf_puts(b, "\\r");
      break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        buf_printf(b, "\\x%02x", *p);
      else
        buf_append(b, p, 1);
    }
  }
  buf_puts(b, "\"");
}

char *
go_quote(const char *s)
{
  buf b;
  buf_init(&b);
  quote_into(&b, s ? s : "");
  return buf_take(&b);
}

static int
compare_cstr(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of a JSON object, sorted; caller frees the array (not the strings). */
static const char **
sorted_keys(const json_t *map, size_t *count)
{
  size_t n = json_object_size(map);
  const char **keys = xcalloc(n + 1, sizeof *keys);
  size_t i = 0;
  const char *key;
  json_t *value;
  json_object_foreach ((json_t *)map, key, value) {
    (void)value;
    keys[i++] = key;
  }
  qsort(keys, n, sizeof *keys, compare_cstr);
  *count = n;
  return keys;
}

static void
string_map_into(buf *b, const json_t *map)
{
  if (!json_is_object(map)) {
    buf_puts(b, "map[string]string(nil)");
    return;
  }
  size_t n;
  cleanup_free const char **keys = sorted_keys(map, &n);
  buf_puts(b, "map[string]string{");
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      buf_puts(b, ", ");
    quote_into(b, keys[i]);
    buf_puts(b, ":");
    quote_into(b, json_string_value(json_object_get(map, keys[i])) ?: "");
  }
  buf_puts(b, "}");
}

char *
go_string_map(const json_t *map)
{
  buf b;
  buf_init(&b);
  string_map_into(&b, map);
  return buf_take(&b);
}

char *
go_string_slice(const json_t *array)
{
  buf b;
  buf_init(&b);
  if (!json_is_array(array)) {
    buf_puts(&b, "[]string(nil)");
    return buf_take(&b);
  }
  buf_puts(&b, "[]string{");
  size_t i;
  json_t *v;
  json_array_foreach (array, i, v) {
    if (i > 0)
      buf_puts(&b, ", ");
    quote_into(&b, json_string_value(v) ?: "");
  }
  buf_puts(&b, "}");
  return buf_take(&b);
}

char *
go_label_selector(const json_t *selector)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, "v1.LabelSelector{MatchLabels:");
  string_map_into(&b, json_object_get(selector, "matchLabels"));
  json_t *exprs = json_object_get(selector, "matchExpressions");
  if (json_array_size(exprs) == 0) {
    buf_puts(&b, ", MatchExpressions:[]v1.LabelSelectorRequirement(nil)}");
  } else {
    buf_puts(&b, ", MatchExpressions:[]v1.LabelSelectorRequirement{");
    size_t i;
    json_t *e;
    json_array_foreach (exprs, i, e) {
      if (i > 0)
        buf_puts(&b, ", ");
      buf_puts(&b, "v1.LabelSelectorRequirement{Key:");
      quote_into(&b, obj_str0(e, "key"));
      buf_puts(&b, ", Operator:");
      quote_into(&b, obj_str0(e, "operator"));
      buf_puts(&b, ", Values:");
      cleanup_free char *vals = go_string_slice(json_object_get(e, "values"));
      buf_puts(&b, vals);
      buf_puts(&b, "}");
    }
    buf_puts(&b, "}}");
  }
  return buf_take(&b);
}

int
validate_immutable(k8c_err *err, const char *field, const json_t *now, const json_t *old,
                   const char *value_repr)
{
  bool now_unset = now == NULL || json_is_null(now);
  bool old_unset = old == NULL || json_is_null(old);
  if (now_unset && old_unset)
    return 0;
  if (!now_unset && !old_unset && json_equal((json_t *)now, (json_t *)old))
    return 0;
  cause_invalid(err, field, value_repr, "field is immutable");
  return 1;
}

/* ---- names ------------------------------------------------------------------------ */

int
validate_path_segment_name(k8c_err *err, const char *field, const char *value)
{
  const char *problem = NULL;
  if (strcmp(value, ".") == 0)
    problem = "may not be '.'";
  else if (strcmp(value, "..") == 0)
    problem = "may not be '..'";
  else if (strchr(value, '/'))
    problem = "may not contain '/'";
  else if (strchr(value, '%'))
    problem = "may not contain '%'";
  if (problem == NULL)
    return 0;
  cause_invalid_str(err, field, value, problem);
  return 1;
}

int
validate_meta_of(k8c_err *err, const json_t *obj, const json_t *old, bool namespaced,
                 int (*names)(k8c_err *, const char *, const char *))
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *empty = NULL;
  if (meta == NULL)
    meta = empty = json_object();
  int n = validate_object_meta(err, meta, old ? json_object_get(old, "metadata") : NULL, namespaced,
                               names);
  json_decref(empty);
  return n;
}

char *
labels_string(const json_t *map)
{
  buf b;
  buf_init(&b);
  if (json_is_object(map)) {
    size_t n;
    cleanup_free const char **keys = sorted_keys(map, &n);
    for (size_t i = 0; i < n; i++)
      buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i],
                 json_string_value(json_object_get(map, keys[i])) ?: "");
  }
  return buf_take(&b);
}

/* ---- selectable fields ------------------------------------------------------------ */

void
field_set(json_t *fields, const char *key, const char *value)
{
  json_object_set_new(fields, key, json_string(value ? value : ""));
}

void
field_set_int(json_t *fields, const char *key, json_int_t value)
{
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)value);
  field_set(fields, key, num);
}

void
field_set_bool(json_t *fields, const char *key, bool value)
{
  field_set(fields, key, value ? "true" : "false");
}

/* ---- buffers ---------------------------------------------------------------------- */

const char *
buf_text(buf *b)
{
  buf_append(b, "", 0);
  return b->data;
}

char *
buf_take(buf *b)
{
  buf_append(b, "", 0);
  return buf_steal(b, NULL);
}

/* ---- field paths ----------------------------------------------------------------- */

/* Appends s at *len, keeping room for the terminator; returns false once out is full. */
static bool
path_put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
  size_t room = cap - 1 - *len;
  bool fits = n <= room;
  if (!fits)
    n = room;
  memcpy(out + *len, s, n);
  *len += n;
  return fits;
}

void
path_cat(char *out, size_t cap, const char *a, const char *b, const char *c)
{
  if (cap == 0)
    return;
  size_t len = 0;
  if (path_put(out, cap, &len, a, strlen(a)) && path_put(out, cap, &len, b, strlen(b)) && c)
    path_put(out, cap, &len, c, strlen(c));
  out[len] = '\0';
}

void
path_cat_index(char *out, size_t cap, const char *base, const char *list, size_t index,
               const char *rest)
{
  if (cap == 0)
    return;
  char digits[DECIMAL_INT64_MAX];
  size_t ndigits = decimal_int64((int64_t)index, digits);
  size_t len = 0;
  if (path_put(out, cap, &len, base, strlen(base)) &&
      path_put(out, cap, &len, list, strlen(list)) && path_put(out, cap, &len, digits, ndigits))
    path_put(out, cap, &len, rest, strlen(rest));
  out[len] = '\0';
}
