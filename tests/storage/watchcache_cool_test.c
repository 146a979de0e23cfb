/* watchcache_cool_test.c — cold objects kept compressed: the packed form round-trips
 * byte for byte and keeps its dictionary alive; the cooler compresses only idle objects
 * nobody outside the cache holds; gets re-warm, lists and deletions read cold objects
 * right; and readers racing passes, re-warms and writes always see exact bytes. Prints
 * the compression ratio and CPU per object for a pod-sized text at levels 1, 3 and 6. */
#include "storage/watchcache/watchcache_internal.h"
#include "testlib.h"

#include "lib/mem.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- a pod-like text of about 4.5 KB (what a simulated node's pod looks like) ---- */

static char *
pod_text(const char *ns, const char *name, int i, int status_version)
{
  return xasprintf(
      "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
      "\"%s\",\"uid\":\"%08x-1c2d-4e5f-8a9b-%012x\",\"creationTimestamp\":\"2026-11-28T11:%02d:"
      "%02dZ\",\"labels\":{\"app\":\"bench\",\"pod-template-hash\":\"7d9f8c6b5\"},"
      "\"managedFields\":[{\"manager\":\"k8c-loadgen\",\"operation\":\"Update\",\"apiVersion\":"
      "\"v1\",\"time\":\"2026-11-28T11:%02d:%02dZ\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
      "\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{\"f:containers\":{"
      "\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},\"f:image\":{},\"f:imagePullPolicy\":{},"
      "\"f:name\":{},\"f:resources\":{\".\":{},\"f:requests\":{\".\":{},\"f:cpu\":{},"
      "\"f:memory\":{}}},\"f:terminationMessagePath\":{},\"f:terminationMessagePolicy\":{}}},"
      "\"f:dnsPolicy\":{},\"f:enableServiceLinks\":{},\"f:restartPolicy\":{},\"f:schedulerName\":"
      "{},\"f:securityContext\":{},\"f:terminationGracePeriodSeconds\":{}}}},{\"manager\":"
      "\"k8c-agent\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-11-28T11:%02d:"
      "%02dZ\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{"
      "\"k:{\\\"type\\\":\\\"ContainersReady\\\"}\":{\".\":{},\"f:lastProbeTime\":{},"
      "\"f:lastTransitionTime\":{},\"f:status\":{},\"f:type\":{}},\"k:{\\\"type\\\":"
      "\\\"Initialized\\\"}\":{\".\":{},\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},"
      "\"f:status\":{},\"f:type\":{}},\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\".\":{},"
      "\"f:lastProbeTime\":{},\"f:lastTransitionTime\":{},\"f:status\":{},\"f:type\":{}}},"
      "\"f:containerStatuses\":{},\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{"
      "\".\":{},\"k:{\\\"ip\\\":\\\"10.42.%d.%d\\\"}\":{\".\":{},\"f:ip\":{}}},\"f:startTime\":"
      "{}}}}]},\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-%05x\",\"projected\":{"
      "\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
      "{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":"
      "\"ca.crt\"}]}},{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{"
      "\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],\"defaultMode\":420}}],"
      "\"containers\":[{\"name\":\"app\",\"image\":\"registry.local/busybox:1.36\",\"command\":"
      "[\"sleep\",\"3600\"],\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}},"
      "\"volumeMounts\":[{\"name\":\"kube-api-access-%05x\",\"readOnly\":true,\"mountPath\":"
      "\"/var/run/secrets/kubernetes.io/serviceaccount\"}],\"terminationMessagePath\":"
      "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
      "\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
      "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\",\"serviceAccount\":"
      "\"default\",\"nodeName\":\"sim-node-%04d\",\"securityContext\":{},\"schedulerName\":"
      "\"default-scheduler\",\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
      "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},{\"key\":"
      "\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
      "\"tolerationSeconds\":300}],\"priority\":0,\"enableServiceLinks\":true,"
      "\"preemptionPolicy\":\"PreemptLowerPriority\"},\"status\":{\"phase\":\"Running\","
      "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\",\"lastProbeTime\":null,"
      "\"lastTransitionTime\":\"2026-11-28T11:%02d:%02dZ\"},{\"type\":\"Ready\",\"status\":"
      "\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-28T11:%02d:%02dZ\"},{"
      "\"type\":\"ContainersReady\",\"status\":\"True\",\"lastProbeTime\":null,"
      "\"lastTransitionTime\":\"2026-11-28T11:%02d:%02dZ\"},{\"type\":\"PodScheduled\","
      "\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-28T11:%02d:"
      "%02dZ\"}],\"hostIP\":\"172.20.%d.%d\",\"podIP\":\"10.42.%d.%d\",\"podIPs\":[{\"ip\":"
      "\"10.42.%d.%d\"}],\"startTime\":\"2026-11-28T11:%02d:%02dZ\",\"containerStatuses\":[{"
      "\"name\":\"app\",\"state\":{\"running\":{\"startedAt\":\"2026-11-28T11:%02d:%02dZ\"}},"
      "\"lastState\":{},\"ready\":true,\"restartCount\":0,\"image\":\"registry.local/"
      "busybox:1.36\","
      "\"imageID\":\"sha256:%08x9f3b1d2c4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9\","
      "\"containerID\":\"k8c://%08x%08x%08x\",\"started\":true}],\"qosClass\":\"Burstable\","
      "\"observed\":%d}}",
      name, ns, (unsigned)i * 2654435761u, (unsigned)i * 40503u, i % 60, i * 7 % 60, i % 60,
      i * 7 % 60, i % 60, (i * 7 + 3) % 60, i / 250, i % 250, i * 31 & 0xfffff, i * 31 & 0xfffff,
      i % 1000, i % 60, (i * 7 + 3) % 60, i % 60, (i * 7 + 3) % 60, i % 60, (i * 7 + 3) % 60,
      i % 60, i * 7 % 60, (i % 1000) / 250, i % 250, i / 250, i % 250, i / 250, i % 250, i % 60,
      i * 7 % 60, i % 60, (i * 7 + 2) % 60, 0x5eed, (unsigned)i * 2246822519u,
      (unsigned)i * 3266489917u, (unsigned)i * 668265263u, status_version);
}

