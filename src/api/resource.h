/* resource.h — the kinds k8c serves, as data. The table itself is generated from
 * ../shared/ref/openapi by tools/codegen into src/api/gen/resources.c (do not edit that);
 * hand-kept extras (short names, categories) live in tools/codegen/resource-extras.tsv. */
#ifndef K8C_API_RESOURCE_H
#define K8C_API_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>

struct api_resource {
  const char *group;     /* "" for the core group */
  const char *version;   /* "v1" */
  const char *kind;      /* "Deployment" */
  const char *list_kind; /* "DeploymentList" */
  const char *plural;    /* "deployments" (the URL segment) */
  const char *singular;  /* "deployment" */
  bool namespaced;
  const char *const *verbs; /* NULL-terminated, discovery order/names: "create","delete",... */
  const char *const *short_names; /* NULL-terminated, may be empty */
  const char *const *categories;  /* NULL-terminated, e.g. "all" */
  const char *definition;         /* OpenAPI definition: "io.k8s.api.apps.v1.Deployment" */
  bool has_status;                /* serves the status subresource */
  bool has_scale;                 /* serves the scale subresource */
  /* Storage: objects of resources sharing a storage_resource share keys; e.g. events.k8s.io
   * events are stored as core events. Key prefix is "/registry/" + storage_resource + "/". */
  const char *storage_resource; /* "pods", "apps/deployments",
                                   "apiextensions.k8s.io/customresourcedefinitions" */
  /* true for the group's preferred version of this resource (discovery's preferredVersion;
   * e.g. autoscaling/v2 horizontalpodautoscalers, not autoscaling/v1). */
  bool preferred;
};

extern const struct api_resource api_resources[];
extern const size_t api_resources_count;

/* Lookups; NULL when not served. */
const struct api_resource *api_resource_find(const char *group, const char *version,
                                             const char *plural);
const struct api_resource *api_resource_find_kind(const char *group, const char *version,
                                                  const char *kind);

#endif
