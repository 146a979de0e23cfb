/* discovery.c — /api, /apis, /api/v1, /apis/GROUP[/VERSION] in both the legacy form
 * and the aggregated form (apidiscovery.k8s.io v2 and v2beta1) that kubectl 1.27+ asks
 * for, all built from the generated kind table. */
#include "apiserver/server_internal.h"

#include "lib/mem.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

static json_t *
string_array(const char *const *list)
{
  json_t *a = json_array();
  for (int i = 0; list && list[i]; i++)
    json_array_append_new(a, json_string(list[i]));
  return a;
}

static bool
same_gv(const struct api_resource *res, const char *group, const char *version)
{
  return strcmp(res->group, group) == 0 && strcmp(res->version, version) == 0;
}

/* Groups in table order, each once. */
static size_t
collect_groups(const char **groups, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < api_resources_count; i++) {
    const char *g = api_resources[i].group;
    if (g[0] == 0)
      continue;
    bool seen = false;
    for (size_t j = 0; j < n; j++)
      if (strcmp(groups[j], g) == 0)
        seen = true;
    if (!seen && n < max)
      groups[n++] = g;
  }
  return n;
}

static size_t
collect_versions(const char *group, const char **versions, size_t max, const char **preferred)
{
  size_t n = 0;
  *preferred = NULL;
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *res = &api_resources[i];
    if (strcmp(res->group, group) != 0)
      continue;
    if (res->preferred && *preferred == NULL)
      *preferred = res->version;
    bool seen = false;
    for (size_t j = 0; j < n; j++)
      if (strcmp(versions[j], res->version) == 0)
        seen = true;
    if (!seen && n < max)
      versions[n++] = res->version;
  }
  if (*preferred == NULL && n)
    *preferred = versions[0];
  return n;
}

static json_t *
api_group_json(const char *group)
{
  const char *versions[8];
  const char *preferred = NULL;
  size_t nv = collect_versions(group, versions, 8, &preferred);
  json_t *vs = json_array();
  for (size_t i = 0; i < nv; i++) {
    char *gv = xasprintf("%s/%s", group, versions[i]);
    json_array_append_new(vs, json_pack("{s:s,s:s}", "groupVersion", gv, "version", versions[i]));
    free(gv);
  }
  char *pgv = xasprintf("%s/%s", group, preferred ? preferred : "v1");
  json_t *g = json_pack("{s:s,s:o,s:{s:s,s:s}}", "name", group, "versions", vs, "preferredVersion",
                        "groupVersion", pgv, "version", preferred ? preferred : "v1");
  free(pgv);
  return g;
}

static json_t *
resource_list_json(const char *group, const char *version)
{
  json_t *resources = json_array();
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *res = &api_resources[i];
    if (!same_gv(res, group, version))
      continue;
    json_t *r = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", res->plural, "singularName",
                          res->singular, "namespaced", res->namespaced, "kind", res->kind, "verbs",
                          string_array(res->verbs));
    if (res->short_names && res->short_names[0])
      json_object_set_new(r, "shortNames", string_array(res->short_names));
    if (res->categories && res->categories[0])
      json_object_set_new(r, "categories", string_array(res->categories));
    json_array_append_new(resources, r);
    if (res->has_status) {
      char *name = xasprintf("%s/status", res->plural);
      json_array_append_new(resources,
                            json_pack("{s:s,s:s,s:b,s:s,s:[sss]}", "name", name, "singularName", "",
                                      "namespaced", res->namespaced, "kind", res->kind, "verbs",
                                      "get", "patch", "update"));
      free(name);
    }
    if (res->group[0] == 0 && strcmp(res->plural, "pods") == 0)
      json_array_append_new(resources, json_pack("{s:s,s:s,s:b,s:s,s:[s]}", "name", "pods/binding",
                                                 "singularName", "", "namespaced", true, "kind",
                                                 "Binding", "verbs", "create"));
    if (res->group[0] == 0 && strcmp(res->plural, "serviceaccounts") == 0)
      json_array_append_new(resources,
                            json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:[s]}", "name",
                                      "serviceaccounts/token", "singularName", "", "namespaced",
                                      true, "group", "authentication.k8s.io", "version", "v1",
                                      "kind", "TokenRequest", "verbs", "create"));
    if (res->has_scale) {
      char *name = xasprintf("%s/scale", res->plural);
      json_array_append_new(resources, json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:[sss]}", "name", name,
                                                 "singularName", "", "namespaced", res->namespaced,
                                                 "group", "autoscaling", "version", "v1", "kind",
                                                 "Scale", "verbs", "get", "patch", "update"));
      free(name);
    }
  }
  char *gv = group[0] ? xasprintf("%s/%s", group, version) : xstrdup(version);
  json_t *list = json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                           "groupVersion", gv, "resources", resources);
  free(gv);
  return list;
}

