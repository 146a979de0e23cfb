/* controller_gc_test.c — the garbage collector against a real registry: Background,
 * Foreground (with blockOwnerDeletion) and Orphan propagation for an owner with two
 * dependents, owners checked by uid, partially owned objects kept. ConfigMaps owning
 * ConfigMaps stand for any kinds: the collector must not care. */
#include "controller_fixture.h"
#include "controllers/garbagecollector.h"

/* Creates ConfigMap name in "default" with the given ownerReferences (JSON text or NULL)
 * and finalizers (JSON text or NULL); returns its uid (caller frees) or NULL. */
static char *
make(struct client_fixture *f, const char *name, const char *owner_refs, const char *finalizers)
{
  char text[2048];
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"ownerReferences\":%s,"
           "\"finalizers\":%s},\"data\":{}}",
           name, owner_refs ? owner_refs : "[]", finalizers ? finalizers : "[]");
  json_t *obj = json_of(text);
  json_t *out = NULL;
  k8c_err err = {0};
  int rc = client_create(f->client, f->configmaps, "default", obj, NULL, &out, &err);
  json_decref(obj);
  if (rc < 0) {
    fprintf(stderr, "create %s: %s\n", name, err.message);
    k8c_err_clear(&err);
    return NULL;
  }
  char *uid = xstrdup(json_string_value(json_object_get(json_object_get(out, "metadata"), "uid")));
  json_decref(out);
  return uid;
}

/* An ownerReference to ConfigMap name/uid. */
static char *
ref(const char *name, const char *uid, bool block)
{
  return xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"%s\",\"uid\":\"%s\","
                   "\"blockOwnerDeletion\":%s}",
                   name, uid, block ? "true" : "false");
}

static int
delete_with(struct client_fixture *f, const char *name, const char *policy)
{
  json_t *opts = policy ? json_pack("{s:s}", "propagationPolicy", policy) : NULL;
  k8c_err err = {0};
  int rc = client_delete(f->client, f->configmaps, "default", name, opts, NULL, NULL, &err);
  json_decref(opts);
  int status = rc < 0 ? err.status : 0;
  k8c_err_clear(&err);
  return status;
}

static bool
exists(struct client_fixture *f, const char *name)
{
  return fixture_exists(f, "configmaps", "default", name);
}

static json_t *
get(struct client_fixture *f, const char *name)
{
  return fixture_get(f, "configmaps", "default", name);
}

static bool
terminating(struct client_fixture *f, const char *name)
{
  json_t *obj = get(f, name);
  bool t = obj && json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp");
  json_decref(obj);
  return t;
}

/* An owner "o" with dependents "d1" and "d2", both referencing it (d1 blocking). */
static char *
owner_with_two(struct client_fixture *f, const char *dep_finalizers)
{
  char *uid = make(f, "o", NULL, NULL);
  CHECK(uid != NULL);
  cleanup_free char *r1 = ref("o", uid, true);
  cleanup_free char *r2 = ref("o", uid, false);
  cleanup_free char *refs1 = xasprintf("[%s]", r1);
  cleanup_free char *refs2 = xasprintf("[%s]", r2);
  free(make(f, "d1", refs1, dep_finalizers));
  free(make(f, "d2", refs2, dep_finalizers));
  return uid;
}

static void
release(struct client_fixture *f, const char *name)
{
  CHECK_INT(patch_configmap(f, name, "{\"metadata\":{\"finalizers\":null}}"), 0);
}

TEST(background_deletes_the_owner_now_and_dependents_after)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &garbagecollector_controller), 0);
  struct client_fixture *f = &cf.f;
  free(owner_with_two(f, NULL));
  CHECK_INT(delete_with(f, "o", "Background"), 0);
  CHECK(!exists(f, "o"));
  CHECK(WAIT_UNTIL(!exists(f, "d1") && !exists(f, "d2"), 5000));
  /* The default policy is Background too. */
  free(owner_with_two(f, NULL));
  CHECK_INT(delete_with(f, "o", NULL), 0);
  CHECK(!exists(f, "o"));
  CHECK(WAIT_UNTIL(!exists(f, "d1") && !exists(f, "d2"), 5000));
  controller_fixture_close(&cf);
}

TEST(foreground_waits_for_blocking_dependents_only)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &garbagecollector_controller), 0);
  struct client_fixture *f = &cf.f;
  /* Both dependents hold a finalizer of their own, so they stay while terminating. */
  free(owner_with_two(f, "[\"example.com/hold\"]"));
  CHECK_INT(delete_with(f, "o", "Foreground"), 0);
  json_t *o = get(f, "o");
  CHECK(o && json_object_get(json_object_get(o, "metadata"), "deletionTimestamp"));
  CHECK_JSON(json_object_get(json_object_get(o, "metadata"), "finalizers"),
             "[\"foregroundDeletion\"]");
  json_decref(o);
  /* The collector deletes both dependents; the owner waits for d1 (blockOwnerDeletion). */
  CHECK(WAIT_UNTIL(terminating(f, "d1") && terminating(f, "d2"), 5000));
  usleep(200000);
  CHECK(exists(f, "o"));
  release(f, "d1");
  CHECK(WAIT_UNTIL(!exists(f, "o"), 5000));
  /* d2 did not block its owner: it is still terminating on its own finalizer. */
  CHECK(terminating(f, "d2"));
  release(f, "d2");
  CHECK(WAIT_UNTIL(!exists(f, "d2"), 5000));
  controller_fixture_close(&cf);
}