static uint64_t
cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the packed form ------------------------------------------------------------------ */

TEST(packed_text_round_trips_and_keeps_its_dictionary)
{
  cleanup_free char *first = pod_text("default", "web-0", 0, 1);
  cleanup_free char *other = pod_text("default", "web-1234", 1234, 7);
  cache_dict *d = cache_dict_new(first, strlen(first));
  cache_deflater *z = cache_deflater_new(6);
  cache_packed *p = cache_pack(z, d, other, strlen(other));
  CHECK(p != NULL);
  cache_dict_unref(d); /* the packed text keeps it */
  cache_deflater_free(z);
  if (p) {
    CHECK_INT(p->len, strlen(other));
    CHECK(p->zlen * 4 < p->len); /* a sibling object shrinks well against the dictionary */
    cleanup_free char *back = cache_unpack(p);
    CHECK_STR(back, other);
    /* A damaged packed text is reported, never returned as wrong bytes. */
    p->data[p->zlen / 2] ^= 0x55;
    p->data[p->zlen / 3] ^= 0x2a;
    char *bad = cache_unpack(p);
    CHECK(bad == NULL);
    free(bad);
    cache_packed_free(p);
  }
}

TEST(incompressible_text_is_not_packed)
{
  char noise[2048];
  unsigned x = 12345;
  for (size_t i = 0; i < sizeof noise - 1; i++) {
    x = x * 1103515245u + 12345u;
    noise[i] = (char)(33 + (x >> 16) % 90);
  }
  noise[sizeof noise - 1] = 0;
  cache_dict *d = cache_dict_new("{\"kind\":\"Secret\"}", 17);
  cache_deflater *z = cache_deflater_new(6);
  CHECK(cache_pack(z, d, noise, strlen(noise)) == NULL);
  CHECK(cache_pack(z, d, "", 0) == NULL);
  cache_deflater_free(z);
  cache_dict_unref(d);
}