/* ---------- aggregated discovery ---------- */

static json_t *
aggregated_resources(const char *group, const char *version)
{
  json_t *resources = json_array();
  for (size_t i = 0; i < api_resources_count; i++) {
    const struct api_resource *res = &api_resources[i];
    if (!same_gv(res, group, version))
      continue;
    json_t *r = json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:o}", "resource", res->plural,
                          "responseKind", "group", res->group, "version", res->version, "kind",
                          res->kind, "scope", res->namespaced ? "Namespaced" : "Cluster",
                          "singularResource", res->singular, "verbs", string_array(res->verbs));
    if (res->short_names && res->short_names[0])
      json_object_set_new(r, "shortNames", string_array(res->short_names));
    if (res->categories && res->categories[0])
      json_object_set_new(r, "categories", string_array(res->categories));
    json_t *subs = json_array();
    if (res->has_status)
      json_array_append_new(subs,
                            json_pack("{s:s,s:{s:s,s:s,s:s},s:[sss]}", "subresource", "status",
                                      "responseKind", "group", res->group, "version", res->version,
                                      "kind", res->kind, "verbs", "get", "patch", "update"));
    if (res->has_scale)
      json_array_append_new(subs, json_pack("{s:s,s:{s:s,s:s,s:s},s:[sss]}", "subresource", "scale",
                                            "responseKind", "group", "autoscaling", "version", "v1",
                                            "kind", "Scale", "verbs", "get", "patch", "update"));
    if (res->group[0] == 0 && strcmp(res->plural, "pods") == 0)
      json_array_append_new(subs, json_pack("{s:s,s:{s:s,s:s,s:s},s:[s]}", "subresource", "binding",
                                            "responseKind", "group", "", "version", "v1", "kind",
                                            "Binding", "verbs", "create"));
    if (res->group[0] == 0 && strcmp(res->plural, "serviceaccounts") == 0)
      json_array_append_new(subs,
                            json_pack("{s:s,s:{s:s,s:s,s:s},s:[s]}", "subresource", "token",
                                      "responseKind", "group", "authentication.k8s.io", "version",
                                      "v1", "kind", "TokenRequest", "verbs", "create"));
    if (json_array_size(subs))
      json_object_set_new(r, "subresources", subs);
    else
      json_decref(subs);
    json_array_append_new(resources, r);
  }
  return resources;
}

static json_t *
aggregated_group(const char *group)
{
  const char *versions[8];
  const char *preferred = NULL;
  size_t nv = collect_versions(group, versions, 8, &preferred);
  json_t *vs = json_array();
  /* Preferred version first, as upstream orders them. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < nv; i++) {
      bool is_pref = preferred && strcmp(versions[i], preferred) == 0;
      if ((pass == 0) != is_pref)
        continue;
      json_array_append_new(vs, json_pack("{s:s,s:o,s:s}", "version", versions[i], "resources",
                                          aggregated_resources(group, versions[i]), "freshness",
                                          "Current"));
    }
  json_t *meta = json_object();
  if (group[0])
    json_object_set_new(meta, "name", json_string(group));
  return json_pack("{s:o,s:o}", "metadata", meta, "versions", vs);
}

static const char *
aggregated_media(const struct api_request *r)
{
  const char *accept = request_header(r, "Accept");
  if (accept == NULL)
    return NULL;
  if (strstr(accept, "as=APIGroupDiscoveryList") == NULL)
    return NULL;
  /* Honour the client's first choice among the versions we serve. */
  const char *v2 = strstr(accept, "g=apidiscovery.k8s.io;v=v2;");
  const char *v2b = strstr(accept, "g=apidiscovery.k8s.io;v=v2beta1");
  if (v2 && (!v2b || v2 < v2b))
    return "v2";
  if (v2b)
    return "v2beta1";
  return NULL;
}

