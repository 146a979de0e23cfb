/* endpoints.c — the Endpoints strategy: ports default to TCP, addresses and ports
 * checked, and the ENDPOINTS table ("10.0.0.1:80,10.0.0.2:80 + 3 more..."). */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <arpa/inet.h>
#include <string.h>

static void endpoints_defaults(json_t *obj);
static int endpoints_validate(json_t *obj, const json_t *old, k8c_err *err);
static void endpoints_table_cells(const json_t *obj, json_t *cells);

static const struct table_column endpoints_columns[] = {
    COLUMN_NAME,
    {"Endpoints", "string", "", "The set of all endpoints is the union of all subsets.", 0},
    COLUMN_AGE,
    COLUMN_END,
};

const struct resource_strategy endpoints_strategy = {
    .group = "",
    .plural = "endpoints",
    .defaults = endpoints_defaults,
    .validate = endpoints_validate,
    .columns = endpoints_columns,
    .table_cells = endpoints_table_cells,
};

#define ENDPOINTS_SHOWN 3

static void
endpoints_defaults(json_t *obj)
{
  size_t i, j;
  json_t *subset, *port;
  json_array_foreach (json_object_get(obj, "subsets"), i, subset) {
    json_array_foreach (json_object_get(subset, "ports"), j, port) {
      obj_default_str(port, "protocol", "TCP");
    }
  }
}

static int
endpoints_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
  static const char *const address_lists[] = {"addresses", "notReadyAddresses", NULL};
  size_t i, j;
  json_t *subset, *v;
  json_array_foreach (json_object_get(obj, "subsets"), i, subset) {
    char field[128];
    for (const char *const *l = address_lists; *l; l++) {
      json_array_foreach (json_object_get(subset, *l), j, v) {
        const char *ip = obj_str0(v, "ip");
        unsigned char addr[16];
        snprintf(field, sizeof field, "subsets[%zu].%s[%zu].ip", i, *l, j);
        if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
          cause_invalid_str(err, field, ip,
                            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
      }
    }
    json_array_foreach (json_object_get(subset, "ports"), j, v) {
      snprintf(field, sizeof field, "subsets[%zu].ports[%zu].port", i, j);
      validate_port_number(err, field, obj_int(v, "port", 0));
      snprintf(field, sizeof field, "subsets[%zu].ports[%zu].protocol", i, j);
      validate_one_of(err, field, obj_str0(v, "protocol"), protocols);
    }
  }
  return validation_finish(err, "Endpoints", "", obj_str(obj, "metadata.name"));
}

static void
append_endpoint(buf *b, size_t *shown, const char *ip, const json_t *port)
{
  if (*shown == ENDPOINTS_SHOWN)
    return;
  (*shown)++;
  if (b->len)
    buf_puts(b, ",");
  if (port == NULL)
    buf_puts(b, ip);
  else if (strchr(ip, ':'))
    buf_printf(b, "[%s]:%lld", ip, (long long)obj_int(port, "port", 0));
  else
    buf_printf(b, "%s:%lld", ip, (long long)obj_int(port, "port", 0));
}

static void
endpoints_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  json_t *subsets = json_object_get(obj, "subsets");
  if (json_array_size(subsets) == 0) {
    cell_str(cells, "<none>");
  } else {
    buf b;
    buf_init(&b);
    size_t shown = 0, count = 0, i, j, k;
    json_t *subset, *port, *addr;
    json_array_foreach (subsets, i, subset) {
      json_t *addresses = json_object_get(subset, "addresses");
      json_t *ports = json_object_get(subset, "ports");
      if (json_array_size(ports) == 0) {
        count += json_array_size(addresses);
        json_array_foreach (addresses, k, addr) {
          append_endpoint(&b, &shown, obj_str0(addr, "ip"), NULL);
        }
        continue;
      }
      json_array_foreach (ports, j, port) {
        count += json_array_size(addresses);
        json_array_foreach (addresses, k, addr) {
          append_endpoint(&b, &shown, obj_str0(addr, "ip"), port);
        }
      }
    }
    if (count > ENDPOINTS_SHOWN)
      buf_printf(&b, " + %zu more...", count - ENDPOINTS_SHOWN);
    cell_str(cells, buf_text(&b));
    buf_free(&b);
  }
  cell_age(cells, obj);
}
