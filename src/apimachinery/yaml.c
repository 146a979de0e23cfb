/* yaml.c — YAML ⇄ JSON with upstream's typing (see yaml.h).
 *
 * Input is read as libyaml parser events and built straight into jansson values; one
 * resolver decides what a plain scalar means, and the emitter asks the same resolver
 * whether a string must be quoted to read back as a string. */
#include "apimachinery/yaml.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_ERROR_PREFIX "error converting YAML to JSON: yaml: "

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                         "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const false_words[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                          "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const non_finite_words[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                               "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                               ".NaN",  ".NAN",  NULL};

/* ---- scalar resolution (YAML 1.1 as go-yaml v2 does it) ---- */

typedef enum scalar_kind {
  SCALAR_STRING,
  SCALAR_NULL,
  SCALAR_TRUE,
  SCALAR_FALSE,
  SCALAR_INT,
  SCALAR_FLOAT,
  SCALAR_NON_FINITE,
} scalar_kind;

typedef struct scalar_value {
  scalar_kind kind;
  int64_t i;
  double f;
} scalar_value;

static bool
in_list(const char *s, const char *const *list)
{
  for (int i = 0; list[i]; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

static int
digit_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return 99;
}

/* Go's strconv.ParseUint(s, 0, 64) without sign: base prefixes 0x 0o 0b, leading 0 octal. */
static bool
parse_unsigned(const char *s, uint64_t *out)
{
  int base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    base = 16, s += 2;
  else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
    base = 8, s += 2;
  else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
    base = 2, s += 2;
  else if (s[0] == '0' && s[1] != '\0')
    base = 8, s += 1;
  if (*s == '\0')
    return false;
  uint64_t v = 0;
  for (; *s; s++) {
    int d = digit_value(*s);
    if (d >= base)
      return false;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
      return false;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  *out = v;
  return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool
looks_like_float(const char *s)
{
  if (*s == '-' || *s == '+')
    s++;
  size_t int_digits = 0, frac_digits = 0;
  while (*s >= '0' && *s <= '9')
    s++, int_digits++;
  if (*s == '.') {
    s++;
    while (*s >= '0' && *s <= '9')
      s++, frac_digits++;
  }
  if (int_digits == 0 && frac_digits == 0)
    return false;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '-' || *s == '+')
      s++;
    if (!(*s >= '0' && *s <= '9'))
      return false;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  return *s == '\0';
}

static scalar_value
resolve_plain(const char *text)
{
  scalar_value v = {SCALAR_STRING, 0, 0};
  if (in_list(text, null_words))
    return (scalar_value){SCALAR_NULL, 0, 0};
  if (in_list(text, true_words))
    return (scalar_value){SCALAR_TRUE, 0, 0};
  if (in_list(text, false_words))
    return (scalar_value){SCALAR_FALSE, 0, 0};
  if (in_list(text, non_finite_words))
    return (scalar_value){SCALAR_NON_FINITE, 0, 0};
  if (strchr("+-0123456789.", text[0]) == NULL)
    return v;
  cleanup_free char *plain = xmalloc(strlen(text) + 1);
  size_t n = 0;
  for (const char *p = text; *p; p++)
    if (*p != '_')
      plain[n++] = *p;
  plain[n] = '\0';

  bool negative = plain[0] == '-';
  const char *digits = plain + (plain[0] == '-' || plain[0] == '+');
  uint64_t u;
  if (parse_unsigned(digits, &u)) {
    if (!negative && u <= (uint64_t)INT64_MAX)
      return (scalar_value){SCALAR_INT, (int64_t)u, 0};
    if (negative && u <= (uint64_t)INT64_MAX + 1)
      return (scalar_value){SCALAR_INT, (int64_t)(0 - u), 0};
    if (!negative && plain[0] != '+')
      return (scalar_value){SCALAR_FLOAT, 0, (double)u}; /* beyond int64: ParseUint */
  }
  if (looks_like_float(plain)) {
    errno = 0;
    double f = strtod(plain, NULL);
    if (!isinf(f))
      return (scalar_value){SCALAR_FLOAT, 0, f};
  }
  return v;
}

static json_t *
scalar_to_json(const scalar_value *v, const char *text)
{
  switch (v->kind) {
  case SCALAR_NULL:
    return json_null();
  case SCALAR_TRUE:
    return json_true();
  case SCALAR_FALSE:
    return json_false();
  case SCALAR_INT:
    return json_integer(v->i);
  case SCALAR_FLOAT:
    /* Go prints an integral float64 without a fraction, so JSON readers see an integer */
    if (v->f == floor(v->f) && fabs(v->f) < 9007199254740992.0)
      return json_integer((json_int_t)v->f);
    return json_real(v->f);
  case SCALAR_STRING:
  case SCALAR_NON_FINITE:
    break;
  }
  return json_string(text);
}

/* ---- YAML → JSON ---- */

typedef struct yaml_builder {
  yaml_parser_t parser;
  json_t *anchors; /* name → node */
  size_t alias_nodes;
  k8c_err *err;
} yaml_builder;

static int
fail_at(yaml_builder *b, const yaml_mark_t *mark, const char *msg)
{
  return k8c_error(b->err, 400, K8C_REASON_BAD_REQUEST,
                   YAML_ERROR_PREFIX "line %zu, column %zu: %s", mark->line + 1, mark->column + 1,
                   msg);
}

static int
next_event(yaml_builder *b, yaml_event_t *ev)
{
  if (yaml_parser_parse(&b->parser, ev))
    return 0;
  ev->type = YAML_NO_EVENT;
  return fail_at(b, &b->parser.problem_mark,
                 b->parser.problem ? b->parser.problem : "unknown syntax error");
}

static size_t
count_nodes(const json_t *j)
{
  size_t n = 1;
  const char *key;
  json_t *v;
  size_t i;
  if (json_is_object(j)) {
    json_object_foreach ((json_t *)j, key, v)
      n += count_nodes(v);
  } else if (json_is_array(j)) {
    json_array_foreach ((json_t *)j, i, v)
      n += count_nodes(v);
  }
  return n;
}

/* Go's FormatFloat(f, 'g', -1, 32): the shortest %g that reads back as the same float32. */
static char *
float_key(double f)
{
  float want = (float)f;
  char out[64];
  for (int precision = 1; precision <= 9; precision++) {
    snprintf(out, sizeof out, "%.*g", precision, (double)want);
    if ((float)strtod(out, NULL) == want)
      break;
  }
  return xstrdup(out);
}

/* sigs.k8s.io/yaml's key conversion: scalars become their string form. */
static char *
key_to_string(yaml_builder *b, const json_t *key, const yaml_mark_t *mark)
{
  switch (json_typeof(key)) {
  case JSON_STRING:
    return xstrdup(json_string_value(key));
  case JSON_INTEGER:
    return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(key));
  case JSON_REAL:
    return float_key(json_real_value(key));
  case JSON_TRUE:
    return xstrdup("true");
  case JSON_FALSE:
    return xstrdup("false");
  case JSON_NULL:
    return xstrdup("null");
  default:
    fail_at(b, mark, "a mapping or sequence cannot be a mapping key");
    return NULL;
  }
}

static json_t *build_node(yaml_builder *b, yaml_event_t *ev, int depth);

static int
apply_merge(yaml_builder *b, json_t *obj, const json_t *explicit_keys, const json_t *src,
            const yaml_mark_t *mark)
{
  if (json_is_array(src)) {
    size_t i;
    json_t *item;
    json_array_foreach ((json_t *)src, i, item) {
      if (!json_is_object(item))
        return fail_at(b, mark, "map merge requires map or sequence of maps as the value");
      if (apply_merge(b, obj, explicit_keys, item, mark) < 0)
        return -1;
    }
    return 0;
  }
  if (!json_is_object(src))
    return fail_at(b, mark, "map merge requires map or sequence of maps as the value");
  const char *key;
  json_t *v;
  json_object_foreach ((json_t *)src, key, v) {
    if (json_object_get(obj, key) == NULL && json_object_get(explicit_keys, key) == NULL)
      json_object_set(obj, key, v);
  }
  return 0;
}

static json_t *
build_mapping(yaml_builder *b, int depth, const yaml_mark_t *start)
{
  json_t *obj = json_object();
  json_t *merges = json_array();
  json_t *explicit_keys = json_object();
  for (;;) {
    yaml_event_t kev;
    if (next_event(b, &kev) < 0)
      goto fail;
    if (kev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&kev);
      break;
    }
    yaml_mark_t key_mark = kev.start_mark;
    bool is_merge = kev.type == YAML_SCALAR_EVENT && kev.data.scalar.plain_implicit &&
                    kev.data.scalar.length == 2 && memcmp(kev.data.scalar.value, "<<", 2) == 0;
    json_t *key = build_node(b, &kev, depth + 1);
    if (key == NULL)
      goto fail;
    yaml_event_t vev;
    if (next_event(b, &vev) < 0) {
      json_decref(key);
      goto fail;
    }
    json_t *value = build_node(b, &vev, depth + 1);
    if (value == NULL) {
      json_decref(key);
      goto fail;
    }
    if (is_merge) {
      json_array_append_new(merges, value);
      json_decref(key);
      continue;
    }
    char *name = key_to_string(b, key, &key_mark);
    json_decref(key);
    if (name == NULL) {
      json_decref(value);
      goto fail;
    }
    json_object_set_new(obj, name, value);
    json_object_set_new(explicit_keys, name, json_true());
    free(name);
  }
  size_t i;
  json_t *src;
  json_array_foreach (merges, i, src) {
    if (apply_merge(b, obj, explicit_keys, src, start) < 0)
      goto fail;
  }
  json_decref(merges);
  json_decref(explicit_keys);
  return obj;
fail:
  json_decref(obj);
  json_decref(merges);
  json_decref(explicit_keys);
  return NULL;
}

static json_t *
build_sequence(yaml_builder *b, int depth)
{
  json_t *arr = json_array();
  for (;;) {
    yaml_event_t ev;
    if (next_event(b, &ev) < 0)
      goto fail;
    if (ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return arr;
    }
    json_t *item = build_node(b, &ev, depth + 1);
    if (item == NULL)
      goto fail;
    json_array_append_new(arr, item);
  }
fail:
  json_decref(arr);
  return NULL;
}

static json_t *
build_scalar(yaml_builder *b, const yaml_event_t *ev)
{
  const char *text = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  bool keep_string = !ev->data.scalar.plain_implicit ||
                     (tag != NULL && (strcmp(tag, YAML_STR_TAG) == 0 ||
                                      strcmp(tag, "tag:yaml.org,2002:binary") == 0));
  if (keep_string || strlen(text) != len)
    return json_stringn(text, len);
  scalar_value v = resolve_plain(text);
  if (v.kind == SCALAR_NON_FINITE) {
    fail_at(b, &ev->start_mark, "infinity and NaN cannot be represented in JSON");
    return NULL;
  }
  return scalar_to_json(&v, text);
}

/* Builds the node that starts with *ev (which this deletes) and everything inside it. */
static json_t *
build_node(yaml_builder *b, yaml_event_t *ev, int depth)
{
  json_t *node = NULL;
  const char *anchor = NULL;
  yaml_mark_t mark = ev->start_mark;
  if (depth > YAML_MAX_DEPTH) {
    fail_at(b, &mark, "document nested too deeply");
    yaml_event_delete(ev);
    return NULL;
  }
  switch (ev->type) {
  case YAML_ALIAS_EVENT: {
    json_t *target = json_object_get(b->anchors, (const char *)ev->data.alias.anchor);
    if (target == NULL) {
      char msg[160];
      snprintf(msg, sizeof msg, "unknown anchor '%.100s' referenced",
               (const char *)ev->data.alias.anchor);
      fail_at(b, &mark, msg);
      break;
    }
    b->alias_nodes += count_nodes(target);
    if (b->alias_nodes > YAML_MAX_ALIAS_NODES) {
      fail_at(b, &mark, "document contains excessive aliasing");
      break;
    }
    node = json_deep_copy(target);
    break;
  }
  case YAML_SCALAR_EVENT:
    anchor = (const char *)ev->data.scalar.anchor;
    node = build_scalar(b, ev);
    break;
  case YAML_SEQUENCE_START_EVENT:
    anchor = (const char *)ev->data.sequence_start.anchor;
    node = build_sequence(b, depth);
    break;
  case YAML_MAPPING_START_EVENT:
    anchor = (const char *)ev->data.mapping_start.anchor;
    node = build_mapping(b, depth, &mark);
    break;
  default:
    fail_at(b, &mark, "unexpected event");
    break;
  }
  if (node != NULL && anchor != NULL)
    json_object_set(b->anchors, anchor, node);
  yaml_event_delete(ev);
  return node;
}

/* Reads one document's root (after DOCUMENT_START) and its DOCUMENT_END. */
static json_t *
build_document(yaml_builder *b)
{
  yaml_event_t ev;
  if (next_event(b, &ev) < 0)
    return NULL;
  json_t *root = build_node(b, &ev, 0);
  if (root == NULL)
    return NULL;
  yaml_event_t end;
  if (next_event(b, &end) < 0) {
    json_decref(root);
    return NULL;
  }
  yaml_event_delete(&end);
  return root;
}

json_t *
yaml_to_json(const char *data, size_t len, k8c_err *err)
{
  yaml_builder b = {.anchors = json_object(), .err = err};
  if (!yaml_parser_initialize(&b.parser)) {
    json_decref(b.anchors);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "cannot initialize the YAML parser");
    return NULL;
  }
  yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, len);
  json_t *result = NULL;
  yaml_event_t ev;
  if (next_event(&b, &ev) < 0) /* STREAM_START */
    goto done;
  yaml_event_delete(&ev);
  for (;;) {
    if (next_event(&b, &ev) < 0)
      goto fail;
    yaml_event_type_t type = ev.type;
    yaml_mark_t mark = ev.start_mark;
    yaml_event_delete(&ev);
    if (type == YAML_STREAM_END_EVENT)
      break;
    json_t *doc = build_document(&b);
    if (doc == NULL)
      goto fail;
    if (result == NULL) {
      result = doc;
      continue;
    }
    bool empty = json_is_null(doc);
    json_decref(doc);
    if (!empty) { /* a trailing "---" with nothing after it is tolerated */
      fail_at(&b, &mark, "multiple YAML documents are not supported in one request body");
      goto fail;
    }
  }
  if (result == NULL)
    result = json_null();
  goto done;