TEST(compression_ratio_and_cpu_per_object)
{
  enum { N = 400 };
  char *texts[N];
  size_t plain = 0;
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "p-%d", 1000 + i * 37);
    texts[i] = pod_text("scale-rss", name, 1000 + i * 37, i % 3);
    plain += strlen(texts[i]);
  }
  int levels[] = {1, 3, 6};
  for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
    cache_dict *d = cache_dict_new(texts[0], strlen(texts[0]));
    cache_deflater *z = cache_deflater_new(levels[l]);
    cache_packed *packed[N];
    size_t bytes = 0;
    uint64_t t0 = cpu_ns();
    for (int i = 0; i < N; i++) {
      packed[i] = cache_pack(z, d, texts[i], strlen(texts[i]));
      CHECK(packed[i] != NULL);
      bytes += packed[i] ? cache_packed_size(packed[i]) : 0;
    }
    uint64_t t1 = cpu_ns();
    for (int i = 0; i < N; i++) {
      char *back = packed[i] ? cache_unpack(packed[i]) : NULL;
      if (i % 50 == 0)
        CHECK_STR(back, texts[i]);
      free(back);
    }
    uint64_t t2 = cpu_ns();
    fprintf(stderr,
            "level %d: %zu plain bytes/object -> %zu packed (%.1fx), compress %.1f us, "
            "decompress %.1f us per object\n",
            levels[l], plain / N, bytes / N, (double)plain / (double)bytes,
            (double)(t1 - t0) / N / 1000.0, (double)(t2 - t1) / N / 1000.0);
    for (int i = 0; i < N; i++)
      cache_packed_free(packed[i]);
    cache_deflater_free(z);
    cache_dict_unref(d);
  }
  for (int i = 0; i < N; i++)
    free(texts[i]);
}

/* ---- the cooler over a real store ------------------------------------------------------ */

