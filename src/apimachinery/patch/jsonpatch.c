/* jsonpatch.c — RFC 6902 JSON Patch with the apiserver's (evanphx/json-patch v4) rules.
 *
 * Every operation works on a private deep copy of the document. A JSON pointer is
 * resolved the way upstream does it: all tokens but the last select a container
 * (object or array), the last token names the member or index inside it. */
#include "apimachinery/patch/jsonpatch.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

/* A decoded reference token: bytes of a member name or of an array index. */
struct token {
  char *text; /* owned, NUL-terminated (may also contain NULs; use len) */
  size_t len;
};

/* The detail of an operation failure; the client only sees the generic 422 text. */
struct op_failure {
  char detail[512];
};

static int op_fail(struct op_failure *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
op_fail(struct op_failure *f, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->detail, sizeof f->detail, fmt, ap);
  va_end(ap);
  return -1;
}

/* "~1" becomes "/", then "~0" becomes "~", in one left-to-right pass. */
static struct token
decode_token(const char *s, size_t len)
{
  struct token t = {xmalloc(len + 1), 0};
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '~' && i + 1 < len && (s[i + 1] == '1' || s[i + 1] == '0')) {
      t.text[t.len++] = s[i + 1] == '1' ? '/' : '~';
      i++;
    } else {
      t.text[t.len++] = s[i];
    }
  }
  t.text[t.len] = '\0';
  return t;
}

/* Go's strconv.Atoi: optional sign, at least one decimal digit, no spaces. */
static bool
parse_index(const struct token *t, long long *out)
{
  size_t i = 0;
  bool negative = false;
  if (t->len > 0 && (t->text[0] == '+' || t->text[0] == '-')) {
    negative = t->text[0] == '-';
    i = 1;
  }
  if (i == t->len)
    return false;
  unsigned long long v = 0;
  for (; i < t->len; i++) {
    char c = t->text[i];
    if (c < '0' || c > '9')
      return false;
    if (v > ((unsigned long long)LLONG_MAX + 1 - (unsigned)(c - '0')) / 10)
      return false;
    v = v * 10 + (unsigned)(c - '0');
  }
  if (!negative && v > (unsigned long long)LLONG_MAX)
    return false;
  *out = negative ? (long long)(0 - v) : (long long)v;
  return true;
}

