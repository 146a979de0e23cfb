/* watchcache_test.c — the watch cache over a real SQLite store: gets and sorted lists
 * with resourceVersion set, selector filtering through match_fn, watches from a revision
 * and with initial events, upstream's filter transitions, 410 for a trimmed history,
 * termination of a slow watcher, and 1,000 watchers receiving one event. */
#include "storage/watchcache/watchcache.h"
#include "testlib.h"

#include "lib/mem.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- fixture: a fresh store and cache ---------------------------------------------- */

struct fixture {
  char dir[64];
  storage *s;
  watchcache *wc;
};

static void
index_object(void *ctx, const char *key, const json_t *obj, json_t **labels, json_t **fields)
{
  const json_t *meta = json_object_get(obj, "metadata");
  *labels = json_incref(json_object_get(meta, "labels"));
  *fields =
      json_pack("{s:s}", "metadata.name", json_string_value(json_object_get(meta, "name")) ?: "");
}

static storage *
open_store(const char *dir)
{
  cleanup_free char *endpoint = xasprintf("sqlite://%s/state.db?sync=normal", dir);
  k8c_err err = {0};
  storage *s = storage_open(endpoint, dir, &err);
  if (!s)
    fprintf(stderr, "open: %s\n", err.message);
  k8c_err_clear(&err);
  return s;
}

static void
fixture_setup(struct fixture *f, bool with_cache)
{
  snprintf(f->dir, sizeof f->dir, "/tmp/k8c-wcache-XXXXXX");
  if (!mkdtemp(f->dir) || !(f->s = open_store(f->dir)))
    abort();
  f->wc = NULL;
  if (with_cache) {
    k8c_err err = {0};
    f->wc = watchcache_new(f->s, index_object, NULL, &err);
    if (!f->wc)
      abort();
  }
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  return remove(path);
}

