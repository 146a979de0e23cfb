/* client_informer_test.c — informers against a real registry: list+watch sync, handlers
 * seeing adds, updates and deletes in the server's order, label-selector informers,
 * indexes, late handlers, periodic resync, relisting after the watch falls behind and
 * its history expires, prompt stop, removing handlers, and the shared factory. */
#include "client/informer.h"
#include "client_fixture.h"

#include <pthread.h>
#include <unistd.h>

/* ---- a handler that records "add:name", "update:name", "delete:name" ---- */

struct recorder {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  json_t *log;          /* array of strings */
  int resyncs;          /* on_update with old == new */
  const char *block_on; /* on_add of this name blocks until released */
  bool blocked, released;
};

static void
recorder_init(struct recorder *r)
{
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  r->log = json_array();
}

static void
recorder_destroy(struct recorder *r)
{
  json_decref(r->log);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
}

static void
record(struct recorder *r, const char *what, json_t *obj)
{
  char line[128];
  snprintf(line, sizeof line, "%s:%s", what, name_of(obj));
  pthread_mutex_lock(&r->mu);
  json_array_append_new(r->log, json_string(line));
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void
on_add(void *ctx, json_t *obj)
{
  struct recorder *r = ctx;
  record(r, "add", obj);
  pthread_mutex_lock(&r->mu);
  if (r->block_on && strcmp(r->block_on, name_of(obj)) == 0) {
    r->blocked = true;
    pthread_cond_broadcast(&r->cv);
    while (!r->released)
      pthread_cond_wait(&r->cv, &r->mu);
  }
  pthread_mutex_unlock(&r->mu);
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  struct recorder *r = ctx;
  if (old_obj == new_obj) {
    pthread_mutex_lock(&r->mu);
    r->resyncs++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return;
  }
  /* Handlers get the previous and the new state of the same object. */
  if (strcmp(name_of(old_obj), name_of(new_obj)) != 0)
    testlib_fail(__FILE__, __LINE__, "update of %s with old %s", name_of(new_obj),
                 name_of(old_obj));
  record(r, "update", new_obj);
}

static void
on_delete(void *ctx, json_t *obj)
{
  record(ctx, "delete", obj);
}

static struct informer_handlers
recorder_handlers(struct recorder *r)
{
  return (struct informer_handlers){
      .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = r};
}

/* Waits up to 5 s until the log has n lines; returns its length. */
static size_t
wait_log(struct recorder *r, size_t n)
{
  long long deadline = fixture_now_ms() + 5000;
  pthread_mutex_lock(&r->mu);
  while (json_array_size(r->log) < n && fixture_now_ms() < deadline) {
    pthread_mutex_unlock(&r->mu);
    usleep(2000);
    pthread_mutex_lock(&r->mu);
  }
  size_t got = json_array_size(r->log);
  pthread_mutex_unlock(&r->mu);
  return got;
}

/* The log as one comma-separated string (caller frees). */
static char *
log_text(struct recorder *r)
{
  pthread_mutex_lock(&r->mu);
  size_t len = 1;
  size_t i;
  json_t *v;
  json_array_foreach (r->log, i, v)
    len += strlen(json_string_value(v)) + 1;
  char *text = calloc(1, len);
  json_array_foreach (r->log, i, v) {
    if (i)
      strcat(text, ",");
    strcat(text, json_string_value(v));
  }
  pthread_mutex_unlock(&r->mu);
  return text;
}

static void
recorder_clear(struct recorder *r)
{
  pthread_mutex_lock(&r->mu);
  json_array_clear(r->log);
  pthread_mutex_unlock(&r->mu);
}

/* ---- tests ---- */

TEST(sync_lists_then_follows_changes_in_order)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "a", NULL, "{\"v\":\"1\"}"), 0);
  CHECK_INT(create_configmap(&f, "b", NULL, NULL), 0);
  struct recorder r;
  recorder_init(&r);
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  struct informer_handlers h = recorder_handlers(&r);
  informer_add_handlers(inf, &h);
  CHECK(!informer_has_synced(inf));
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));
  CHECK_INT(informer_list_count(inf), 1);
  /* Handlers ran for the listed objects before the informer reported synced. */
  cleanup_free char *synced_log = log_text(&r);
  CHECK_STR(synced_log, "add:a,add:b");

  json_t *a = informer_get(inf, "default/a");
  CHECK_JSON(json_object_get(a, "data"), "{\"v\":\"1\"}");
  CHECK(informer_get(inf, "default/zzz") == NULL);
  cleanup_free char *rv = informer_last_resource_version(inf);
  CHECK(rv != NULL);

  CHECK_INT(patch_configmap(&f, "a", "{\"data\":{\"v\":\"2\"}}"), 0);
  CHECK_INT(create_configmap(&f, "c", NULL, NULL), 0);
  CHECK_INT(delete_configmap(&f, "b"), 0);
  CHECK_INT(patch_configmap(&f, "c", "{\"data\":{\"x\":\"y\"}}"), 0);
  CHECK_INT(delete_configmap(&f, "a"), 0);
  CHECK_INT(wait_log(&r, 7), 7);
  cleanup_free char *log = log_text(&r);
  CHECK_STR(log, "add:a,add:b,update:a,add:c,delete:b,update:c,delete:a");

  /* The cache reflects the same state; the object we held is unchanged. */
  CHECK_JSON(json_object_get(a, "data"), "{\"v\":\"1\"}");
  json_t **objs = NULL;
  size_t n = 0;
  informer_list(inf, &objs, &n);
  CHECK_INT(n, 1);
  if (n == 1) {
    CHECK_STR(name_of(objs[0]), "c");
    CHECK_JSON(json_object_get(objs[0], "data"), "{\"x\":\"y\"}");
  }
  informer_objs_free(objs, n);
  cleanup_free char *rv2 = informer_last_resource_version(inf);
  CHECK(strtoll(rv2, NULL, 10) > strtoll(rv, NULL, 10));
  CHECK_INT(informer_list_count(inf), 1); /* no relist was needed */

  json_decref(a);
  informer_free(inf);
  recorder_destroy(&r);
  client_fixture_close(&f);
}

