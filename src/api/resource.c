/* resource.c — lookups over the generated api_resources[] table (src/api/gen/resources.c).
 * The table has a few dozen rows, so a linear scan is simpler than an index and as fast. */
#include "api/resource.h"

#include <string.h>

static bool
same_group_version(const struct api_resource *r, const char *group, const char *version)
{
  return strcmp(r->group, group ? group : "") == 0 && strcmp(r->version, version) == 0;
}

const struct api_resource *
api_resource_find(const char *group, const char *version, const char *plural)
{
  if (version == NULL || plural == NULL)
    return NULL;
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *r = &api_resources[i];
    if (same_group_version(r, group, version) && strcmp(r->plural, plural) == 0)
      return r;
  }
  return NULL;
}

const struct api_resource *
api_resource_find_kind(const char *group, const char *version, const char *kind)
{
  if (version == NULL || kind == NULL)
    return NULL;
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *r = &api_resources[i];
    if (same_group_version(r, group, version) && strcmp(r->kind, kind) == 0)
      return r;
  }
  return NULL;
}
