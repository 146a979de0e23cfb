/* strategy.h — what one kind adds to the generic REST store (registry/store.c):
 * its defaults, validation, create/update preparation, selectable fields and table
 * columns. One file per kind under src/registry/<group>/<kind>.c defines a
 * `const struct resource_strategy`, listed in src/registry/strategies.c.
 * Everything a kind does not set falls back to the generic behaviour. */
#ifndef K8C_REGISTRY_STRATEGY_H
#define K8C_REGISTRY_STRATEGY_H

#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>

/* A server-side Table column (meta.k8s.io/v1 TableColumnDefinition). */
struct table_column {
  const char *name;   /* "NAME", shown upper-cased by kubectl; upstream uses "Name" */
  const char *type;   /* "string", "integer", "date" ... */
  const char *format; /* "name" for the NAME column, else "" */
  const char *description;
  int priority; /* 0 = always shown, 1 = only with -o wide */
};

/* Context a strategy may need (allocators, cluster config). Owned by the server. */
struct strategy_env;

struct resource_strategy {
  const char *group;  /* "" for core */
  const char *plural; /* "pods" — applies to every served version of this resource */

  /* Fills upstream's defaults in place. Runs on create and on update, before validation. */
  void (*defaults)(json_t *obj);

  /* Create-time preparation, after defaults (e.g. a Service's clusterIP allocation, clearing
   * status for kinds with a status subresource). May fail (e.g. range exhausted). */
  int (*prepare_create)(const struct strategy_env *env, json_t *obj, k8c_err *err);

  /* Update-time preparation: obj is the new object, old the stored one (e.g. keep immutable
   * allocated fields). */
  int (*prepare_update)(const struct strategy_env *env, json_t *obj, const json_t *old,
                        k8c_err *err);

  /* Validates obj (old is NULL on create). On failure returns -1 with a 422 Invalid
   * err whose causes name each bad field ("spec.replicas") the way upstream does. */
  int (*validate)(json_t *obj, const json_t *old, k8c_err *err);

  /* Adds to `fields` (a JSON object) the values of this kind's selectable fields besides
   * metadata.name and metadata.namespace, e.g. "spec.nodeName" and "status.phase". */
  void (*selectable_fields)(const json_t *obj, json_t *fields);

  /* Server-side printing: columns (NULL-name terminated) and one row of cells for obj,
   * appended to `cells` in column order. NULL → the generic NAME, AGE table. */
  const struct table_column *columns;
  void (*table_cells)(const json_t *obj, json_t *cells);

  /* The field labels (besides metadata.name and metadata.namespace) a field selector may
   * use for this resource, NULL-terminated; NULL = none. Same keys selectable_fields fills. */
  const char *const *supported_fields;
};

/* The strategy for a resource (never NULL: an all-NULL strategy if none is registered). */
const struct resource_strategy *strategy_for(const char *group, const char *plural);

#endif
