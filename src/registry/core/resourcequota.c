/* resourcequota.c — the ResourceQuota strategy: quantity checks on spec.hard and the
 * AGE/REQUEST/LIMIT table ("cpu: 0/2, pods: 1/10"). */
#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdlib.h>
#include <string.h>

static int resourcequota_validate(json_t *obj, const json_t *old, k8c_err *err);
static void resourcequota_table_cells(const json_t *obj, json_t *cells);

static const struct table_column resourcequota_columns[] = {
    COLUMN_NAME,
    COLUMN_AGE,
    {"Request", "string", "",
     "Request represents a minimum amount of cpu/memory that a container may consume.", 0},
    {"Limit", "string", "",
     "Limits control the maximum amount of cpu/memory that a container may use independent of "
     "contention on the node.",
     0},
    COLUMN_END,
};

const struct resource_strategy resourcequota_strategy = {
    .group = "",
    .plural = "resourcequotas",
    .validate = resourcequota_validate,
    .columns = resourcequota_columns,
    .table_cells = resourcequota_table_cells,
};

static int
resourcequota_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, true, NULL);
  const char *key;
  json_t *value;
  json_object_foreach (obj_get(obj, "spec.hard"), key, value) {
    char field[320];
    snprintf(field, sizeof field, "spec.hard[%s]", key);
    validate_quantity(err, field, value);
  }
  return validation_finish(err, "ResourceQuota", "", obj_str(obj, "metadata.name"));
}

static int
compare_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
resourcequota_table_cells(const json_t *obj, json_t *cells)
{
  json_t *hard = obj_get(obj, "spec.hard");
  json_t *used = obj_get(obj, "status.used");
  size_t n = json_object_size(hard), i = 0;
  const char **keys = xcalloc(n + 1, sizeof *keys);
  const char *key;
  json_t *value;
  json_object_foreach (hard, key, value) {
    keys[i++] = key;
  }
  qsort(keys, n, sizeof *keys, compare_keys);
  buf request, limit;
  buf_init(&request);
  buf_init(&limit);
  for (i = 0; i < n; i++) {
    buf *w = strncmp(keys[i], "limits.", 7) == 0 ? &limit : &request;
    const char *u = json_string_value(json_object_get(used, keys[i]));
    const char *h = json_string_value(json_object_get(hard, keys[i]));
    buf_printf(w, "%s%s: %s/%s", w->len ? ", " : "", keys[i], u ? u : "0", h ? h : "0");
  }
  free(keys);
  cell_name(cells, obj);
  cell_age(cells, obj);
  cell_str(cells, buf_text(&request));
  cell_str(cells, buf_text(&limit));
  buf_free(&request);
  buf_free(&limit);
}
