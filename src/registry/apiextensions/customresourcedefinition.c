/* customresourcedefinition.c — the CustomResourceDefinition strategy: singular/listKind
 * and conversion None defaults, the name = <plural>.<group> rule, names and versions
 * checks, and the CREATED AT table. */
#include "apimachinery/validation.h"
#include "lib/mem.h"
#include "registry/strategy.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <ctype.h>
#include <string.h>

static void crd_defaults(json_t *obj);
static int crd_validate(json_t *obj, const json_t *old, k8c_err *err);
static void crd_table_cells(const json_t *obj, json_t *cells);

static const struct table_column crd_columns[] = {
    COLUMN_NAME,
    {"Created At", "date", "", "Time the object was created (metadata.creationTimestamp).", 0},
    COLUMN_END,
};

const struct resource_strategy customresourcedefinition_strategy = {
    .group = "apiextensions.k8s.io",
    .plural = "customresourcedefinitions",
    .defaults = crd_defaults,
    .validate = crd_validate,
    .columns = crd_columns,
    .table_cells = crd_table_cells,
};

static void
crd_defaults(json_t *obj)
{
  json_t *spec = obj_ensure(obj, "spec");
  json_t *names = obj_ensure(spec, "names");
  const char *kind = obj_str(names, "kind");
  if (kind && *kind) {
    cleanup_free char *lower = xstrdup(kind);
    for (char *p = lower; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    obj_default_str(names, "singular", lower);
    cleanup_free char *list = xasprintf("%sList", kind);
    obj_default_str(names, "listKind", list);
  }
  json_t *conversion = obj_ensure(spec, "conversion");
  obj_default_str(conversion, "strategy", "None");
  json_t *service = obj_get(conversion, "webhook.clientConfig.service");
  if (json_is_object(service))
    obj_default_int(service, "port", 443);
}

static int
crd_validate(json_t *obj, const json_t *old, k8c_err *err)
{
  validate_meta_of(err, obj, old, false, NULL);
  json_t *spec = json_object_get(obj, "spec");
  const char *name = obj_str0(obj, "metadata.name");
  const char *group = obj_str0(spec, "group");
  const char *plural = obj_str0(spec, "names.plural");
  cleanup_free char *expected = xasprintf("%s.%s", plural, group);
  if (strcmp(name, expected) != 0)
    cause_invalid_str(err, "metadata.name", name, "must be spec.names.plural+\".\"+spec.group");
  if (*group == '\0')
    cause_required(err, "spec.group", NULL);
  else if (strchr(group, '.') == NULL)
    cause_invalid_str(err, "spec.group", group, "should be a domain with at least one dot");
  static const char *const scopes[] = {"Cluster", "Namespaced", NULL};
  const char *scope = obj_str0(spec, "scope");
  if (*scope == '\0')
    cause_required(err, "spec.scope", NULL);
  else
    validate_one_of(err, "spec.scope", scope, scopes);
  if (*plural == '\0')
    cause_required(err, "spec.names.plural", NULL);
  else
    validate_dns1035_label(err, "spec.names.plural", plural);
  if (*obj_str0(spec, "names.kind") == '\0')
    cause_required(err, "spec.names.kind", NULL);
  json_t *versions = json_object_get(spec, "versions");
  if (json_array_size(versions) == 0) {
    cause_required(err, "spec.versions", "must have exactly one version marked as storage version");
  } else {
    size_t i, storage = 0;
    json_t *v;
    json_array_foreach (versions, i, v) {
      storage += obj_true(v, "storage");
      char field[64];
      snprintf(field, sizeof field, "spec.versions[%zu].name", i);
      const char *vname = obj_str0(v, "name");
      if (*vname == '\0')
        cause_required(err, field, NULL);
      else
        validate_dns1035_label(err, field, vname);
    }
    if (storage != 1)
      cause_invalid(err, "spec.versions", "[]apiextensions.CustomResourceDefinitionVersion{...}",
                    "must have exactly one version marked as storage version");
  }
  static const char *const strategies[] = {"None", "Webhook", NULL};
  validate_one_of(err, "spec.conversion.strategy", obj_str0(spec, "conversion.strategy"),
                  strategies);
  if (old != NULL) {
    json_t *old_spec = json_object_get(old, "spec");
    cleanup_free char *repr = go_quote(scope);
    validate_immutable(err, "spec.scope", json_object_get(spec, "scope"),
                       json_object_get(old_spec, "scope"), repr);
  }
  return validation_finish(err, "CustomResourceDefinition", "apiextensions.k8s.io", name);
}

static void
crd_table_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "metadata.creationTimestamp"));
}