static void
fixture_teardown(struct fixture *f)
{
  watchcache_free(f->wc);
  f->s->ops->destroy(f->s);
  CHECK_INT(nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Stores a pod-like object; returns the new revision. expected < 0: create. */
static int64_t
put_pod(storage *s, const char *ns, const char *name, const char *app, int64_t expected)
{
  cleanup_free char *key = xasprintf("/registry/pods/%s/%s", ns, name);
  cleanup_free char *value = xasprintf(
      "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":"
      "\"%s\"}},\"spec\":{}}",
      name, ns, app);
  k8c_err err = {0};
  int64_t rev = 0;
  int rc = expected < 0 ? s->ops->create(s, key, value, strlen(value), &rev, &err)
                        : s->ops->update(s, key, value, strlen(value), expected, &rev, &err);
  if (rc < 0)
    testlib_fail(__FILE__, __LINE__, "writing %s: %s", key, err.message);
  k8c_err_clear(&err);
  return rev;
}

static int64_t
delete_pod(storage *s, const char *ns, const char *name)
{
  cleanup_free char *key = xasprintf("/registry/pods/%s/%s", ns, name);
  k8c_err err = {0};
  int64_t rev = 0;
  if (s->ops->delete (s, key, 0, &rev, &err) < 0)
    testlib_fail(__FILE__, __LINE__, "deleting %s: %s", key, err.message);
  k8c_err_clear(&err);
  return rev;
}

static bool
match_app(void *ctx, const cache_obj *o)
{
  const char *want = ctx;
  const char *app = string_map_get(cache_obj_labels(o), "app");
  return app != NULL && strcmp(app, want) == 0;
}

static json_t *
obj_json(const cache_obj *o)
{
  return json_loads(cache_obj_text(o, NULL), 0, NULL);
}

static const char *
rv_of(json_t *j)
{
  return json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion"));
}

/* Takes the next event and checks its type, key and resourceVersion. */
static void
expect_event(watcher *w, enum watch_event_type type, const char *key, int64_t rev, int line)
{
  watch_event *ev = NULL;
  int rc = watcher_next(w, &ev, 1000);
  if (rc != 1) {
    testlib_fail(__FILE__, line, "watcher_next returned %d, expected an event", rc);
    return;
  }
  if (ev->type != type || strcmp(cache_obj_key(ev->obj), key) != 0 || ev->obj->rev != rev)
    testlib_fail(__FILE__, line, "got %s %s rv %lld, expected %s %s rv %lld",
                 watch_event_type_name(ev->type), cache_obj_key(ev->obj), (long long)ev->obj->rev,
                 watch_event_type_name(type), key, (long long)rev);
  json_t *j = obj_json(ev->obj);
  char rv[24];
  snprintf(rv, sizeof rv, "%lld", (long long)rev);
  if (!rv_of(j) || strcmp(rv_of(j), rv) != 0)
    testlib_fail(__FILE__, line, "resourceVersion in JSON is %s, expected %s", rv_of(j), rv);
  json_decref(j);
  watch_event_unref(ev);
}
#define EXPECT_EVENT(w, type, key, rev) expect_event(w, type, key, rev, __LINE__)

static void
expect_no_event(watcher *w, int line)
{
  watch_event *ev = NULL;
  int rc = watcher_next(w, &ev, 0);
  if (rc != 0) {
    testlib_fail(__FILE__, line, "watcher_next returned %d, expected nothing", rc);
    if (rc == 1)
      watch_event_unref(ev);
  }
}
#define EXPECT_NO_EVENT(w) expect_no_event(w, __LINE__)

/* ---- reads ----------------------------------------------------------------------------- */

TEST(get_and_list_serve_objects_with_resource_version)
{
  struct fixture f;
  fixture_setup(&f, false);
  int64_t r1 = put_pod(f.s, "ns1", "b", "web", -1);
  put_pod(f.s, "ns2", "a", "db", -1);
  k8c_err err = {0};
  f.wc = watchcache_new(f.s, index_object, NULL, &err);
  CHECK(f.wc != NULL);
  int64_t r3 = put_pod(f.s, "ns1", "a", "web", -1);
  CHECK_INT(watchcache_revision(f.wc), r3);
  CHECK_INT(watchcache_wait_revision(f.wc, r3, 0), 0);
  CHECK_INT(watchcache_wait_revision(f.wc, r3 + 1, 30), -1);

  cache_obj *o = NULL;
  CHECK_INT(watchcache_get(f.wc, "/registry/pods/ns1/b", &o, &err), 0);
  CHECK_INT(cache_obj_revision(o), r1);
  json_error_t jerr;
  json_t *cached = json_loads(cache_obj_text(o, NULL), 0, &jerr);
  CHECK_JSON(cached,
             "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"namespace\":\"ns1\",\"labels\":{"
             "\"app\":\"web\"},\"resourceVersion\":\"1\"},\"spec\":{}}");
  json_decref(cached);
  CHECK_STR(string_map_get(cache_obj_fields(o), "metadata.name"), "b");
  CHECK_INT(string_map_size(cache_obj_fields(o)), 1);
  CHECK(string_map_get(cache_obj_fields(o), "metadata.namespace") == NULL);
  cache_obj_unref(o);
  CHECK_INT(watchcache_get(f.wc, "/registry/pods/ns1/zz", &o, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);

  cache_obj **objs = NULL;
  size_t n = 0;
  int64_t rev = 0;
  CHECK_INT(watchcache_list(f.wc, "/registry/pods/", NULL, NULL, &objs, &n, &rev, &err), 0);
  CHECK_INT(n, 3);
  CHECK_INT(rev, r3);
  if (n == 3) {
    CHECK_STR(cache_obj_key(objs[0]), "/registry/pods/ns1/a");
    CHECK_STR(cache_obj_key(objs[1]), "/registry/pods/ns1/b");
    CHECK_STR(cache_obj_key(objs[2]), "/registry/pods/ns2/a");
  }
  cache_obj_array_free(objs, n);
  CHECK_INT(watchcache_list(f.wc, "/registry/pods/ns1/", match_app, "web", &objs, &n, &rev, &err),
            0);
  CHECK_INT(n, 2);
  cache_obj_array_free(objs, n);
  CHECK_INT(watchcache_list(f.wc, "/registry/pods/", match_app, "db", &objs, &n, &rev, &err), 0);
  CHECK_INT(n, 1);
  if (n == 1)
    CHECK_STR(cache_obj_key(objs[0]), "/registry/pods/ns2/a");
  cache_obj_array_free(objs, n);

  delete_pod(f.s, "ns1", "a");
  CHECK_INT(watchcache_list(f.wc, "/registry/pods/ns1/", NULL, NULL, &objs, &n, &rev, &err), 0);
  CHECK_INT(n, 1);
  cache_obj_array_free(objs, n);
  fixture_teardown(&f);
}

/* ---- watches ------------------------------------------------------------------------------ */

TEST(watch_from_revision_replays_then_streams)
{
  struct fixture f;
  fixture_setup(&f, true);
  int64_t r1 = put_pod(f.s, "ns", "a", "web", -1);
  int64_t r2 = put_pod(f.s, "ns", "a", "web2", r1);
  int64_t r3 = put_pod(f.s, "other", "x", "web", -1);
  int64_t r4 = delete_pod(f.s, "ns", "a");
  k8c_err err = {0};
  watcher *w = watchcache_watch(f.wc, "/registry/pods/ns/", r1, false, NULL, NULL, &err);
  CHECK(w != NULL);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/a", r2);
  EXPECT_EVENT(w, WATCH_DELETED, "/registry/pods/ns/a", r4); /* last state, delete's rv */
  EXPECT_NO_EVENT(w);
  (void)r3;
  int64_t r5 = put_pod(f.s, "ns", "b", "web", -1);
  EXPECT_EVENT(w, WATCH_ADDED, "/registry/pods/ns/b", r5);
  EXPECT_NO_EVENT(w);

  /* from_rev 0: only new changes. */
  watcher *now = watchcache_watch(f.wc, "/registry/pods/", 0, false, NULL, NULL, &err);
  EXPECT_NO_EVENT(now);
  int64_t r6 = put_pod(f.s, "ns", "b", "web", r5);
  EXPECT_EVENT(now, WATCH_MODIFIED, "/registry/pods/ns/b", r6);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/b", r6);
  watcher_close(now);
  watcher_close(w);
  fixture_teardown(&f);
}

TEST(watch_with_initial_events)
{
  struct fixture f;
  fixture_setup(&f, true);
  int64_t rb = put_pod(f.s, "ns", "b", "web", -1);
  int64_t ra = put_pod(f.s, "ns", "a", "web", -1);
  put_pod(f.s, "ns", "c", "db", -1);
  k8c_err err = {0};
  watcher *w = watchcache_watch(f.wc, "/registry/pods/", 0, true, match_app, "web", &err);
  CHECK(w != NULL);
  int64_t rd = put_pod(f.s, "ns", "d", "web", -1);
  EXPECT_EVENT(w, WATCH_ADDED, "/registry/pods/ns/a", ra);
  EXPECT_EVENT(w, WATCH_ADDED, "/registry/pods/ns/b", rb);
  EXPECT_EVENT(w, WATCH_ADDED, "/registry/pods/ns/d", rd);
  EXPECT_NO_EVENT(w);
  watcher_close(w);
  fixture_teardown(&f);
}

TEST(filtered_watch_transitions_like_upstream)
{
  struct fixture f;
  fixture_setup(&f, true);
  int64_t r1 = put_pod(f.s, "ns", "p", "web", -1);
  k8c_err err = {0};
  watcher *w = watchcache_watch(f.wc, "/registry/pods/", r1, false, match_app, "web", &err);
  int64_t r2 = put_pod(f.s, "ns", "p", "web", r1); /* matched → matches: MODIFIED */
  int64_t r3 = put_pod(f.s, "ns", "p", "db", r2);  /* leaves: DELETED */
  int64_t r4 = put_pod(f.s, "ns", "p", "db", r3);  /* still out: nothing */
  int64_t r5 = put_pod(f.s, "ns", "p", "web", r4); /* enters: ADDED */
  int64_t r6 = put_pod(f.s, "ns", "q", "db", -1);  /* never matched: nothing */
  (void)r6;
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/p", r2);
  watch_event *ev = NULL;
  CHECK_INT(watcher_next(w, &ev, 1000), 1);
  if (ev) {
    CHECK_INT(ev->type, WATCH_DELETED);
    CHECK_INT(ev->rev, r3);
    /* The last state that matched, at the revision of the change. */
    json_t *j = obj_json(ev->obj);
    CHECK_JSON(json_object_get(json_object_get(j, "metadata"), "labels"), "{\"app\":\"web\"}");
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)r3);
    CHECK_STR(rv_of(j), rv);
    json_decref(j);
    watch_event_unref(ev);
  }
  EXPECT_EVENT(w, WATCH_ADDED, "/registry/pods/ns/p", r5);
  EXPECT_NO_EVENT(w);
  int64_t r7 = delete_pod(f.s, "ns", "p");
  EXPECT_EVENT(w, WATCH_DELETED, "/registry/pods/ns/p", r7);
  delete_pod(f.s, "ns", "q");
  EXPECT_NO_EVENT(w);
  watcher_close(w);
  fixture_teardown(&f);
}

TEST(watch_from_trimmed_history_is_gone)
{
  struct fixture f;
  fixture_setup(&f, true);
  watchcache_set_limits(f.wc, 3, 100);
  int64_t r1 = put_pod(f.s, "ns", "a", "x", -1);
  int64_t last = r1;
  for (int i = 0; i < 5; i++)
    last = put_pod(f.s, "ns", "a", "x", last);
  k8c_err err = {0};
  CHECK(watchcache_watch(f.wc, "/registry/pods/", r1, false, NULL, NULL, &err) == NULL);
  CHECK_INT(err.status, 410);
  CHECK_STR(err.reason, K8C_REASON_GONE);
  char msg[64];
  snprintf(msg, sizeof msg, "too old resource version: %lld (%lld)", (long long)r1,
           (long long)(last - 3));
  CHECK_STR(err.message, msg);
  k8c_err_clear(&err);
  /* The oldest still-kept point works and replays the last 3 changes. */
  watcher *w = watchcache_watch(f.wc, "/registry/pods/", last - 3, false, NULL, NULL, &err);
  CHECK(w != NULL);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/a", last - 2);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/a", last - 1);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/a", last);
  watcher_close(w);
  /* At or beyond the current revision is always fine. */
  w = watchcache_watch(f.wc, "/registry/pods/", last, false, NULL, NULL, &err);
  CHECK(w != NULL);
  watcher_close(w);
  fixture_teardown(&f);
}