TEST(sync_lists_a_large_collection_in_pages)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  enum { COUNT = 501 }; /* two pages of 500 */
  for (int i = 0; i < COUNT; i++) {
    char name[16];
    snprintf(name, sizeof name, "cm-%04d", i);
    CHECK_INT(create_configmap(&f, name, NULL, NULL), 0);
  }
  struct recorder r;
  recorder_init(&r);
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  struct informer_handlers h = recorder_handlers(&r);
  informer_add_handlers(inf, &h);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 10000));
  CHECK_INT(informer_list_count(inf), 1); /* one list, however many pages */
  json_t **objs = NULL;
  size_t n = 0;
  informer_list(inf, &objs, &n);
  CHECK_INT(n, COUNT);
  if (n == COUNT) {
    CHECK_STR(name_of(objs[0]), "cm-0000");
    CHECK_STR(name_of(objs[COUNT - 1]), "cm-0500");
  }
  informer_objs_free(objs, n);
  /* And it follows changes made after the list. */
  CHECK_INT(delete_configmap(&f, "cm-0250"), 0);
  CHECK_INT(wait_log(&r, COUNT + 1), COUNT + 1);
  CHECK(informer_get(inf, "default/cm-0250") == NULL);
  informer_free(inf);
  recorder_destroy(&r);
  client_fixture_close(&f);
}

