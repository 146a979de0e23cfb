/* endpointslice.c — the EndpointSlice strategy: ports default to TCP with name "",
 * addressType required, and the ADDRESSTYPE/PORTS/ENDPOINTS table. */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

static void endpointslice_defaults(json_t *obj);
static int endpointslice_validate(json_t *obj, const json_t *old, k8c_err *err);
static void endpointslice_table_cells(const json_t *obj, json_t *cells);

static const struct table_column endpointslice_columns[] = {
    COLUMN_NAME,
    {"AddressType", "string", "",
     "addressType specifies the type of address carried by this EndpointSlice.", 0},
    {"Ports", "string", "",
     "ports specifies the list of network ports exposed by each endpoint in this slice.", 0},
    {"Endpoints", "string", "", "endpoints is a list of unique endpoints in this slice.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy endpointslice_strategy = {
    .group = "discovery.k8s.io",
    .plural = "endpointslices",
    .defaults = endpointslice_defaults,
    .validate = endpointslice_validate,
    .columns = endpointslice_columns,
    .table_cells = endpointslice_table_cells,
};

#define SHOWN 3

static void
endpointslice_defaults(json_t *obj)
{
  size_t i;
  json_t *port;
  json_array_foreach (json_object_get(obj, "ports"), i, port) {
    if (!json_is_object(port))
      continue;
    obj_default_new(port, "name", json_string(""));
    obj_default_str(port, "protocol", "TCP");
  }
}

static int
endpointslice_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  static const char *const types[] = {"FQDN", "IPv4", "IPv6", NULL};
  const char *type = obj_str(obj, "addressType");
  if (type == NULL || *type == '\0')
    cause_required(err, "addressType", NULL);
  else
    validate_one_of(err, "addressType", type, types);
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(obj, "endpoints"), i, e) {
    if (obj_len(e, "addresses") == 0) {
      char field[64];
      snprintf(field, sizeof field, "endpoints[%zu].addresses", i);
      cause_required(err, field, "must contain at least 1 address");
    }
  }
  static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
  json_array_foreach (json_object_get(obj, "ports"), i, e) {
    char field[64];
    snprintf(field, sizeof field, "ports[%zu].protocol", i);
    validate_one_of(err, field, obj_str0(e, "protocol"), protocols);
    json_t *port = json_object_get(e, "port");
    if (json_is_integer(port)) {
      snprintf(field, sizeof field, "ports[%zu].port", i);
      validate_port_number(err, field, json_integer_value(port));
    }
  }
  return validation_finish(err, "EndpointSlice", "discovery.k8s.io", obj_str(obj, "metadata.name"));
}

/* listWithMoreString: first 3, then " + N more...", "<unset>" when empty. */
static void
finish_list(json_t *cells, buf *b, size_t count)
{
  if (count > SHOWN)
    buf_printf(b, " + %zu more...", count - SHOWN);
  else if (b->len == 0)
    buf_puts(b, "<unset>");
  cell_str(cells, buf_text(b));
  buf_free(b);
}

static void
endpointslice_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "addressType"));
  buf b;
  buf_init(&b);
  size_t count = 0, i, j;
  json_t *p, *e, *a;
  json_array_foreach (json_object_get(obj, "ports"), i, p) {
    if (count < SHOWN) {
      json_t *port = json_object_get(p, "port");
      const char *name = obj_str(p, "name");
      if (json_is_integer(port))
        buf_printf(&b, "%s%lld", b.len ? "," : "", (long long)json_integer_value(port));
      else
        buf_printf(&b, "%s%s", b.len ? "," : "", name ? name : "*");
    }
    count++;
  }
  finish_list(cells, &b, count);
  buf_init(&b);
  count = 0;
  json_array_foreach (json_object_get(obj, "endpoints"), i, e) {
    json_array_foreach (json_object_get(e, "addresses"), j, a) {
      if (count < SHOWN)
        buf_printf(&b, "%s%s", b.len ? "," : "", json_string_value(a) ?: "");
      count++;
    }
  }
  finish_list(cells, &b, count);
  cell_age(cells, obj);
}