/* Resolves an index for reading, replacing or removing: negative counts from the end. */
static int
existing_index(const json_t *array, const struct token *key, size_t *out, struct op_failure *f)
{
  long long idx;
  if (!parse_index(key, &idx))
    return op_fail(f, "strconv.Atoi: parsing \"%s\": invalid syntax", key->text);
  long long size = (long long)json_array_size(array);
  if (idx < 0) {
    if (idx < -size)
      return op_fail(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
    idx += size;
  }
  if (idx >= size)
    return op_fail(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
  *out = (size_t)idx;
  return 0;
}

/* The value a container holds under key; NULL when absent or null (upstream treats
 * both as "no node"). Fails only for a bad array index. */
static int
container_get(json_t *container, const struct token *key, json_t **out, struct op_failure *f)
{
  *out = NULL;
  if (json_is_object(container)) {
    json_t *v = json_object_getn(container, key->text, key->len);
    *out = json_is_null(v) ? NULL : v;
    return 0;
  }
  size_t idx = 0;
  if (existing_index(container, key, &idx, f) < 0)
    return -1;
  json_t *v = json_array_get(container, idx);
  *out = json_is_null(v) ? NULL : v;
  return 0;
}

/* Adds (steals) value under key: an object member is set, an array element is
 * inserted before the index, "-" appends. */
static int
container_add(json_t *container, const struct token *key, json_t *value, struct op_failure *f)
{
  if (json_is_object(container)) {
    if (json_object_setn_new(container, key->text, key->len, value) < 0)
      return op_fail(f, "cannot set member \"%s\"", key->text);
    return 0;
  }
  if (key->len == 1 && key->text[0] == '-') {
    if (json_array_append_new(container, value) < 0)
      return op_fail(f, "cannot append to array");
    return 0;
  }
  long long idx;
  if (!parse_index(key, &idx)) {
    json_decref(value);
    return op_fail(f, "value was not a proper array index: '%s'", key->text);
  }
  long long slots = (long long)json_array_size(container) + 1;
  if (idx >= slots || idx < -slots) {
    json_decref(value);
    return op_fail(f, "Unable to access invalid index: %lld: invalid index referenced", idx);
  }
  if (idx < 0)
    idx += slots;
  if (json_array_insert_new(container, (size_t)idx, value) < 0)
    return op_fail(f, "cannot insert into array");
  return 0;
}

static int
container_remove(json_t *container, const struct token *key, struct op_failure *f)
{
  if (json_is_object(container)) {
    if (json_object_deln(container, key->text, key->len) < 0)
      return op_fail(f, "Unable to remove nonexistent key: %s: missing value", key->text);
    return 0;
  }
  size_t idx = 0;
  if (existing_index(container, key, &idx, f) < 0)
    return -1;
  return json_array_remove(container, idx) < 0 ? op_fail(f, "cannot remove index") : 0;
}

/* Replaces an existing element (arrays) or sets a member (objects). */
static int
container_set(json_t *container, const struct token *key, json_t *value, struct op_failure *f)
{
  if (json_is_object(container))
    return container_add(container, key, value, f);
  size_t idx = 0;
  if (existing_index(container, key, &idx, f) < 0) {
    json_decref(value);
    return -1;
  }
  return json_array_set_new(container, idx, value) < 0 ? op_fail(f, "cannot set index") : 0;
}

/* Finds the container that the pointer's last token refers into; NULL when the pointer
 * has no "/" or an intermediate token does not lead to an object or array. On success
 * *key receives the decoded last token (caller frees key->text). */
static json_t *
find_container(json_t *root, const char *path, size_t path_len, struct token *key)
{
  const char *slash = memchr(path, '/', path_len);
  if (slash == NULL)
    return NULL;
  json_t *current = root;
  const char *part = slash + 1;
  const char *end = path + path_len;
  for (;;) {
    const char *next = memchr(part, '/', (size_t)(end - part));
    if (next == NULL)
      break;
    struct token t = decode_token(part, (size_t)(next - part));
    json_t *child = NULL;
    struct op_failure ignored;
    int rc = container_get(current, &t, &child, &ignored);
    free(t.text);
    if (rc < 0 || child == NULL || !(json_is_object(child) || json_is_array(child)))
      return NULL;
    current = child;
    part = next + 1;
  }
  *key = decode_token(part, (size_t)(end - part));
  return current;
}

/* Reads a string member ("path" or "from") of an operation. */
static int
op_string(const json_t *op, const char *name, const char **s, size_t *len)
{
  json_t *v = json_object_get(op, name);
  if (!json_is_string(v))
    return -1;
  *s = json_string_value(v);
  *len = json_string_length(v);
  return 0;
}

/* A fresh copy of the operation's value; null when "value" is absent or null. */
static json_t *
op_value_copy(const json_t *op)
{
  json_t *v = json_object_get(op, "value");
  return v ? json_deep_copy(v) : json_null();
}

/* Upstream's equality for "test": `have` is the document's value, `want` the
 * operation's. Objects match when each member of `have` is in `want` and equal. */
static bool
test_equal(const json_t *have, const json_t *want)
{
  if (json_is_object(have)) {
    if (!json_is_object(want))
      return false;
    const char *k;
    size_t klen;
    json_t *hv;
    json_object_keylen_foreach((json_t *)have, k, klen, hv)
    {
      json_t *wv = json_object_getn(want, k, klen);
      if (wv == NULL)
        return false;
      if (json_is_null(hv) && json_is_null(wv))
        continue;
      if (json_is_null(hv) || json_is_null(wv) || !test_equal(hv, wv))
        return false;
    }
    return true;
  }
  if (json_is_array(have)) {
    if (!json_is_array(want) || json_array_size(have) != json_array_size(want))
      return false;
    for (size_t i = 0; i < json_array_size(have); i++) {
      json_t *hv = json_array_get(have, i), *wv = json_array_get(want, i);
      if (json_is_null(hv) && json_is_null(wv))
        continue;
      if (json_is_null(hv) || json_is_null(wv) || !test_equal(hv, wv))
        return false;
    }
    return true;
  }
  return want != NULL && json_equal(have, want);
}

/* Size of a value's compact JSON encoding, as upstream counts copied bytes. */
static size_t
encoded_size(const json_t *v)
{
  if (v == NULL)
    return 0;
  return json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
}

struct apply_state {
  json_t *root;        /* the document being patched (owned) */
  size_t copied_bytes; /* accumulated size of "copy" values */
  struct op_failure failure;
};

static int
op_add(struct apply_state *st, const json_t *op, const char *path, size_t len)
{
  struct token key;
  json_t *c = find_container(st->root, path, len, &key);
  if (c == NULL)
    return op_fail(&st->failure,
                   "add operation does not apply: doc is missing path: \"%s\": missing value",
                   path);
  int rc = container_add(c, &key, op_value_copy(op), &st->failure);
  free(key.text);
  return rc;
}

static int
op_remove(struct apply_state *st, const char *path, size_t len)
{
  struct token key;
  json_t *c = find_container(st->root, path, len, &key);
  if (c == NULL)
    return op_fail(&st->failure,
                   "remove operation does not apply: doc is missing path: \"%s\": missing value",
                   path);
  int rc = container_remove(c, &key, &st->failure);
  free(key.text);
  return rc;
}

static int
op_replace(struct apply_state *st, const json_t *op, const char *path, size_t len)
{
  if (len == 0) {
    json_t *v = json_object_get(op, "value");
    if (!json_is_object(v) && !json_is_array(v))
      return op_fail(&st->failure, "replace operation value must be object or array");
    json_decref(st->root);
    st->root = json_deep_copy(v);
    return 0;
  }
  struct token key;
  json_t *c = find_container(st->root, path, len, &key);
  if (c == NULL)
    return op_fail(&st->failure,
                   "replace operation does not apply: doc is missing path: %s: missing value",
                   path);
  json_t *existing;
  int rc = container_get(c, &key, &existing, &st->failure);
  if (rc == 0)
    rc = container_set(c, &key, op_value_copy(op), &st->failure);
  else
    op_fail(&st->failure, "replace operation does not apply: doc is missing key: %s: missing value",
            path);
  free(key.text);
  return rc;
}

static int
op_move(struct apply_state *st, const json_t *op, const char *path, size_t len)
{
  const char *from;
  size_t from_len;
  if (op_string(op, "from", &from, &from_len) < 0)
    return op_fail(&st->failure, "move operation failed to decode from: missing value");
  struct token key;
  json_t *c = find_container(st->root, from, from_len, &key);
  if (c == NULL)
    return op_fail(&st->failure,
                   "move operation does not apply: doc is missing from path: %s: missing value",
                   from);
  json_t *value;
  int rc = container_get(c, &key, &value, &st->failure);
  json_t *moved = rc == 0 ? json_incref(value ? value : json_null()) : NULL;
  if (rc == 0)
    rc = container_remove(c, &key, &st->failure);
  free(key.text);
  if (rc < 0 || path == NULL) {
    json_decref(moved);
    return rc < 0 ? rc
                  : op_fail(&st->failure, "move operation failed to decode path: missing value");
  }
  c = find_container(st->root, path, len, &key);
  if (c == NULL) {
    json_decref(moved);
    return op_fail(
        &st->failure,
        "move operation does not apply: doc is missing destination path: %s: missing value", path);
  }
  rc = container_add(c, &key, moved, &st->failure);
  free(key.text);
  return rc;
}

static int
op_test(struct apply_state *st, const json_t *op, const char *path, size_t len)
{
  json_t *want = json_object_get(op, "value");
  if (len == 0) {
    if (want != NULL && test_equal(st->root, want))
      return 0;
    return op_fail(&st->failure, "testing value %s failed: test failed", path);
  }
  struct token key;
  json_t *c = find_container(st->root, path, len, &key);
  if (c == NULL)
    return op_fail(&st->failure,
                   "test operation does not apply: is missing path: %s: missing value", path);
  json_t *have;
  int rc = container_get(c, &key, &have, &st->failure);
  free(key.text);
  if (rc < 0)
    return rc;
  bool ok;
  if (have == NULL)
    ok = want == NULL || json_is_null(want);
  else
    ok = want != NULL && !json_is_null(want) && test_equal(have, want);
  return ok ? 0 : op_fail(&st->failure, "testing value %s failed: test failed", path);
}

static int
op_copy(struct apply_state *st, const json_t *op, const char *path, size_t len)
{
  const char *from;
  size_t from_len;
  if (op_string(op, "from", &from, &from_len) < 0)
    return op_fail(&st->failure, "copy operation failed to decode from: missing value");
  struct token key;
  json_t *c = find_container(st->root, from, from_len, &key);
  if (c == NULL)
    return op_fail(&st->failure,
                   "copy operation does not apply: doc is missing from path: %s: missing value",
                   from);
  json_t *value;
  int rc = container_get(c, &key, &value, &st->failure);
  free(key.text);
  if (rc < 0)
    return rc;
  if (path == NULL)
    return op_fail(&st->failure, "copy operation failed to decode path: missing value");
  c = find_container(st->root, path, len, &key);
  if (c == NULL)
    return op_fail(
        &st->failure,
        "copy operation does not apply: doc is missing destination path: %s: missing value", path);
  st->copied_bytes += encoded_size(value);
  if (st->copied_bytes > JSON_PATCH_MAX_COPY_BYTES) {
    free(key.text);
    return op_fail(&st->failure,
                   "Unable to complete the copy, the accumulated size increase of copy is %zu, "
                   "exceeding the limit %ld",
                   st->copied_bytes, JSON_PATCH_MAX_COPY_BYTES);
  }
  rc = container_add(c, &key, value ? json_deep_copy(value) : json_null(), &st->failure);
  free(key.text);
  return rc;
}

static int
apply_operation(struct apply_state *st, const json_t *op)
{
  json_t *kind_value = json_object_get(op, "op");
  const char *kind = json_is_string(kind_value) ? json_string_value(kind_value) : "unknown";
  const char *path = NULL;
  size_t len = 0;
  bool has_path = op_string(op, "path", &path, &len) == 0;

  if (strcmp(kind, "move") == 0)
    return op_move(st, op, has_path ? path : NULL, len);
  if (strcmp(kind, "copy") == 0)
    return op_copy(st, op, has_path ? path : NULL, len);
  bool known = strcmp(kind, "add") == 0 || strcmp(kind, "remove") == 0 ||
               strcmp(kind, "replace") == 0 || strcmp(kind, "test") == 0;
  if (!known)
    return op_fail(&st->failure, "Unexpected kind: %s", kind);
  if (!has_path)
    return op_fail(&st->failure, "%s operation failed to decode path: missing value", kind);
  if (strcmp(kind, "add") == 0)
    return op_add(st, op, path, len);
  if (strcmp(kind, "remove") == 0)
    return op_remove(st, path, len);
  if (strcmp(kind, "replace") == 0)
    return op_replace(st, op, path, len);
  return op_test(st, op, path, len);
}

json_t *
json_patch_apply(const json_t *doc, const json_t *patch, k8c_err *err)
{
  if (json_is_null(patch))
    return json_deep_copy(doc);
  if (!json_is_array(patch))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                     json_is_object(patch) ? "object" : "non-array value"),
           NULL;
  size_t i;
  json_t *op;
  json_array_foreach (patch, i, op) {
    if (!json_is_object(op) && !json_is_null(op))
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "json: cannot unmarshal non-object into Go value of type "
                       "jsonpatch.Operation (operation %zu)",
                       i),
             NULL;
  }
  if (json_array_size(patch) > JSON_PATCH_MAX_OPERATIONS)
    return k8c_error(err, 413, K8C_REASON_TOO_LARGE,
                     "Request entity too large: The allowed maximum operations in a JSON patch "
                     "is %d, got %zu",
                     JSON_PATCH_MAX_OPERATIONS, json_array_size(patch)),
           NULL;
  if (!json_is_object(doc) && !json_is_array(doc))
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "the server rejected our request due to an error in our request"),
           NULL;

  struct apply_state st = {.root = json_deep_copy(doc)};
  json_array_foreach (patch, i, op) {
    if (apply_operation(&st, op) < 0) {
      log_debug("json patch operation %zu failed: %s", i, st.failure.detail);
      json_decref(st.root);
      k8c_error(err, 422, K8C_REASON_INVALID,
                "the server rejected our request due to an error in our request");
      return NULL;
    }
  }
  return st.root;
}