TEST(label_selector_informer_sees_objects_enter_and_leave)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "in", "{\"app\":\"web\"}", NULL), 0);
  CHECK_INT(create_configmap(&f, "out", "{\"app\":\"db\"}", NULL), 0);
  struct recorder r;
  recorder_init(&r);
  struct informer_config cfg = {.label_selector = "app=web"};
  informer *inf = informer_new(f.client, f.configmaps, "default", &cfg);
  struct informer_handlers h = recorder_handlers(&r);
  informer_add_handlers(inf, &h);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));
  CHECK_INT(patch_configmap(&f, "out", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}"), 0);
  CHECK_INT(patch_configmap(&f, "in", "{\"metadata\":{\"labels\":{\"app\":\"db\"}}}"), 0);
  CHECK_INT(create_configmap(&f, "new-db", "{\"app\":\"db\"}", NULL), 0);
  CHECK_INT(create_configmap(&f, "new-web", "{\"app\":\"web\"}", NULL), 0);
  CHECK_INT(wait_log(&r, 4), 4);
  cleanup_free char *log = log_text(&r);
  CHECK_STR(log, "add:in,add:out,delete:in,add:new-web");
  CHECK(informer_get(inf, "default/in") == NULL);
  json_t *got = informer_get(inf, "default/out");
  CHECK(got != NULL);
  json_decref(got);

  /* Filtering the cache further by labels. */
  CHECK_INT(patch_configmap(&f, "new-web", "{\"metadata\":{\"labels\":{\"tier\":\"front\"}}}"), 0);
  CHECK_INT(wait_log(&r, 5), 5);
  json_t **objs = NULL;
  size_t n = 0;
  CHECK_INT(informer_list_selected(inf, "tier=front", &objs, &n, &err), 0);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_STR(name_of(objs[0]), "new-web");
  informer_objs_free(objs, n);
  CHECK_INT(informer_list_selected(inf, "", &objs, &n, &err), 0);
  CHECK_INT(n, 2);
  informer_objs_free(objs, n);
  CHECK_INT(informer_list_selected(inf, "a b", &objs, &n, &err), -1);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);

  informer_free(inf);
  recorder_destroy(&r);
  client_fixture_close(&f);
}

TEST(index_finds_objects_by_a_field_and_follows_changes)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "p1", NULL, "{\"node\":\"n1\"}"), 0);
  CHECK_INT(create_configmap(&f, "p2", NULL, "{\"node\":\"n2\"}"), 0);
  CHECK_INT(create_configmap(&f, "p3", NULL, "{\"node\":\"n1\"}"), 0);
  CHECK_INT(create_configmap(&f, "unscheduled", NULL, NULL), 0);
  struct recorder r;
  recorder_init(&r);
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  CHECK_INT(informer_add_index(inf, "node", informer_index_by_path, "data.node"), 0);
  /* Asking again for the same index (as a second component sharing the informer does)
   * is fine; another index under the name is not. */
  char same_path[] = "data.node";
  CHECK_INT(informer_add_index(inf, "node", informer_index_by_path, same_path), 0);
  CHECK_INT(informer_add_index(inf, "node", informer_index_by_path, "data.other"), -1);
  struct informer_handlers h = recorder_handlers(&r);
  informer_add_handlers(inf, &h);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));
  json_t **objs = NULL;
  size_t n = 0;
  CHECK_INT(informer_by_index(inf, "node", "n1", &objs, &n, &err), 0);
  CHECK_INT(n, 2);
  if (n == 2) {
    CHECK_STR(name_of(objs[0]), "p1");
    CHECK_STR(name_of(objs[1]), "p3");
  }
  informer_objs_free(objs, n);

  CHECK_INT(patch_configmap(&f, "p1", "{\"data\":{\"node\":\"n2\"}}"), 0);
  CHECK_INT(delete_configmap(&f, "p3"), 0);
  CHECK_INT(wait_log(&r, 6), 6);
  CHECK_INT(informer_by_index(inf, "node", "n1", &objs, &n, &err), 0);
  CHECK_INT(n, 0);
  informer_objs_free(objs, n);
  CHECK_INT(informer_by_index(inf, "node", "n2", &objs, &n, &err), 0);
  CHECK_INT(n, 2);
  informer_objs_free(objs, n);
  CHECK_INT(informer_by_index(inf, "nope", "n2", &objs, &n, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  /* An index added later covers what is already cached. */
  CHECK_INT(informer_add_index(inf, "name", informer_index_by_path, "metadata.name"), 0);
  CHECK_INT(informer_by_index(inf, "name", "unscheduled", &objs, &n, &err), 0);
  CHECK_INT(n, 1);
  informer_objs_free(objs, n);

  informer_free(inf);
  recorder_destroy(&r);
  client_fixture_close(&f);
}

TEST(late_handlers_get_the_cached_objects_and_resync_replays_updates)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "a", NULL, NULL), 0);
  CHECK_INT(create_configmap(&f, "b", NULL, NULL), 0);
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));

  /* Added after sync, with a resync period (the informer had no resync so far). */
  struct recorder r;
  recorder_init(&r);
  struct informer_handlers h = recorder_handlers(&r);
  h.resync_period_ms = 100;
  informer_add_handlers(inf, &h);
  cleanup_free char *log = log_text(&r);
  CHECK_STR(log, "add:a,add:b");

  long long start = fixture_now_ms();
  pthread_mutex_lock(&r.mu);
  while (r.resyncs < 6 && fixture_now_ms() - start < 5000) {
    pthread_mutex_unlock(&r.mu);
    usleep(5000);
    pthread_mutex_lock(&r.mu);
  }
  int resyncs = r.resyncs;
  pthread_mutex_unlock(&r.mu);
  long long took = fixture_now_ms() - start;
  CHECK(resyncs >= 6);
  /* Three rounds of two objects take about 300 ms (more on a loaded machine). */
  CHECK(took >= 250);
  CHECK(took < 4000);
  /* Resyncs are not reported as changes, and the watch kept working. */
  CHECK_INT(create_configmap(&f, "c", NULL, NULL), 0);
  CHECK_INT(wait_log(&r, 3), 3);
  cleanup_free char *log2 = log_text(&r);
  CHECK_STR(log2, "add:a,add:b,add:c");
  CHECK_INT(informer_list_count(inf), 1);

  informer_free(inf);
  recorder_destroy(&r);
  client_fixture_close(&f);
}