TEST(history_is_bounded_by_the_bytes_it_keeps_alive)
{
  struct fixture f;
  fixture_setup(&f, true);
  watchcache_set_limits(f.wc, 100, 100);
  watchcache_set_history_bytes(f.wc, 1, 2); /* any superseded state is over the bound */
  /* Creations supersede nothing: all kept. */
  int64_t first = put_pod(f.s, "ns", "a", "x", -1);
  const char *others[] = {"b", "c", "d", "e"};
  for (int i = 0; i < 4; i++)
    put_pod(f.s, "ns", others[i], "x", -1);
  k8c_err err = {0};
  watcher *w = watchcache_watch(f.wc, "/registry/pods/", first - 1, false, NULL, NULL, &err);
  CHECK(w != NULL);
  watcher_close(w);
  int64_t last = first;
  for (int i = 0; i < 5; i++)
    last = put_pod(f.s, "ns", "a", "x", last);
  /* Updates do: only the minimum of 2 events stays. */
  CHECK(watchcache_watch(f.wc, "/registry/pods/", last - 3, false, NULL, NULL, &err) == NULL);
  CHECK_INT(err.status, 410);
  k8c_err_clear(&err);
  w = watchcache_watch(f.wc, "/registry/pods/", last - 2, false, NULL, NULL, &err);
  CHECK(w != NULL);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/a", last - 1);
  EXPECT_EVENT(w, WATCH_MODIFIED, "/registry/pods/ns/a", last);
  watcher_close(w);
  /* A generous bound keeps everything again. */
  watchcache_set_history_bytes(f.wc, 1 << 20, 2);
  for (int i = 0; i < 5; i++)
    last = put_pod(f.s, "ns", "a", "x", last);
  w = watchcache_watch(f.wc, "/registry/pods/", last - 5, false, NULL, NULL, &err);
  CHECK(w != NULL);
  watcher_close(w);
  fixture_teardown(&f);
}

