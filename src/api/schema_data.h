/* schema_data.h — the generated tables behind schema.h (src/api/gen/schema.c), for
 * schema.c only. Both arrays are sorted by strcmp order of their keys. */
#ifndef K8C_API_SCHEMA_DATA_H
#define K8C_API_SCHEMA_DATA_H

#include "api/schema.h"

struct schema_definition {
  const char *name;      /* "io.k8s.api.core.v1.PodSpec" */
  enum schema_kind kind; /* OBJECT (has fields), SCALAR (Quantity, Time...) or ANY */
  const char *map_type;  /* x-kubernetes-map-type of the definition, or NULL */
};

extern const struct schema_definition schema_definitions[]; /* sorted by name */
extern const size_t schema_definitions_count;
extern const struct schema_field schema_fields[]; /* sorted by (definition, name) */
extern const size_t schema_fields_count;

#endif
