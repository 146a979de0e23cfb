/* registry_parsed_test.c — the registry's parsed-object cache end to end: what a create,
 * a bind or an in-process status update leaves in the cache is exactly what parsing the stored text
 * gives (same members, same order), the shared tree a write started from is never
 * changed, in-process watch events carry it, and kinds other than pods stay out. */
#include "client/informer_decode.h"
#include "client_fixture.h"
#include "registry/parsed_cache.h"

#include <string.h>

static const char *pod_text =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":"
    "\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"resources\":{"
    "\"requests\":{\"cpu\":\"50m\"}}}]}}";

static void
create_pod(struct client_fixture *f, const char *name)
{
  char text[512];
  snprintf(text, sizeof text, pod_text, name);
  json_t *pod = json_of(text);
  k8c_err err = {0};
  CHECK_INT(client_create(f->client, api_resource_find("", "v1", "pods"), "default", pod, NULL,
                          NULL, &err),
            0);
  json_decref(pod);
}

static cache_obj *
current(struct client_fixture *f, const char *name)
{
  struct registry_target t = {api_resource_find("", "v1", "pods"), "default", name, ""};
  cache_obj *co = NULL;
  k8c_err err = {0};
  CHECK_INT(registry_get(&f->reg, &t, &co, &err), 0);
  return co;
}

/* The cached tree of the pod's current revision dumps to the very text the watch cache
 * serves (member order included). Returns it (new reference). */
static json_t *
check_cached_matches_text(struct client_fixture *f, const char *name)
{
  cache_obj *co = current(f, name);
  json_t *tree = registry_parsed_object(&f->reg, api_resource_find("", "v1", "pods"), co);
  CHECK(tree != NULL);
  if (tree) {
    char *dumped = json_dumps(tree, JSON_COMPACT);
    CHECK_STR(dumped, cache_obj_text(co, NULL));
    free(dumped);
  }
  cache_obj_unref(co);
  return tree;
}

static void
update_status(struct client_fixture *f, const char *name, const char *phase, json_t **out)
{
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  k8c_err err = {0};
  json_t *cur = NULL;
  CHECK_INT(client_get(f->client, pods, "default", name, &cur, &err), 0);
  json_t *copy = json_copy(cur);
  json_object_set_new(copy, "status", json_pack("{s:s,s:s}", "phase", phase, "podIP", "10.0.0.9"));
  CHECK_INT(client_update_status(f->client, pods, "default", name, copy, NULL, out, &err), 0);
  json_decref(copy);
  json_decref(cur);
}

TEST(bind_and_status_leave_exactly_the_parsed_text)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open_cached(&f, true), 0);
  create_pod(&f, "a");
  k8c_err err = {0};
  CHECK_INT(client_bind(f.client, "default", "a", NULL, "node-1", &err), 0);
  json_t *bound = check_cached_matches_text(&f, "a");
  char *bound_text = json_dumps(bound, JSON_COMPACT);
  /* A status update starts from the bound tree (copied): the tree stays as it was. */
  update_status(&f, "a", "Running", NULL);
  char *after = json_dumps(bound, JSON_COMPACT);
  CHECK_STR(after, bound_text);
  free(after);
  free(bound_text);
  json_decref(bound);
  json_t *running = check_cached_matches_text(&f, "a");
  CHECK_STR(json_string_value(json_object_get(json_object_get(running, "status"), "phase")),
            "Running");
  CHECK_STR(json_string_value(json_object_get(json_object_get(running, "spec"), "nodeName")),
            "node-1");
  json_decref(running);
  client_fixture_close(&f);
}

TEST(bind_from_a_cached_tree_leaves_it_unchanged)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open_cached(&f, true), 0);
  create_pod(&f, "b");
  update_status(&f, "b", "Pending", NULL); /* result unused: cached */
  json_t *pending = check_cached_matches_text(&f, "b");
  char *before = json_dumps(pending, JSON_COMPACT);
  k8c_err err = {0};
  CHECK_INT(client_bind(f.client, "default", "b", NULL, "node-2", &err), 0);
  char *after = json_dumps(pending, JSON_COMPACT);
  CHECK_STR(after, before);
  CHECK(json_object_get(json_object_get(pending, "spec"), "nodeName") == NULL);
  free(after);
  free(before);
  json_t *bound = check_cached_matches_text(&f, "b");
  /* Copy-on-write: the levels the binding did not change are the very same values. */
  CHECK(json_object_get(json_object_get(bound, "spec"), "containers") ==
        json_object_get(json_object_get(pending, "spec"), "containers"));
  json_decref(bound);
  json_decref(pending);
  /* A second binding still fails as before. */
  CHECK_INT(client_bind(f.client, "default", "b", NULL, "node-3", &err), -1);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  client_fixture_close(&f);
}

TEST(a_result_the_caller_keeps_is_not_cached)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open_cached(&f, true), 0);
  /* A create's caller gets its own object; the cache keeps a copy. */
  char text[512];
  snprintf(text, sizeof text, pod_text, "c");
  json_t *pod = json_of(text);
  json_t *created = NULL;
  k8c_err err = {0};
  CHECK_INT(client_create(f.client, api_resource_find("", "v1", "pods"), "default", pod, NULL,
                          &created, &err),
            0);
  json_object_set_new(created, "spec", json_string("changed by the caller"));
  json_object_set_new(json_object_get(created, "metadata"), "name", json_string("changed"));
  json_decref(created);
  json_decref(pod);
  json_decref(check_cached_matches_text(&f, "c"));
  json_t *out = NULL;
  update_status(&f, "c", "Running", &out);
  CHECK(out != NULL);
  /* The caller owns out and may change it: the cache must not hold it. */
  json_object_set_new(out, "status", json_string("changed by the caller"));
  cache_obj *co = current(&f, "c");
  json_t *tree = registry_parsed_object(&f.reg, api_resource_find("", "v1", "pods"), co);
  CHECK(tree == NULL);
  json_decref(tree);
  cache_obj_unref(co);
  json_decref(out);
  client_fixture_close(&f);
}