TEST(slow_watcher_is_terminated)
{
  struct fixture f;
  fixture_setup(&f, true);
  watchcache_set_limits(f.wc, 100, 5);
  k8c_err err = {0};
  watcher *slow = watchcache_watch(f.wc, "/registry/pods/", 0, false, NULL, NULL, &err);
  watcher *fast = watchcache_watch(f.wc, "/registry/pods/", 0, false, NULL, NULL, &err);
  for (int i = 0; i < 10; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    int64_t r = put_pod(f.s, "ns", name, "x", -1);
    cleanup_free char *key = xasprintf("/registry/pods/ns/%s", name);
    EXPECT_EVENT(fast, WATCH_ADDED, key, r);
  }
  watch_event *ev = NULL;
  CHECK_INT(watcher_next(slow, &ev, 0), -1);
  watcher_close(slow);
  watcher_close(fast);
  fixture_teardown(&f);
}

struct blocked_arg {
  watcher *w;
  int rc;
};

static void *
blocked_reader(void *p)
{
  struct blocked_arg *a = p;
  watch_event *ev = NULL;
  a->rc = watcher_next(a->w, &ev, -1);
  if (a->rc == 1)
    watch_event_unref(ev);
  return NULL;
}

TEST(close_wakes_blocked_reader)
{
  struct fixture f;
  fixture_setup(&f, true);
  k8c_err err = {0};
  watcher *w = watchcache_watch(f.wc, "/registry/", 0, false, NULL, NULL, &err);
  struct blocked_arg a = {.w = w, .rc = 99};
  pthread_t th;
  pthread_create(&th, NULL, blocked_reader, &a);
  usleep(50 * 1000);
  watcher_close(w);
  pthread_join(th, NULL);
  CHECK_INT(a.rc, -1);
  fixture_teardown(&f);
}