static int
send_aggregated(struct api_request *r, const char *version, bool legacy_core)
{
  json_t *items = json_array();
  if (legacy_core) {
    json_array_append_new(items, aggregated_group(""));
  } else {
    const char *groups[64];
    size_t ng = collect_groups(groups, 64);
    for (size_t i = 0; i < ng; i++)
      json_array_append_new(items, aggregated_group(groups[i]));
  }
  char *api_version = xasprintf("apidiscovery.k8s.io/%s", version);
  json_t *list = json_pack("{s:s,s:s,s:{},s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                           api_version, "metadata", "items", items);
  free(api_version);
  char *body = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(list);
  char *ctype =
      xasprintf("application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList", version);
  int ret = response_send(r, 200, ctype, body, strlen(body), NULL);
  free(ctype);
  return ret;
}

int
handle_discovery(struct apiserver *s, struct api_request *r, const char *path, int *ret)
{
  if (strcmp(r->method, "GET") != 0)
    return 0;
  if (strcmp(path, "/api") == 0) {
    const char *agg = aggregated_media(r);
    if (agg) {
      *ret = send_aggregated(r, agg, true);
      return 1;
    }
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%d",
             s->cfg.advertise_address ? s->cfg.advertise_address : "127.0.0.1", s->cfg.port);
    json_t *v =
        json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions", "versions", "v1",
                  "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress", addr);
    *ret = response_json(r, 200, v, NULL, NULL);
    json_decref(v);
    return 1;
  }
  if (strcmp(path, "/apis") == 0) {
    const char *agg = aggregated_media(r);
    if (agg) {
      *ret = send_aggregated(r, agg, false);
      return 1;
    }
    const char *groups[64];
    size_t ng = collect_groups(groups, 64);
    json_t *gl = json_array();
    for (size_t i = 0; i < ng; i++)
      json_array_append_new(gl, api_group_json(groups[i]));
    json_t *v =
        json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", gl);
    *ret = response_json(r, 200, v, NULL, NULL);
    json_decref(v);
    return 1;
  }
  if (strcmp(path, "/api/v1") == 0) {
    json_t *v = resource_list_json("", "v1");
    *ret = response_json(r, 200, v, NULL, NULL);
    json_decref(v);
    return 1;
  }
  if (strncmp(path, "/apis/", 6) == 0) {
    char group[128] = "", version[64] = "";
    const char *rest = path + 6;
    const char *slash = strchr(rest, '/');
    if (slash == NULL) {
      snprintf(group, sizeof group, "%s", rest);
    } else {
      snprintf(group, sizeof group, "%.*s", (int)(slash - rest), rest);
      if (strchr(slash + 1, '/') != NULL)
        return 0;
      snprintf(version, sizeof version, "%s", slash + 1);
    }
    bool known = false;
    for (size_t i = 0; i < api_resources_count; i++)
      if (strcmp(api_resources[i].group, group) == 0 &&
          (version[0] == 0 || strcmp(api_resources[i].version, version) == 0))
        known = true;
    if (!known)
      return 0;
    json_t *v;
    if (version[0] == 0) {
      v = api_group_json(group);
      json_object_set_new(v, "kind", json_string("APIGroup"));
      json_object_set_new(v, "apiVersion", json_string("v1"));
    } else {
      v = resource_list_json(group, version);
    }
    *ret = response_json(r, 200, v, NULL, NULL);
    json_decref(v);
    return 1;
  }
  return 0;
}