/* A status update starts from the cached tree itself: the new pod shares its spec, the
 * defaults never write into it (hostPath's type "" is one obj_default_str would replace),
 * and a caller that keeps the result gets its own copy. */
TEST(status_update_shares_the_stored_spec_and_never_writes_it)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open_cached(&f, true), 0);
  json_t *pod =
      json_of("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"s\"},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"resources\":{\"limits\":{"
              "\"cpu\":\"1\"}}}],\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/x\","
              "\"type\":\"\"}}]}}");
  k8c_err err = {0};
  CHECK_INT(client_create(f.client, api_resource_find("", "v1", "pods"), "default", pod, NULL, NULL,
                          &err),
            0);
  json_decref(pod);
  CHECK_INT(client_bind(f.client, "default", "s", NULL, "node-1", &err), 0);
  json_t *bound = check_cached_matches_text(&f, "s");
  char *bound_text = json_dumps(bound, JSON_COMPACT);
  json_t *host_path = json_object_get(
      json_array_get(json_object_get(json_object_get(bound, "spec"), "volumes"), 0), "hostPath");
  json_t *type_before = json_object_get(host_path, "type");
  CHECK(type_before != NULL);

  update_status(&f, "s", "Running", NULL);
  char *after = json_dumps(bound, JSON_COMPACT);
  CHECK_STR(after, bound_text);
  free(after);
  CHECK(json_object_get(host_path, "type") == type_before);
  json_t *running = check_cached_matches_text(&f, "s");
  CHECK(json_object_get(running, "spec") == json_object_get(bound, "spec"));
  CHECK_STR(json_string_value(json_object_get(json_object_get(running, "status"), "phase")),
            "Running");
  char *running_text = json_dumps(running, JSON_COMPACT);

  /* The caller keeps (and changes) the result: its spec is not the shared one. */
  json_t *out = NULL;
  update_status(&f, "s", "Succeeded", &out);
  CHECK(out != NULL);
  CHECK(json_object_get(out, "spec") != json_object_get(running, "spec"));
  CHECK(json_equal(json_object_get(out, "spec"), json_object_get(running, "spec")));
  json_object_set_new(json_object_get(out, "spec"), "nodeName", json_string("elsewhere"));
  json_decref(out);
  after = json_dumps(running, JSON_COMPACT);
  CHECK_STR(after, running_text);
  free(after);
  after = json_dumps(bound, JSON_COMPACT);
  CHECK_STR(after, bound_text);
  free(after);
  free(running_text);
  free(bound_text);
  json_decref(running);
  json_decref(bound);
  client_fixture_close(&f);
}

TEST(other_kinds_are_not_cached)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open_cached(&f, true), 0);
  CHECK_INT(create_configmap(&f, "cm", NULL, "{\"k\":\"v\"}"), 0);
  struct registry_target t = {f.configmaps, "default", "cm", ""};
  cache_obj *co = NULL;
  k8c_err err = {0};
  CHECK_INT(registry_get(&f.reg, &t, &co, &err), 0);
  CHECK(registry_parsed_object(&f.reg, f.configmaps, co) == NULL);
  cache_obj_unref(co);
  client_fixture_close(&f);
}

TEST(watch_events_carry_the_tree_and_decode_the_same)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open_cached(&f, true), 0);
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  k8c_err err = {0};
  struct client_list_opts lo = {0};
  client_watch *w = client_watch_start(f.client, pods, "default", &lo, &err);
  CHECK(w != NULL);
  int with_tree = 0;
  for (int i = 0; i < 3; i++) {
    /* Each event is read before the next write: the cache keeps a pod's newest tree only. */
    if (i == 0)
      create_pod(&f, "d");
    else if (i == 1)
      CHECK_INT(client_bind(f.client, "default", "d", NULL, "node-1", &err), 0);
    else
      update_status(&f, "d", "Running", NULL);
    struct client_event ev = {0};
    CHECK_INT(client_watch_next(w, &ev, 2000), 1);
    CHECK(ev.parsed != NULL); /* create, bind and status update results are cached */
    json_t *obj = client_event_object(&ev);
    CHECK(obj != NULL);
    char *dumped = json_dumps(obj, JSON_COMPACT);
    CHECK_STR(dumped, ev.raw); /* the tree, if any, is the text parsed */
    free(dumped);
    if (ev.parsed != NULL) {
      /* The informer views the tree instead of parsing the text: the same object. */
      with_tree++;
      json_t *from_tree = informer_decode_view(obj);
      json_t *from_text = informer_decode_object(ev.raw, ev.raw_len);
      char *a = json_dumps(from_tree, JSON_COMPACT), *b = json_dumps(from_text, JSON_COMPACT);
      CHECK_STR(a, b);
      CHECK(strstr(a, "managedFields") == NULL);
      free(a);
      free(b);
      json_decref(from_tree);
      json_decref(from_text);
    }
    client_event_clear(&ev);
  }
  CHECK_INT(with_tree, 3);
  client_watch_close(w);
  client_fixture_close(&f);
}

TEST_MAIN()