TEST(foreground_cascades_through_a_dependent_with_dependents)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &garbagecollector_controller), 0);
  struct client_fixture *f = &cf.f;
  cleanup_free char *top = make(f, "top", NULL, NULL);
  cleanup_free char *r_top = ref("top", top, true);
  cleanup_free char *refs_top = xasprintf("[%s]", r_top);
  cleanup_free char *mid = make(f, "mid", refs_top, NULL);
  cleanup_free char *r_mid = ref("mid", mid, true);
  cleanup_free char *refs_mid = xasprintf("[%s]", r_mid);
  free(make(f, "leaf", refs_mid, "[\"example.com/hold\"]"));
  CHECK_INT(delete_with(f, "top", "Foreground"), 0);
  /* mid is deleted in the foreground too (it has a dependent), so top waits for leaf. */
  CHECK(WAIT_UNTIL(terminating(f, "leaf"), 5000));
  usleep(200000);
  CHECK(exists(f, "top") && exists(f, "mid"));
  release(f, "leaf");
  CHECK(WAIT_UNTIL(!exists(f, "top") && !exists(f, "mid") && !exists(f, "leaf"), 5000));
  controller_fixture_close(&cf);
}

TEST(orphan_keeps_dependents_without_the_reference)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &garbagecollector_controller), 0);
  struct client_fixture *f = &cf.f;
  free(owner_with_two(f, NULL));
  CHECK_INT(delete_with(f, "o", "Orphan"), 0);
  CHECK(WAIT_UNTIL(!exists(f, "o"), 5000));
  usleep(200000);
  json_t *d1 = get(f, "d1");
  json_t *d2 = get(f, "d2");
  CHECK(d1 && d2);
  CHECK(json_object_get(json_object_get(d1, "metadata"), "ownerReferences") == NULL);
  CHECK(json_object_get(json_object_get(d2, "metadata"), "ownerReferences") == NULL);
  CHECK(json_object_get(json_object_get(d1, "metadata"), "deletionTimestamp") == NULL);
  json_decref(d1);
  json_decref(d2);
  controller_fixture_close(&cf);
}

TEST(owners_are_checked_by_uid)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &garbagecollector_controller), 0);
  struct client_fixture *f = &cf.f;
  cleanup_free char *old_uid = make(f, "o", NULL, NULL);
  cleanup_free char *old_ref = ref("o", old_uid, false);
  cleanup_free char *old_refs = xasprintf("[%s]", old_ref);
  /* An object whose owner's name exists under another uid is collected... */
  CHECK_INT(delete_with(f, "o", "Orphan"), 0);
  CHECK(WAIT_UNTIL(!exists(f, "o"), 5000));
  cleanup_free char *new_uid = make(f, "o", NULL, NULL);
  CHECK(new_uid && strcmp(new_uid, old_uid) != 0);
  free(make(f, "stale", old_refs, NULL));
  /* ...one owned by the new object is not. */
  cleanup_free char *new_ref = ref("o", new_uid, false);
  cleanup_free char *new_refs = xasprintf("[%s]", new_ref);
  free(make(f, "fresh", new_refs, NULL));
  CHECK(WAIT_UNTIL(!exists(f, "stale"), 5000));
  usleep(200000);
  CHECK(exists(f, "fresh"));
  CHECK(exists(f, "o"));
  controller_fixture_close(&cf);
}

TEST(an_object_with_a_remaining_owner_stays_and_loses_the_dead_reference)
{
  struct controller_fixture cf;
  CHECK_INT(controller_fixture_open(&cf, &garbagecollector_controller), 0);
  struct client_fixture *f = &cf.f;
  cleanup_free char *a = make(f, "a", NULL, NULL);
  cleanup_free char *b = make(f, "b", NULL, NULL);
  cleanup_free char *ra = ref("a", a, false);
  cleanup_free char *rb = ref("b", b, false);
  cleanup_free char *refs = xasprintf("[%s,%s]", ra, rb);
  free(make(f, "shared", refs, NULL));
  /* A reference to a kind nobody serves is never judged dangling. */
  free(make(f, "alien",
            "[{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"name\":\"w\","
            "\"uid\":\"00000000-0000-4000-8000-000000000000\"}]",
            NULL));
  CHECK_INT(delete_with(f, "a", NULL), 0);
  CHECK(WAIT_UNTIL(({
                     json_t *s = get(f, "shared");
                     bool one = s && json_array_size(json_object_get(json_object_get(s, "metadata"),
                                                                     "ownerReferences")) == 1;
                     json_decref(s);
                     one;
                   }),
                   5000));
  json_t *s = get(f, "shared");
  CHECK_STR(
      json_string_value(json_object_get(
          json_array_get(json_object_get(json_object_get(s, "metadata"), "ownerReferences"), 0),
          "name")),
      "b");
  json_decref(s);
  CHECK_INT(delete_with(f, "b", NULL), 0);
  CHECK(WAIT_UNTIL(!exists(f, "shared"), 5000));
  CHECK(exists(f, "alien"));
  controller_fixture_close(&cf);
}

TEST_MAIN()
