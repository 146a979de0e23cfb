/* apply_default.c — apply_server_side and apply_track_update bound to the generated
 * schema and resource tables and the wall clock.
 *
 * Kept apart from apply.c so that code using only the _env variants (the unit tests)
 * does not pull the generated tables in. */
#include "api/resource.h"
#include "api/schema.h"
#include "registry/apply.h"

#include <string.h>

/* "apps/v1" → group "apps", version "v1"; "v1" → core group. */
static const char *
definition_from_resources(const char *api_version, const char *kind)
{
  const char *slash = strchr(api_version, '/');
  char group[256] = "";
  const char *version = api_version;
  if (slash != NULL) {
    size_t len = (size_t)(slash - api_version);
    if (len >= sizeof group)
      return NULL;
    memcpy(group, api_version, len);
    group[len] = '\0';
    version = slash + 1;
  }
  const struct api_resource *r = api_resource_find_kind(group, version, kind);
  return r ? r->definition : NULL;
}

static const struct apply_env default_env = {
    .field_lookup = schema_field_lookup,
    .definition_for = definition_from_resources,
    .now = NULL,
};

json_t *
apply_server_side(const json_t *live, const json_t *applied, const char *definition,
                  const char *manager, bool force, k8c_err *err)
{
  return apply_server_side_env(&default_env, live, applied, definition, manager, force, err);
}

void
apply_track_update(json_t *obj, const json_t *old, const char *manager, const char *operation,
                   const char *subresource)
{
  apply_track_update_env(&default_env, obj, old, manager, operation, subresource);
}
