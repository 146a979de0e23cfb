/* client_fixture.h — what the client tests share: a real registry over a temporary
 * SQLite store with the "default" namespace, an in-process client on it, and small
 * helpers to build objects from JSON text. */
#ifndef K8C_TESTS_CLIENT_FIXTURE_H
#define K8C_TESTS_CLIENT_FIXTURE_H

#include "client/client.h"
#include "lib/mem.h"
#include "registry/registry.h"
#include "testlib.h"

#include <stdlib.h>
#include <time.h>

struct client_fixture {
  char dir[64];
  storage *s;
  struct registry reg;
  k8c_client *client;
  const struct api_resource *configmaps;
};

static inline int
client_fixture_open(struct client_fixture *f)
{
  snprintf(f->dir, sizeof f->dir, "/tmp/k8c-client-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  k8c_err err = {0};
  f->s = storage_open("", f->dir, &err);
  if (f->s == NULL)
    return -1;
  struct registry_config cfg = {
      .service_cidr = "10.43.0.0/16", .node_port_min = 30000, .node_port_max = 32767};
  if (registry_init(&f->reg, f->s, &cfg, &err) < 0)
    return -1;
  f->client = client_inprocess_new(&f->reg, "client-test");
  f->configmaps = api_resource_find("", "v1", "configmaps");
  const struct api_resource *nsres = api_resource_find("", "v1", "namespaces");
  json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "default");
  int rc = client_create(f->client, nsres, "", ns, NULL, NULL, &err);
  json_decref(ns);
  k8c_err_clear(&err);
  return rc;
}

static inline void
client_fixture_close(struct client_fixture *f)
{
  client_free(f->client);
  registry_destroy(&f->reg);
  f->s->ops->destroy(f->s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  CHECK_INT(system(cmd), 0);
}

/* Parses a JSON text the test wrote; aborts the test binary on a typo. */
static inline json_t *
json_of(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL) {
    fprintf(stderr, "bad JSON in test: %s: %s\n", jerr.text, text);
    abort();
  }
  return j;
}

/* Creates a ConfigMap in "default"; returns 0 or the error status. */
static inline int
create_configmap(struct client_fixture *f, const char *name, const char *labels_json,
                 const char *data_json)
{
  char text[1024];
  snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"data\":%s}", name,
           labels_json ? labels_json : "{}", data_json ? data_json : "{}");
  json_t *obj = json_of(text);
  k8c_err err = {0};
  int rc = client_create(f->client, f->configmaps, "default", obj, NULL, NULL, &err);
  json_decref(obj);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

static inline int
patch_configmap(struct client_fixture *f, const char *name, const char *merge_patch)
{
  json_t *p = json_of(merge_patch);
  k8c_err err = {0};
  int rc = client_patch(f->client, f->configmaps, "default", name, "application/merge-patch+json",
                        p, NULL, NULL, &err);
  json_decref(p);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

static inline int
delete_configmap(struct client_fixture *f, const char *name)
{
  k8c_err err = {0};
  int rc = client_delete(f->client, f->configmaps, "default", name, NULL, NULL, NULL, &err);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

static inline long long
fixture_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline const char *
name_of(const json_t *obj)
{
  return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

#endif