TEST(relists_when_the_watch_falls_behind_and_its_history_expired)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  /* A watcher more than 4 events behind is dropped; resuming needs a history that only
   * keeps 4 events, so the informer must list again. */
  watchcache_set_limits(f.reg.cache, 4, 4);
  CHECK_INT(create_configmap(&f, "gone", NULL, NULL), 0);
  CHECK_INT(create_configmap(&f, "kept", NULL, NULL), 0);
  struct recorder r;
  recorder_init(&r);
  r.block_on = "x00";
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  struct informer_handlers h = recorder_handlers(&r);
  informer_add_handlers(inf, &h);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));

  CHECK_INT(create_configmap(&f, "x00", NULL, NULL), 0);
  /* Wait until the handler holds the informer's thread inside on_add(x00). */
  pthread_mutex_lock(&r.mu);
  while (!r.blocked)
    pthread_cond_wait(&r.cv, &r.mu);
  pthread_mutex_unlock(&r.mu);
  for (int i = 1; i < 20; i++) {
    char name[16];
    snprintf(name, sizeof name, "x%02d", i);
    CHECK_INT(create_configmap(&f, name, NULL, NULL), 0);
  }
  CHECK_INT(delete_configmap(&f, "gone"), 0);
  CHECK_INT(patch_configmap(&f, "kept", "{\"data\":{\"k\":\"v\"}}"), 0);
  pthread_mutex_lock(&r.mu);
  r.released = true;
  pthread_cond_broadcast(&r.cv);
  pthread_mutex_unlock(&r.mu);

  /* 2 initial adds, x00, then the relist: every listed object that was cached is an
   * update (even if unchanged, as upstream), new ones are adds (in key order), missing
   * ones deletes. */
  CHECK_INT(wait_log(&r, 25), 25);
  CHECK(informer_list_count(inf) >= 2);
  json_t **objs = NULL;
  size_t n = 0;
  informer_list(inf, &objs, &n);
  CHECK_INT(n, 21);
  informer_objs_free(objs, n);
  CHECK(informer_get(inf, "default/gone") == NULL);
  json_t *kept = informer_get(inf, "default/kept");
  CHECK_JSON(json_object_get(kept, "data"), "{\"k\":\"v\"}");
  json_decref(kept);
  cleanup_free char *log = log_text(&r);
  CHECK_STR(log, "add:gone,add:kept,add:x00,update:kept,update:x00,add:x01,add:x02,add:x03,"
                 "add:x04,add:x05,add:x06,add:x07,add:x08,add:x09,add:x10,add:x11,add:x12,"
                 "add:x13,add:x14,add:x15,add:x16,add:x17,add:x18,add:x19,delete:gone");

  /* And it keeps following changes after the relist. */
  recorder_clear(&r);
  CHECK_INT(create_configmap(&f, "after", NULL, NULL), 0);
  CHECK_INT(wait_log(&r, 1), 1);
  cleanup_free char *log2 = log_text(&r);
  CHECK_STR(log2, "add:after");

  informer_free(inf);
  recorder_destroy(&r);
  client_fixture_close(&f);
}

