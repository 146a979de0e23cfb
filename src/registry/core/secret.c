/* secret.c — the Secret strategy: type Opaque by default, stringData folded into data
 * (base64) as upstream's conversion does, per-type required keys, immutable type and
 * `immutable` data, the `type` field selector and the TYPE/DATA table. */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/core/configmap.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <string.h>

static void secret_defaults(json_t *obj);
static int secret_validate(json_t *obj, const json_t *old, k8c_err *err);
static void secret_selectable_fields(const json_t *obj, json_t *fields);
static void secret_table_cells(const json_t *obj, json_t *cells);

static const struct table_column secret_columns[] = {
    COLUMN_NAME,
    {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
    {"Data", "string", "", "Data contains the secret data.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

static const char *const secret_fields[] = {"type", NULL};

const struct resource_strategy secret_strategy = {
    .group = "",
    .plural = "secrets",
    .defaults = secret_defaults,
    .validate = secret_validate,
    .selectable_fields = secret_selectable_fields,
    .columns = secret_columns,
    .table_cells = secret_table_cells,
    .supported_fields = secret_fields,
};

static void
base64_into(buf *b, const unsigned char *in, size_t n)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)in[i + 1] << 8;
    if (i + 2 < n)
      v |= in[i + 2];
    char out[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
                   i + 1 < n ? alphabet[(v >> 6) & 63] : '=', i + 2 < n ? alphabet[v & 63] : '='};
    buf_append(b, out, 4);
  }
}

static void
secret_defaults(json_t *obj)
{
  obj_default_str(obj, "type", "Opaque");
  json_t *string_data = json_object_get(obj, "stringData");
  if (!json_is_object(string_data)) {
    json_object_del(obj, "stringData");
    return;
  }
  json_t *data = obj_ensure(obj, "data");
  const char *key;
  json_t *value;
  json_object_foreach (string_data, key, value) {
    const char *s = json_string_value(value);
    if (s == NULL)
      continue;
    buf b;
    buf_init(&b);
    base64_into(&b, (const unsigned char *)s, json_string_length(value));
    json_object_set_new(data, key, json_string(buf_text(&b)));
    buf_free(&b);
  }
  json_object_del(obj, "stringData");
}

static void
require_data_key(k8c_err *err, const json_t *obj, const char *key)
{
  if (json_object_get(json_object_get(obj, "data"), key))
    return;
  char field[128];
  snprintf(field, sizeof field, "data[%s]", key);
  cause_required(err, field, NULL);
}

static int
secret_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  validate_data_keys(err, json_object_get(obj, "data"), "data", NULL, NULL);
  const char *type = obj_str0(obj, "type");
  if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
    if (json_object_get(obj_get(obj, "metadata.annotations"),
                        "kubernetes.io/service-account.name") == NULL)
      cause_required(err, "metadata.annotations[kubernetes.io/service-account.name]", NULL);
  } else if (strcmp(type, "kubernetes.io/dockercfg") == 0) {
    require_data_key(err, obj, ".dockercfg");
  } else if (strcmp(type, "kubernetes.io/dockerconfigjson") == 0) {
    require_data_key(err, obj, ".dockerconfigjson");
  } else if (strcmp(type, "kubernetes.io/tls") == 0) {
    require_data_key(err, obj, "tls.key");
    require_data_key(err, obj, "tls.crt");
  } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
    require_data_key(err, obj, "ssh-privatekey");
  } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
    json_t *data = json_object_get(obj, "data");
    if (!json_object_get(data, "username") && !json_object_get(data, "password"))
      cause_required(err, "data[username]", NULL);
  }
  if (old != NULL) {
    cleanup_free char *repr = go_quote(type);
    validate_immutable(err, "type", json_object_get(obj, "type"), json_object_get(old, "type"),
                       repr);
    validate_immutable_data(err, obj, old, NULL);
  }
  return validation_finish(err, "Secret", "", obj_str(obj, "metadata.name"));
}

static void
secret_selectable_fields(const json_t *obj, json_t *fields)
{
  field_set(fields, "type", obj_str(obj, "type"));
}

static void
secret_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "type"));
  cell_int(cells, (long long)obj_len(obj, "data"));
  cell_age(cells, obj);
}