/* 1,000 watchers, served by 4 threads each blocking on its share. */
enum { MANY = 1000, SERVERS = 4 };

struct server_arg {
  watcher **ws;
  int count;
  int received;
};

static void *
serve_watchers(void *p)
{
  struct server_arg *a = p;
  for (int i = 0; i < a->count; i++) {
    watch_event *ev = NULL;
    if (watcher_next(a->ws[i], &ev, 5000) == 1) {
      if (ev->type == WATCH_ADDED && strcmp(cache_obj_key(ev->obj), "/registry/pods/ns/hot") == 0)
        a->received++;
      watch_event_unref(ev);
    }
  }
  return NULL;
}

TEST(thousand_watchers_receive_an_event)
{
  struct fixture f;
  fixture_setup(&f, true);
  k8c_err err = {0};
  watcher **ws = xcalloc(MANY, sizeof(*ws));
  for (int i = 0; i < MANY; i++) {
    /* Half watch everything, half only namespace ns with a selector. */
    ws[i] = i % 2 ? watchcache_watch(f.wc, "/registry/pods/", 0, false, NULL, NULL, &err)
                  : watchcache_watch(f.wc, "/registry/pods/ns/", 0, false, match_app, "hot", &err);
    CHECK(ws[i] != NULL);
  }
  struct server_arg args[SERVERS];
  pthread_t th[SERVERS];
  for (int t = 0; t < SERVERS; t++) {
    args[t] = (struct server_arg){.ws = ws + t * (MANY / SERVERS), .count = MANY / SERVERS};
    pthread_create(&th[t], NULL, serve_watchers, &args[t]);
  }
  put_pod(f.s, "other", "cold", "cold", -1); /* only the unfiltered half sees this... */
  put_pod(f.s, "ns", "hot", "hot", -1);
  for (int t = 0; t < SERVERS; t++)
    pthread_join(th[t], NULL);
  /* ...so the unfiltered half got "cold" first; each thread took one event per watcher. */
  int total = 0;
  for (int t = 0; t < SERVERS; t++)
    total += args[t].received;
  CHECK_INT(total, MANY / 2);
  for (int i = 0; i < MANY; i++) {
    watch_event *ev = NULL;
    int rc = watcher_next(ws[i], &ev, 0);
    CHECK_INT(rc, i % 2 ? 1 : 0); /* the unfiltered half still has "hot" queued */
    if (rc == 1) {
      CHECK_STR(cache_obj_key(ev->obj), "/registry/pods/ns/hot");
      watch_event_unref(ev);
    }
    watcher_close(ws[i]);
  }
  free(ws);
  fixture_teardown(&f);
}

TEST_MAIN()