struct fixture {
  char dir[64];
  storage *s;
  watchcache *wc;
};

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
fixture_setup(struct fixture *f)
{
  snprintf(f->dir, sizeof f->dir, "/tmp/k8c-wcool-XXXXXX");
  if (!mkdtemp(f->dir) || !(f->s = open_store(f->dir)))
    abort();
  k8c_err err = {0};
  f->wc = watchcache_new(f->s, NULL, NULL, &err);
  if (!f->wc)
    abort();
  watchcache_set_cooling(f->wc, 0, 6); /* passes are run by the test */
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

static char *
pod_key(int i)
{
  return xasprintf("/registry/pods/cool/p-%04d", i);
}

/* Writes pod i (create when expected < 0); returns the revision. */
static int64_t
write_pod(storage *s, int i, int version, int64_t expected)
{
  cleanup_free char *key = pod_key(i);
  char name[16];
  snprintf(name, sizeof name, "p-%04d", i);
  cleanup_free char *value = pod_text("cool", name, i, version);
  k8c_err err = {0};
  int64_t rev = 0;
  int rc = expected < 0 ? s->ops->create(s, key, value, strlen(value), &rev, &err)
                        : s->ops->update(s, key, value, strlen(value), expected, &rev, &err);
  if (rc < 0)
    testlib_fail(__FILE__, __LINE__, "writing %s: %s", key, err.message);
  k8c_err_clear(&err);
  return rev;
}

/* A copy of the current text of key (read through a get). */
static char *
text_of(watchcache *wc, const char *key)
{
  cache_obj *o = NULL;
  if (watchcache_get(wc, key, &o, NULL) < 0)
    return NULL;
  char *copy = xstrdup(cache_obj_text(o, NULL));
  cache_obj_unref(o);
  return copy;
}

static bool
is_cold(watchcache *wc, const char *key)
{
  cache_obj *o = NULL;
  if (watchcache_get(wc, key, &o, NULL) < 0)
    return false;
  bool cold = cache_obj_is_cold(o);
  cache_obj_unref(o);
  return cold;
}

/* Enough passes to cool everything that may be cooled (the first may only note when it
 * saw an object unread so far). */
static size_t
cool_all(watchcache *wc)
{
  size_t total = 0;
  for (int pass = 0; pass < 4; pass++)
    total += watchcache_cool_pass(wc);
  return total;
}

enum { PODS = 300 };

TEST(idle_objects_cool_and_reads_return_the_same_bytes)
{
  struct fixture f;
  fixture_setup(&f);
  int64_t last = 0;
  for (int i = 0; i < PODS; i++)
    last = write_pod(f.s, i, 0, -1);
  CHECK_INT(watchcache_wait_revision(f.wc, last, 5000), 0);
  char *before[PODS];
  for (int i = 0; i < PODS; i++) {
    cleanup_free char *key = pod_key(i);
    before[i] = text_of(f.wc, key);
  }
  /* Read above, hence seen: with no idle time required they all cool, a batch a pass. */
  for (int pass = 0; pass < 8; pass++)
    (void)watchcache_cool_pass(f.wc);
  /* (The cache's own thread may run some of the passes: count through the stats.) */
  struct watchcache_cool_stats st;
  watchcache_cool_stats(f.wc, &st);
  CHECK_INT(st.cooled, PODS);
  CHECK_INT(st.packed, PODS);
  CHECK(st.packed_bytes * 4 < st.plain_bytes);
  fprintf(stderr, "cooled %zu pods: %zu -> %zu bytes, %.1f us CPU each\n", st.packed,
          st.plain_bytes, st.packed_bytes, (double)st.pack_ns / (double)st.packed / 1000.0);

  /* A list reads them without re-warming; the same bytes. */
  cache_obj **objs = NULL;
  size_t n = 0;
  int64_t rev = 0;
  CHECK_INT(watchcache_list(f.wc, "/registry/pods/cool/", NULL, NULL, &objs, &n, &rev, NULL), 0);
  CHECK_INT(n, PODS);
  for (size_t i = 0; i < n; i++) {
    size_t len = 0;
    char *scratch = NULL;
    const char *text = cache_obj_text_peek(objs[i], &len, &scratch);
    CHECK(scratch != NULL && text == scratch);
    CHECK_INT(len, strlen(before[i]));
    CHECK_STR(text, before[i]);
    free(scratch);
    CHECK(cache_obj_is_cold(objs[i]));
  }
  cache_obj_array_free(objs, n);

  /* A get re-warms: the object is plain again, same bytes, and the next reads borrow. */
  cleanup_free char *key7 = pod_key(7);
  cache_obj *o7 = NULL;
  CHECK_INT(watchcache_get(f.wc, key7, &o7, NULL), 0);
  const char *t7 = cache_obj_text(o7, NULL);
  CHECK_STR(t7, before[7]);
  CHECK(!cache_obj_is_cold(o7));         /* published; held by us, so no pass drops it */
  CHECK(cache_obj_text(o7, NULL) == t7); /* the next read borrows the same buffer */
  cache_obj_unref(o7);
  /* Idle again, it cools without compressing anew. */
  cool_all(f.wc);
  CHECK(is_cold(f.wc, key7));
  watchcache_cool_stats(f.wc, &st);
  CHECK_INT(st.packed, PODS);
  CHECK_INT(st.cooled, PODS + 1);
  for (int i = 0; i < PODS; i++)
    free(before[i]);
  fixture_teardown(&f);
}

TEST(objects_held_outside_the_cache_stay_plain)
{
  struct fixture f;
  fixture_setup(&f);
  int64_t r0 = write_pod(f.s, 0, 0, -1);
  write_pod(f.s, 1, 0, -1);
  int64_t r2 = write_pod(f.s, 2, 0, -1);
  CHECK_INT(watchcache_wait_revision(f.wc, r2, 5000), 0);
  cleanup_free char *k0 = pod_key(0), *k1 = pod_key(1), *k2 = pod_key(2);
  /* A reader holds pod 0; a watcher has the ADDED event of pod 2 queued. */
  cache_obj *held = NULL;
  CHECK_INT(watchcache_get(f.wc, k0, &held, NULL), 0);
  const char *borrowed = cache_obj_text(held, NULL);
  watcher *w = watchcache_watch(f.wc, "/registry/pods/", r0, false, NULL, NULL, NULL);
  CHECK(w != NULL);
  watch_event *ev = NULL;
  CHECK_INT(watcher_next(w, &ev, 1000), 1); /* pod 1's ADDED: taken, then released */
  watch_event_unref(ev);
  cool_all(f.wc);
  CHECK(!is_cold(f.wc, k0));
  CHECK(is_cold(f.wc, k1));
  CHECK(!is_cold(f.wc, k2));
  CHECK(cache_obj_text(held, NULL) == borrowed); /* the borrowed pointer is still the text */
  cache_obj_unref(held);
  CHECK_INT(watcher_next(w, &ev, 1000), 1);
  CHECK_STR(cache_obj_key(ev->obj), k2);
  watch_event_unref(ev);
  watcher_close(w);
  cool_all(f.wc);
  CHECK(is_cold(f.wc, k0));
  CHECK(is_cold(f.wc, k2));
  fixture_teardown(&f);
}

TEST(updates_and_deletions_of_cold_objects)
{
  struct fixture f;
  fixture_setup(&f);
  int64_t r0 = write_pod(f.s, 0, 0, -1);
  int64_t r1 = write_pod(f.s, 1, 0, -1);
  CHECK_INT(watchcache_wait_revision(f.wc, r1, 5000), 0);
  cleanup_free char *k0 = pod_key(0), *k1 = pod_key(1);
  cleanup_free char *old1 = text_of(f.wc, k1);
  cool_all(f.wc);
  CHECK(is_cold(f.wc, k0) && is_cold(f.wc, k1));
  int64_t r2 = write_pod(f.s, 0, 1, r0);
  k8c_err err = {0};
  int64_t r3 = 0;
  CHECK_INT(f.s->ops->delete (f.s, k1, 0, &r3, &err), 0);
  CHECK_INT(watchcache_wait_revision(f.wc, r3, 5000), 0);
  cleanup_free char *now0 = text_of(f.wc, k0);
  CHECK(now0 && strstr(now0, "\"observed\":1}") != NULL);
  /* The deletion event carries the cold object's last state at the deletion's revision. */
  watcher *w = watchcache_watch(f.wc, "/registry/pods/", r2, false, NULL, NULL, NULL);
  watch_event *ev = NULL;
  CHECK_INT(watcher_next(w, &ev, 1000), 1);
  if (ev) {
    CHECK_INT(ev->type, WATCH_DELETED);
    char *scratch = NULL;
    const char *text = cache_obj_text_peek(ev->obj, NULL, &scratch);
    char rv_old[40], rv_new[40];
    snprintf(rv_old, sizeof rv_old, "\"resourceVersion\":\"%lld\"", (long long)r1);
    snprintf(rv_new, sizeof rv_new, "\"resourceVersion\":\"%lld\"", (long long)r3);
    CHECK(strstr(old1, rv_old) != NULL);
    CHECK(strstr(text, rv_new) != NULL);
    CHECK_INT(strlen(text), strlen(old1)); /* only the revision's digits differ, same count */
    free(scratch);
    watch_event_unref(ev);
  }
  watcher_close(w);
  fixture_teardown(&f);
}

/* A secret-like object whose value is noise (about 6.5 bits a byte). */
static char *
noise_text(unsigned seed)
{
  char *text = xmalloc(3000);
  int n = snprintf(text, 3000, "{\"kind\":\"Secret\",\"data\":{\"k\":\"");
  for (; n < 3000 - 8; n++) {
    seed = seed * 1103515245u + 12345u;
    char ch = (char)('#' + (seed >> 16) % 90);
    text[n] = ch == '\\' ? '~' : ch;
  }
  snprintf(text + n, 3000 - (size_t)n, "\"}}");
  return text;
}

TEST(one_dictionary_per_type_and_incompressible_texts_stay_plain)
{
  struct fixture f;
  fixture_setup(&f);
  k8c_err err = {0};
  int64_t rev = 0;
  cleanup_free char *a = pod_text("ns-a", "x", 1, 0), *b = pod_text("ns-b", "y", 2, 0);
  CHECK_INT(f.s->ops->create(f.s, "/registry/pods/ns-a/x", a, strlen(a), &rev, &err), 0);
  CHECK_INT(f.s->ops->create(f.s, "/registry/pods/ns-b/y", b, strlen(b), &rev, &err), 0);
  /* The first secret becomes the secrets' dictionary; the second has nothing in common. */
  cleanup_free char *s1 = noise_text(99), *s2 = noise_text(7);
  CHECK_INT(f.s->ops->create(f.s, "/registry/secrets/ns-a/s1", s1, strlen(s1), &rev, &err), 0);
  CHECK_INT(f.s->ops->create(f.s, "/registry/secrets/ns-a/s2", s2, strlen(s2), &rev, &err), 0);
  CHECK_INT(watchcache_wait_revision(f.wc, rev, 5000), 0);
  cleanup_free char *text1 = text_of(f.wc, "/registry/secrets/ns-a/s1");
  cleanup_free char *text2 = text_of(f.wc, "/registry/secrets/ns-a/s2");
  cool_all(f.wc);
  CHECK(is_cold(f.wc, "/registry/pods/ns-a/x"));
  CHECK(is_cold(f.wc, "/registry/pods/ns-b/y"));
  /* Read in key order, s1 is packed first and stands for the type. */
  CHECK(is_cold(f.wc, "/registry/secrets/ns-a/s1"));
  CHECK(!is_cold(f.wc, "/registry/secrets/ns-a/s2"));
  /* Two dictionaries: pods (both namespaces) and secrets. */
  CHECK_INT(hashmap_count(f.wc->cooler.dicts), 2);
  CHECK(hashmap_get(f.wc->cooler.dicts, "/registry/pods/") != NULL);
  CHECK(hashmap_get(f.wc->cooler.dicts, "/registry/secrets/") != NULL);
  struct watchcache_cool_stats st;
  watchcache_cool_stats(f.wc, &st);
  CHECK_INT(st.packed, 3);
  CHECK_INT(st.unpackable, 1);
  cool_all(f.wc); /* the noise is not tried again */
  cleanup_free char *back1 = text_of(f.wc, "/registry/secrets/ns-a/s1");
  cleanup_free char *back2 = text_of(f.wc, "/registry/secrets/ns-a/s2");
  CHECK_STR(back1, text1);
  CHECK_STR(back2, text2);
  watchcache_cool_stats(f.wc, &st);
  CHECK_INT(st.packed, 3);
  CHECK_INT(st.unpackable, 1);
  fixture_teardown(&f);
}

/* ---- races: readers against passes, re-warms and writes ----------------------------------- */

struct race {
  watchcache *wc;
  char **expected; /* the text of each pod as first written (version 0) */
  atomic_bool stop;
  atomic_int bad;
  atomic_long reads;
};

static void *
reader_main(void *arg)
{
  struct race *r = arg;
  unsigned x = (unsigned)(uintptr_t)pthread_self();
  while (!atomic_load(&r->stop)) {
    x = x * 1103515245u + 12345u;
    int i = (int)((x >> 8) % PODS);
    cleanup_free char *key = pod_key(i);
    cache_obj *o = NULL;
    if (watchcache_get(r->wc, key, &o, NULL) < 0) {
      atomic_fetch_add(&r->bad, 1);
      continue;
    }
    size_t len = 0;
    char *scratch = NULL;
    /* Half the reads borrow (and may re-warm), half peek. */
    const char *text = (x & 1) ? cache_obj_text(o, &len) : cache_obj_text_peek(o, &len, &scratch);
    /* Pods 0..PODS/2 are rewritten with another version: compare those by prefix only. */
    bool ok = len == strlen(text) && (i >= PODS / 2 ? strcmp(text, r->expected[i]) == 0
                                                    : strncmp(text, r->expected[i], 40) == 0);
    if (!ok)
      atomic_fetch_add(&r->bad, 1);
    free(scratch);
    cache_obj_unref(o);
    atomic_fetch_add(&r->reads, 1);
  }
  return NULL;
}

TEST(readers_racing_passes_and_writes_see_exact_bytes)
{
  struct fixture f;
  fixture_setup(&f);
  int64_t revs[PODS];
  for (int i = 0; i < PODS; i++)
    revs[i] = write_pod(f.s, i, 0, -1);
  CHECK_INT(watchcache_wait_revision(f.wc, revs[PODS - 1], 5000), 0);
  struct race r = {.wc = f.wc, .expected = xcalloc(PODS, sizeof(char *))};
  for (int i = 0; i < PODS; i++) {
    cleanup_free char *key = pod_key(i);
    r.expected[i] = text_of(f.wc, key);
  }
  pthread_t readers[4];
  for (int t = 0; t < 4; t++)
    pthread_create(&readers[t], NULL, reader_main, &r);
  /* Meanwhile: passes (everything not read since the last pass goes cold) and writes. */
  size_t cooled = 0;
  for (int round = 0; round < 60; round++) {
    cooled += watchcache_cool_pass(f.wc);
    int i = round % (PODS / 2);
    revs[i] = write_pod(f.s, i, round + 1, revs[i]);
    struct timespec pause = {0, 2 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  atomic_store(&r.stop, true);
  for (int t = 0; t < 4; t++)
    pthread_join(readers[t], NULL);
  CHECK_INT(atomic_load(&r.bad), 0);
  CHECK(atomic_load(&r.reads) > 100);
  CHECK(cooled > 0);
  fprintf(stderr, "race: %ld reads, %zu texts freed by passes\n", atomic_load(&r.reads), cooled);
  for (int i = 0; i < PODS; i++)
    free(r.expected[i]);
  free(r.expected);
  fixture_teardown(&f);
}

TEST_MAIN()
