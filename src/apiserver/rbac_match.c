/* rbac_match.c — subject and rule matching with upstream's rules: `*` matches every verb,
 * group or resource; "pods/<star>" every subresource of pods and "<star>/scale" the
 * scale subresource of anything; resourceNames restrict only requests that name an object;
 * nonResourceURLs match exactly or by a prefix ending in `*`. */
#include "apiserver/rbac_match.h"

#include "lib/mem.h"

#include <stdio.h>
#include <string.h>

static const char *
str(const json_t *obj, const char *key)
{
  const char *s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

/* Whether list (a JSON array of strings) holds value or "*". */
static bool
list_has(const json_t *list, const char *value)
{
  size_t i;
  json_t *v;
  json_array_foreach (list, i, v) {
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "*") == 0 || strcmp(s, value) == 0))
      return true;
  }
  return false;
}

static bool
has_group(const struct rbac_attrs *a, const char *group)
{
  if (strcmp(group, "system:authenticated") == 0)
    return true;
  for (size_t i = 0; i < a->ngroups; i++)
    if (strcmp(a->groups[i], group) == 0)
      return true;
  return false;
}

bool
rbac_binding_applies(const json_t *binding, const struct rbac_attrs *a)
{
  const char *binding_ns = str(json_object_get(binding, "metadata"), "namespace");
  size_t i;
  json_t *s;
  json_array_foreach (json_object_get(binding, "subjects"), i, s) {
    const char *kind = str(s, "kind");
    const char *name = str(s, "name");
    if (strcmp(kind, "User") == 0 && strcmp(name, a->user) == 0)
      return true;
    if (strcmp(kind, "Group") == 0 && has_group(a, name))
      return true;
    if (strcmp(kind, "ServiceAccount") == 0) {
      const char *ns = str(s, "namespace");
      char user[600];
      snprintf(user, sizeof user, "system:serviceaccount:%s:%s", ns[0] ? ns : binding_ns, name);
      if (strcmp(user, a->user) == 0)
        return true;
    }
  }
  return false;
}

static bool
resource_matches(const json_t *resources, const struct rbac_attrs *a)
{
  cleanup_free char *full =
      a->subresource[0] ? xasprintf("%s/%s", a->resource, a->subresource) : xstrdup(a->resource);
  size_t i;
  json_t *v;
  json_array_foreach (resources, i, v) {
    const char *r = json_string_value(v);
    if (r == NULL)
      continue;
    if (strcmp(r, "*") == 0 || strcmp(r, full) == 0)
      return true;
    if (a->subresource[0]) {
      size_t n = strlen(a->resource);
      /* "pods/<star>": every subresource of pods; "<star>/log": every resource's log. */
      if (strncmp(r, a->resource, n) == 0 && strcmp(r + n, "/*") == 0)
        return true;
      if (r[0] == '*' && r[1] == '/' && strcmp(r + 2, a->subresource) == 0)
        return true;
    }
  }
  return false;
}

static bool
url_matches(const json_t *urls, const char *path)
{
  size_t i;
  json_t *v;
  json_array_foreach (urls, i, v) {
    const char *u = json_string_value(v);
    if (u == NULL)
      continue;
    size_t n = strlen(u);
    if (strcmp(u, path) == 0 || strcmp(u, "*") == 0)
      return true;
    if (n > 0 && u[n - 1] == '*' && strncmp(u, path, n - 1) == 0)
      return true;
  }
  return false;
}

bool
rbac_rule_allows(const json_t *rule, const struct rbac_attrs *a)
{
  if (!list_has(json_object_get(rule, "verbs"), a->verb))
    return false;
  if (!a->is_resource)
    return url_matches(json_object_get(rule, "nonResourceURLs"), a->path ? a->path : "");
  if (!list_has(json_object_get(rule, "apiGroups"), a->api_group))
    return false;
  if (!resource_matches(json_object_get(rule, "resources"), a))
    return false;
  const json_t *names = json_object_get(rule, "resourceNames");
  if (json_array_size(names) == 0)
    return true;
  return a->name[0] && list_has(names, a->name);
}

bool
rbac_role_allows(const json_t *role, const struct rbac_attrs *a)
{
  size_t i;
  json_t *rule;
  json_array_foreach (json_object_get(role, "rules"), i, rule) {
    if (rbac_rule_allows(rule, a))
      return true;
  }
  return false;
}