fail:
  json_decref(result);
  result = NULL;
done:
  yaml_parser_delete(&b.parser);
  json_decref(b.anchors);
  return result;
}

/* ---- JSON → YAML ---- */

static int
write_to_buf(void *data, unsigned char *bytes, size_t size)
{
  buf_append(data, bytes, size);
  return 1;
}

static bool
emit_scalar(yaml_emitter_t *em, const char *text, size_t len, yaml_scalar_style_t style)
{
  yaml_event_t ev;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1, style))
    return false;
  return yaml_emitter_emit(em, &ev) != 0;
}

static bool
emit_string(yaml_emitter_t *em, const char *s, size_t len)
{
  yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
  if (strlen(s) != len || resolve_plain(s).kind != SCALAR_STRING)
    style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  else if (memchr(s, '\n', len) != NULL)
    style = YAML_LITERAL_SCALAR_STYLE;
  return emit_scalar(em, s, len, style);
}

static int
compare_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
emit_node(yaml_emitter_t *em, const json_t *j)
{
  yaml_event_t ev;
  char number[64];
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!yaml_emitter_emit(em, &ev))
      return false;
    size_t n = json_object_size(j), i = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)j, key, v)
      keys[i++] = key;
    qsort(keys, n, sizeof *keys, compare_keys);
    bool ok = true;
    for (i = 0; ok && i < n; i++) {
      /* A plain `<<` key would read back as a YAML merge key: quote it. */
      bool merge_like = strcmp(keys[i], "<<") == 0;
      ok = (merge_like ? emit_scalar(em, keys[i], 2, YAML_DOUBLE_QUOTED_SCALAR_STYLE)
                       : emit_string(em, keys[i], strlen(keys[i]))) &&
           emit_node(em, json_object_get(j, keys[i]));
    }
    free(keys);
    if (!ok)
      return false;
    yaml_mapping_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev) != 0;
  }
  case JSON_ARRAY: {
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    if (!yaml_emitter_emit(em, &ev))
      return false;
    size_t i;
    json_t *v;
    json_array_foreach ((json_t *)j, i, v) {
      if (!emit_node(em, v))
        return false;
    }
    yaml_sequence_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev) != 0;
  }
  case JSON_STRING:
    return emit_string(em, json_string_value(j), json_string_length(j));
  case JSON_INTEGER:
    snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    return emit_scalar(em, number, strlen(number), YAML_PLAIN_SCALAR_STYLE);
  case JSON_REAL: {
    double f = json_real_value(j);
    int precision = 1;
    for (; precision <= 17; precision++) {
      snprintf(number, sizeof number, "%.*g", precision, f);
      if (strtod(number, NULL) == f)
        break;
    }
    if (strpbrk(number, ".eEni") == NULL) /* would read back as an integer */
      snprintf(number, sizeof number, "%.*e", precision > 1 ? precision - 1 : 0, f);
    return emit_scalar(em, number, strlen(number), YAML_PLAIN_SCALAR_STYLE);
  }
  case JSON_TRUE:
    return emit_scalar(em, "true", 4, YAML_PLAIN_SCALAR_STYLE);
  case JSON_FALSE:
    return emit_scalar(em, "false", 5, YAML_PLAIN_SCALAR_STYLE);
  case JSON_NULL:
    return emit_scalar(em, "null", 4, YAML_PLAIN_SCALAR_STYLE);
  }
  return false;
}

char *
json_to_yaml(const json_t *j, size_t *len)
{
  yaml_emitter_t em;
  if (!yaml_emitter_initialize(&em))
    return NULL;
  buf out;
  buf_init(&out);
  buf_puts(&out, "");
  yaml_emitter_set_output(&em, write_to_buf, &out);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_indent(&em, 2);
  yaml_event_t ev;
  bool ok =
      yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&em, &ev);
  ok = ok && yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
       yaml_emitter_emit(&em, &ev);
  ok = ok && emit_node(&em, j ? j : json_null());
  ok = ok && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev);
  ok = ok && yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
  ok = ok && yaml_emitter_flush(&em);
  yaml_emitter_delete(&em);
  if (!ok) {
    buf_free(&out);
    return NULL;
  }
  return buf_steal(&out, len);
}
