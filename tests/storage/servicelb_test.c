/* servicelb_test.c — the LoadBalancer status controller against a real registry: Ready
 * nodes' addresses become status.loadBalancer.ingress, a younger Service asking for a
 * port already served stays pending until the port is free, and a Service that stops
 * being a LoadBalancer loses its ingress. */
#include "controller_fixture.h"

extern const struct controller_def servicelb_controller_def;

static void
create_node(struct client_fixture *f, const char *name, const char *ip, bool ready)
{
  char text[512];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"status\":{\"conditions\":[{\"type\":\"Ready\","
           "\"status\":\"%s\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"%s\"}]}}",
           name, ready ? "True" : "False", ip);
  json_t *node = json_of(text);
  k8c_err err = {0};
  const struct api_resource *res = api_resource_find("", "v1", "nodes");
  json_t *out = NULL;
  CHECK_INT(client_create(f->client, res, "", node, NULL, &out, &err), 0);
  /* status is not taken on create: write it through the status subresource */
  if (out) {
    json_object_set(out, "status", json_object_get(node, "status"));
    CHECK_INT(client_update_status(f->client, res, "", name, out, NULL, NULL, &err), 0);
  }
  k8c_err_clear(&err);
  json_decref(out);
  json_decref(node);
}

static void
create_lb(struct client_fixture *f, const char *name, int port)
{
  char text[512];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{"
           "\"port\":%d}]}}",
           name, port);
  json_t *svc = json_of(text);
  k8c_err err = {0};
  CHECK_INT(client_create(f->client, api_resource_find("", "v1", "services"), "default", svc, NULL,
                          NULL, &err),
            0);
  k8c_err_clear(&err);
  json_decref(svc);
}

/* The Service's ingress as compact JSON (caller frees) once it equals want, or the last
 * seen value after 5 s. */
static char *
wait_ingress(struct client_fixture *f, const char *name, const char *want)
{
  char *seen = NULL;
  for (int i = 0; i < 100; i++) {
    free(seen);
    json_t *svc = fixture_get(f, "services", "default", name);
    json_t *ing =
        json_object_get(json_object_get(json_object_get(svc, "status"), "loadBalancer"), "ingress");
    seen = ing ? json_dumps(ing, JSON_COMPACT) : xstrdup("[]");
    json_decref(svc);
    if (strcmp(seen, want) == 0)
      break;
    usleep(50 * 1000);
  }
  return seen;
}

TEST(servicelb_sets_ingress_to_ready_nodes_and_resolves_port_conflicts)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &servicelb_controller_def), 0);
  struct client_fixture *f = &cf.f;
  create_node(f, "node-a", "192.168.77.1", true);
  create_node(f, "node-b", "192.168.77.2", true);
  create_node(f, "node-c", "192.168.77.3", false);

  create_lb(f, "first", 80);
  char *seen = wait_ingress(f, "first", "[{\"ip\":\"192.168.77.1\"},{\"ip\":\"192.168.77.2\"}]");
  CHECK_STR(seen, "[{\"ip\":\"192.168.77.1\"},{\"ip\":\"192.168.77.2\"}]");
  free(seen);

  sleep(1); /* creationTimestamp has a resolution of one second */
  create_lb(f, "second", 80);
  usleep(300 * 1000);
  seen = wait_ingress(f, "second", "[]");
  CHECK_STR(seen, "[]");
  free(seen);

  k8c_err err = {0};
  CHECK_INT(client_delete(f->client, api_resource_find("", "v1", "services"), "default", "first",
                          NULL, NULL, NULL, &err),
            0);
  k8c_err_clear(&err);
  seen = wait_ingress(f, "second", "[{\"ip\":\"192.168.77.1\"},{\"ip\":\"192.168.77.2\"}]");
  CHECK_STR(seen, "[{\"ip\":\"192.168.77.1\"},{\"ip\":\"192.168.77.2\"}]");
  free(seen);

  /* no longer a LoadBalancer: the ingress goes */
  json_t *patch = json_of("{\"spec\":{\"type\":\"ClusterIP\",\"ports\":[{\"port\":80,"
                          "\"nodePort\":null}]}}");
  CHECK_INT(client_patch(f->client, api_resource_find("", "v1", "services"), "default", "second",
                         "application/merge-patch+json", patch, NULL, NULL, &err),
            0);
  if (err.status)
    fprintf(stderr, "patch: %s\n", err.message);
  k8c_err_clear(&err);
  json_decref(patch);
  seen = wait_ingress(f, "second", "[]");
  CHECK_STR(seen, "[]");
  free(seen);

  informer_factory_stop(cf.ctx.informers); /* no handler runs on a stopped controller */
  controller_fixture_close(&cf);
}

TEST_MAIN()
