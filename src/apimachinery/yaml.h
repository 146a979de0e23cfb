/* yaml.h — YAML bodies in and out, typed the way upstream's sigs.k8s.io/yaml types them:
 * plain scalars resolve YAML-1.1 style (true/yes/on, null/~, 0x1f, 1_000, 1e3), quoted
 * and block scalars stay strings, mapping keys become strings, aliases are expanded
 * (with a budget against "billion laughs"), and output has sorted keys in block style. */
#ifndef K8C_APIMACHINERY_YAML_H
#define K8C_APIMACHINERY_YAML_H

#include "lib/err.h"

#include <jansson.h>
#include <stddef.h>

/* Most nodes alias expansion may add to one document. */
#define YAML_MAX_ALIAS_NODES 500000
/* Deepest nesting accepted. */
#define YAML_MAX_DEPTH 1000

/* Converts one YAML document (data need not be NUL-terminated) to JSON. Empty input gives
 * JSON null. A second non-empty document, a syntax error, an unknown alias, excessive
 * aliasing, a collection used as a key or a non-finite number give NULL with a 400
 * BadRequest whose message names the line and column. Caller owns the result. */
json_t *yaml_to_json(const char *data, size_t len, k8c_err *err);

/* Serializes j as one YAML document (block style, keys sorted, strings quoted when they
 * would read back as another type, multi-line strings as literal blocks). Returns a
 * NUL-terminated buffer the caller frees; *len (if not NULL) gets its length. */
char *json_to_yaml(const json_t *j, size_t *len);

#endif