TEST(stop_is_prompt_and_the_cache_stays_readable)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "a", NULL, NULL), 0);
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));
  usleep(50 * 1000); /* let the thread block in its watch */
  long long start = fixture_now_ms();
  informer_stop(inf);
  CHECK(fixture_now_ms() - start < 500);
  informer_stop(inf);
  json_t *a = informer_get(inf, "default/a");
  CHECK(a != NULL);
  json_decref(a);
  CHECK_INT(informer_start(inf, &err), 0); /* a stopped informer stays stopped */
  informer_free(inf);

  /* Never started: stop and free are fine, wait_synced times out. */
  inf = informer_new(f.client, f.configmaps, "default", NULL);
  CHECK(!informer_wait_synced(inf, 20));
  informer_free(inf);
  client_fixture_close(&f);
}

TEST(removed_handlers_are_not_called_while_others_still_are)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "a", NULL, NULL), 0);
  struct recorder stays, leaves;
  recorder_init(&stays);
  recorder_init(&leaves);
  informer *inf = informer_new(f.client, f.configmaps, "default", NULL);
  struct informer_handlers hs = recorder_handlers(&stays), hl = recorder_handlers(&leaves);
  informer_add_handlers(inf, &hs);
  informer_add_handlers(inf, &hl);
  k8c_err err = {0};
  CHECK_INT(informer_start(inf, &err), 0);
  CHECK(informer_wait_synced(inf, 5000));
  CHECK_INT(create_configmap(&f, "b", NULL, NULL), 0);
  CHECK_INT(wait_log(&leaves, 2), 2);
  informer_remove_handlers(inf, &leaves);
  informer_remove_handlers(inf, &leaves); /* nothing left: no-op */
  informer_remove_handlers(NULL, &leaves);
  CHECK_INT(delete_configmap(&f, "a"), 0);
  CHECK_INT(create_configmap(&f, "c", NULL, NULL), 0);
  CHECK_INT(wait_log(&stays, 4), 4);
  cleanup_free char *stays_log = log_text(&stays);
  CHECK_STR(stays_log, "add:a,add:b,delete:a,add:c");
  cleanup_free char *leaves_log = log_text(&leaves);
  CHECK_STR(leaves_log, "add:a,add:b");
  informer_free(inf);
  recorder_destroy(&stays);
  recorder_destroy(&leaves);
  client_fixture_close(&f);
}

TEST(factory_shares_one_informer_per_collection)
{
  struct client_fixture f;
  CHECK_INT(client_fixture_open(&f), 0);
  CHECK_INT(create_configmap(&f, "a", "{\"app\":\"x\"}", NULL), 0);
  informer_factory *fac = informer_factory_new(f.client, 0);
  informer *all = informer_factory_get(fac, f.configmaps, "default", NULL, NULL);
  informer *same = informer_factory_get(fac, f.configmaps, "default", NULL, NULL);
  informer *selected = informer_factory_get(fac, f.configmaps, "default", "app=y", NULL);
  informer *everywhere = informer_factory_get(fac, f.configmaps, "", NULL, NULL);
  CHECK(all == same);
  CHECK(all != selected);
  CHECK(all != everywhere);
  k8c_err err = {0};
  CHECK_INT(informer_factory_start(fac, &err), 0);
  CHECK(informer_factory_wait_synced(fac, 5000));
  json_t **objs = NULL;
  size_t n = 0;
  informer_list(selected, &objs, &n);
  CHECK_INT(n, 0);
  informer_objs_free(objs, n);
  informer_list(all, &objs, &n);
  CHECK_INT(n, 1);
  informer_objs_free(objs, n);
  /* Requested after start: started at once. */
  informer *late = informer_factory_get(fac, f.configmaps, "default", "app=x", NULL);
  CHECK(informer_wait_synced(late, 5000));
  informer_list(late, &objs, &n);
  CHECK_INT(n, 1);
  informer_objs_free(objs, n);
  informer_factory_free(fac);
  client_fixture_close(&f);
}

TEST_MAIN()
