/* node.c — the Node strategy: allocatable defaults to capacity, the spec.unschedulable
 * field selector, and the STATUS/ROLES/VERSION table (Ready, NotReady,
 * SchedulingDisabled; roles from node-role.kubernetes.io/ labels). */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdlib.h>
#include <string.h>

static void node_defaults(json_t *obj);
static int node_validate(json_t *obj, const json_t *old, k8c_err *err);
static void node_selectable_fields(const json_t *obj, json_t *fields);
static void node_table_cells(const json_t *obj, json_t *cells);

static const struct table_column node_columns[] = {
    COLUMN_NAME,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    COLUMN_AGE,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", "List of addresses reachable to the node.", 1},
    {"External-IP", "string", "", "List of addresses reachable to the node.", 1},
    {"OS-Image", "string", "", "OS Image reported by the node from /etc/os-release.", 1},
    {"Kernel-Version", "string", "", "Kernel Version reported by the node from 'uname -r'.", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote API.", 1},
    COLUMN_END,
};

static const char *const node_fields[] = {"spec.unschedulable", NULL};

const struct resource_strategy node_strategy = {
    .group = "",
    .plural = "nodes",
    .defaults = node_defaults,
    .validate = node_validate,
    .selectable_fields = node_selectable_fields,
    .columns = node_columns,
    .table_cells = node_table_cells,
    .supported_fields = node_fields,
};

static void
node_defaults(json_t *obj)
{
  json_t *status = json_object_get(obj, "status");
  json_t *capacity = json_object_get(status, "capacity");
  if (json_is_object(capacity) && obj_unset(status, "allocatable"))
    json_object_set_new(status, "allocatable", json_deep_copy(capacity));
}

static int
node_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, NULL);
  size_t i;
  json_t *t;
  static const char *const effects[] = {"NoExecute", "NoSchedule", "PreferNoSchedule", NULL};
  json_array_foreach (obj_get(obj, "spec.taints"), i, t) {
    char field[64];
    snprintf(field, sizeof field, "spec.taints[%zu].key", i);
    validate_qualified_name(err, field, obj_str0(t, "key"));
    snprintf(field, sizeof field, "spec.taints[%zu].effect", i);
    const char *effect = obj_str0(t, "effect");
    if (*effect == '\0')
      cause_required(err, field, NULL);
    else
      validate_one_of(err, field, effect, effects);
  }
  return validation_finish(err, "Node", "", obj_str(obj, "metadata.name"));
}

static void
node_selectable_fields(const json_t *obj, json_t *fields)
{
  field_set_bool(fields, "spec.unschedulable", obj_true(obj, "spec.unschedulable"));
}

static int
compare_strings(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Roles from node-role.kubernetes.io/<role> label keys and the kubernetes.io/role value. */
static char *
node_roles(const json_t *labels)
{
  size_t n = json_object_size(labels), count = 0;
  const char **roles = xcalloc(n + 1, sizeof *roles);
  const char *key;
  json_t *value;
  json_object_foreach ((json_t *)labels, key, value) {
    if (strncmp(key, "node-role.kubernetes.io/", 24) == 0 && key[24])
      roles[count++] = key + 24;
    else if (strcmp(key, "kubernetes.io/role") == 0 && json_string_value(value) &&
             *json_string_value(value))
      roles[count++] = json_string_value(value);
  }
  qsort(roles, count, sizeof *roles, compare_strings);
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < count; i++) {
    if (i > 0 && strcmp(roles[i], roles[i - 1]) == 0)
      continue;
    buf_printf(&b, "%s%s", b.len ? "," : "", roles[i]);
  }
  free(roles);
  if (b.len == 0)
    buf_puts(&b, "<none>");
  return buf_take(&b);
}

static const char *
node_address(const json_t *obj, const char *type)
{
  size_t i;
  json_t *a;
  json_array_foreach (obj_get(obj, "status.addresses"), i, a) {
    if (strcmp(obj_str0(a, "type"), type) == 0)
      return obj_str0(a, "address");
  }
  return "<none>";
}

static void
cell_or_unknown(json_t *cells, const char *s)
{
  cell_str(cells, s && *s ? s : "<unknown>");
}

static void
node_table_cells(const json_t *obj, json_t *cells)
{
  buf status;
  buf_init(&status);
  size_t i;
  json_t *c;
  json_array_foreach (obj_get(obj, "status.conditions"), i, c) {
    if (strcmp(obj_str0(c, "type"), "Ready") == 0) {
      buf_puts(&status, strcmp(obj_str0(c, "status"), "True") == 0 ? "Ready" : "NotReady");
      break;
    }
  }
  if (status.len == 0)
    buf_puts(&status, "Unknown");
  if (obj_true(obj, "spec.unschedulable"))
    buf_puts(&status, ",SchedulingDisabled");
  cell_name(cells, obj);
  cell_str(cells, buf_text(&status));
  buf_free(&status);
  cell_take(cells, node_roles(obj_get(obj, "metadata.labels")));
  cell_age(cells, obj);
  cell_str(cells, obj_str0(obj, "status.nodeInfo.kubeletVersion"));
  cell_str(cells, node_address(obj, "InternalIP"));
  cell_str(cells, node_address(obj, "ExternalIP"));
  cell_or_unknown(cells, obj_str(obj, "status.nodeInfo.osImage"));
  cell_or_unknown(cells, obj_str(obj, "status.nodeInfo.kernelVersion"));
  cell_or_unknown(cells, obj_str(obj, "status.nodeInfo.containerRuntimeVersion"));
}
