/* storage_conformance_test.c — the behaviour every storage backend must show, written
 * only against struct storage_ops so another backend can run the same suite: CRUD with
 * revisions, CAS conflicts, prefix lists with paging and at old revisions, watch replay,
 * compaction's 410, durability across reopen and across SIGKILL. */
#include "storage/storage.h"
#include "testlib.h"

#include "lib/mem.h"

#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- backend under test ------------------------------------------------------ */

struct fixture {
  char dir[64];
  char *endpoint;
  storage *s;
};

static storage *
open_store(struct fixture *f)
{
  k8c_err err = {0};
  storage *s = storage_open(f->endpoint, f->dir, &err);
  if (!s)
    fprintf(stderr, "open: %s\n", err.message);
  k8c_err_clear(&err);
  return s;
}

static void
fixture_setup(struct fixture *f)
{
  snprintf(f->dir, sizeof f->dir, "/tmp/k8c-storage-XXXXXX");
  if (!mkdtemp(f->dir))
    abort();
  f->endpoint = xasprintf("sqlite://%s/db/state.db", f->dir);
  f->s = open_store(f);
  CHECK(f->s != NULL);
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  return remove(path);
}

static void
fixture_teardown(struct fixture *f)
{
  if (f->s)
    f->s->ops->destroy(f->s);
  f->s = NULL;
  free(f->endpoint);
  CHECK_INT(nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* ---- helpers ------------------------------------------------------------------- */

static int64_t
put_new(storage *s, const char *key, const char *value)
{
  k8c_err err = {0};
  int64_t rev = 0;
  int rc = s->ops->create(s, key, value, strlen(value), &rev, &err);
  if (rc < 0)
    testlib_fail(__FILE__, __LINE__, "create %s: %s", key, err.message);
  k8c_err_clear(&err);
  return rev;
}

static int64_t
put_update(storage *s, const char *key, const char *value, int64_t expected)
{
  k8c_err err = {0};
  int64_t rev = 0;
  if (s->ops->update(s, key, value, strlen(value), expected, &rev, &err) < 0)
    testlib_fail(__FILE__, __LINE__, "update %s: %s", key, err.message);
  k8c_err_clear(&err);
  return rev;
}

static int64_t
remove_key(storage *s, const char *key)
{
  k8c_err err = {0};
  int64_t rev = 0;
  if (s->ops->delete (s, key, 0, &rev, &err) < 0)
    testlib_fail(__FILE__, __LINE__, "delete %s: %s", key, err.message);
  k8c_err_clear(&err);
  return rev;
}

/* Lists prefix and returns the keys joined by spaces (caller frees). */
static char *
list_keys(storage *s, const char *prefix, int64_t at_rev, int64_t *list_rev)
{
  storage_kv_list l = {0};
  k8c_err err = {0};
  int more = 0;
  int64_t rev = 0;
  char *joined = xstrdup("");
  if (s->ops->list(s, prefix, NULL, 0, at_rev, &l, &rev, &more, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "list %s: %s", prefix, err.message);
    k8c_err_clear(&err);
  }
  for (size_t i = 0; i < l.count; i++) {
    char *next = xasprintf("%s%s%s", joined, i ? " " : "", l.items[i].key);
    free(joined);
    joined = next;
  }
  storage_kv_list_free(&l);
  if (list_rev)
    *list_rev = rev;
  return joined;
}

/* ---- CRUD and revisions ----------------------------------------------------------- */

TEST(create_get_and_not_found)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t rev = put_new(s, "/registry/pods/default/a", "{\"v\":1}");
  CHECK(rev > 0);
  CHECK_INT(s->ops->current_revision(s), rev);

  storage_kv kv = {0};
  k8c_err err = {0};
  CHECK_INT(s->ops->get(s, "/registry/pods/default/a", &kv, &err), 0);
  CHECK_STR(kv.key, "/registry/pods/default/a");
  CHECK_STR(kv.value, "{\"v\":1}");
  CHECK_INT(kv.value_len, 7);
  CHECK_INT(kv.mod_revision, rev);
  CHECK_INT(kv.create_revision, rev);
  storage_kv_free(&kv);

  CHECK_INT(s->ops->get(s, "/registry/pods/default/missing", &kv, &err), -1);
  CHECK_INT(err.status, 404);
  CHECK_STR(err.reason, K8C_REASON_NOT_FOUND);
  k8c_err_clear(&err);
  fixture_teardown(&f);
}

TEST(create_existing_is_already_exists)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t rev = put_new(s, "/registry/nodes/n1", "{}");
  k8c_err err = {0};
  int64_t new_rev = 0;
  CHECK_INT(s->ops->create(s, "/registry/nodes/n1", "{}", 2, &new_rev, &err), -1);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, K8C_REASON_ALREADY_EXISTS);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->current_revision(s), rev); /* a failed write takes no revision */
  fixture_teardown(&f);
}

TEST(update_compares_revision)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t r1 = put_new(s, "/registry/nodes/n1", "{\"v\":1}");
  int64_t r2 = put_update(s, "/registry/nodes/n1", "{\"v\":2}", r1);
  CHECK(r2 > r1);

  k8c_err err = {0};
  int64_t r = 0;
  CHECK_INT(s->ops->update(s, "/registry/nodes/n1", "{\"v\":3}", 7, r1, &r, &err), -1);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, K8C_REASON_CONFLICT);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->update(s, "/registry/nodes/none", "{}", 2, r1, &r, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);

  storage_kv kv = {0};
  CHECK_INT(s->ops->get(s, "/registry/nodes/n1", &kv, &err), 0);
  CHECK_STR(kv.value, "{\"v\":2}");
  CHECK_INT(kv.mod_revision, r2);
  CHECK_INT(kv.create_revision, r1);
  storage_kv_free(&kv);

  /* expected 0 = unconditional */
  int64_t r3 = put_update(s, "/registry/nodes/n1", "{\"v\":4}", 0);
  CHECK(r3 > r2);
  fixture_teardown(&f);
}

TEST(delete_with_precondition)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t r1 = put_new(s, "/registry/pods/ns/p", "{}");
  int64_t r2 = put_update(s, "/registry/pods/ns/p", "{\"x\":1}", r1);
  k8c_err err = {0};
  int64_t r = 0;
  CHECK_INT(s->ops->delete (s, "/registry/pods/ns/p", r1, &r, &err), -1);
  CHECK_INT(err.status, 409);
  CHECK_STR(err.reason, K8C_REASON_CONFLICT);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->delete (s, "/registry/pods/ns/p", r2, &r, &err), 0);
  CHECK(r > r2);
  storage_kv kv = {0};
  CHECK_INT(s->ops->get(s, "/registry/pods/ns/p", &kv, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->delete (s, "/registry/pods/ns/p", 0, &r, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->update(s, "/registry/pods/ns/p", "{}", 2, 0, &r, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);

  /* Re-creating starts a new life: new create_revision. */
  int64_t r4 = put_new(s, "/registry/pods/ns/p", "{\"again\":true}");
  CHECK_INT(s->ops->get(s, "/registry/pods/ns/p", &kv, &err), 0);
  CHECK_INT(kv.create_revision, r4);
  CHECK_STR(kv.value, "{\"again\":true}");
  storage_kv_free(&kv);
  fixture_teardown(&f);
}

TEST(revisions_strictly_increase)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t last = s->ops->current_revision(s);
  for (int i = 0; i < 50; i++) {
    char key[64];
    snprintf(key, sizeof key, "/registry/configmaps/ns/c%d", i);
    int64_t r = put_new(s, key, "{}");
    CHECK(r > last);
    last = put_update(s, key, "{\"a\":1}", r);
    CHECK(last > r);
    if (i % 3 == 0) {
      int64_t d = remove_key(s, key);
      CHECK(d > last);
      last = d;
    }
    CHECK_INT(s->ops->current_revision(s), last);
  }
  fixture_teardown(&f);
}

/* ---- lists ------------------------------------------------------------------------ */

TEST(list_is_prefix_scoped_and_sorted)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  put_new(s, "/registry/pods/ns2/b", "{}");
  put_new(s, "/registry/pods/ns1/z", "{}");
  put_new(s, "/registry/podsecuritypolicies/x", "{}");
  put_new(s, "/registry/pods/ns1/a", "{}");
  put_new(s, "/registry/pod", "{}");
  put_new(s, "/registry/pods/ns1/gone", "{}");
  remove_key(s, "/registry/pods/ns1/gone");
  int64_t rev = 0;
  cleanup_free char *all = list_keys(s, "/registry/pods/", 0, &rev);
  CHECK_STR(all, "/registry/pods/ns1/a /registry/pods/ns1/z /registry/pods/ns2/b");
  CHECK_INT(rev, s->ops->current_revision(s));
  cleanup_free char *ns1 = list_keys(s, "/registry/pods/ns1/", 0, NULL);
  CHECK_STR(ns1, "/registry/pods/ns1/a /registry/pods/ns1/z");
  cleanup_free char *none = list_keys(s, "/registry/services/", 0, NULL);
  CHECK_STR(none, "");
  cleanup_free char *every = list_keys(s, "", 0, NULL);
  CHECK_STR(every, "/registry/pod /registry/pods/ns1/a /registry/pods/ns1/z "
                   "/registry/pods/ns2/b /registry/podsecuritypolicies/x");
  fixture_teardown(&f);
}

TEST(list_pages_with_start_after_and_limit)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  for (int i = 0; i < 7; i++) {
    char key[64];
    snprintf(key, sizeof key, "/registry/secrets/ns/s%d", i);
    put_new(s, key, "{}");
  }
  storage_kv_list page = {0};
  k8c_err err = {0};
  int64_t rev1 = 0, rev2 = 0;
  int more = 0;
  CHECK_INT(s->ops->list(s, "/registry/secrets/", NULL, 3, 0, &page, &rev1, &more, &err), 0);
  CHECK_INT(page.count, 3);
  CHECK(more);
  CHECK_STR(page.items[2].key, "/registry/secrets/ns/s2");
  cleanup_free char *cont = xstrdup(page.items[2].key);
  storage_kv_list_free(&page);

  /* Changes after the first page are invisible when paging at its revision. */
  put_new(s, "/registry/secrets/ns/s3a", "{}");
  remove_key(s, "/registry/secrets/ns/s4");
  CHECK_INT(s->ops->list(s, "/registry/secrets/", cont, 3, rev1, &page, &rev2, &more, &err), 0);
  CHECK_INT(rev2, rev1);
  CHECK_INT(page.count, 3);
  CHECK(more);
  CHECK_STR(page.items[0].key, "/registry/secrets/ns/s3");
  CHECK_STR(page.items[1].key, "/registry/secrets/ns/s4");
  CHECK_STR(page.items[2].key, "/registry/secrets/ns/s5");
  storage_kv_list_free(&page);
  CHECK_INT(s->ops->list(s, "/registry/secrets/", "/registry/secrets/ns/s5", 3, rev1, &page, &rev2,
                         &more, &err),
            0);
  CHECK_INT(page.count, 1);
  CHECK(!more);
  storage_kv_list_free(&page);
  /* Exactly `limit` keys left: no more. */
  CHECK_INT(s->ops->list(s, "/registry/secrets/", "/registry/secrets/ns/s4", 2, rev1, &page, &rev2,
                         &more, &err),
            0);
  CHECK_INT(page.count, 2);
  CHECK(!more);
  storage_kv_list_free(&page);
  fixture_teardown(&f);
}

TEST(list_at_older_revision_sees_old_values)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t ra = put_new(s, "/registry/cm/ns/a", "{\"v\":\"a1\"}");
  int64_t rb = put_new(s, "/registry/cm/ns/b", "{\"v\":\"b1\"}");
  put_update(s, "/registry/cm/ns/a", "{\"v\":\"a2\"}", ra);
  remove_key(s, "/registry/cm/ns/b");
  put_new(s, "/registry/cm/ns/c", "{}");

  storage_kv_list l = {0};
  k8c_err err = {0};
  int64_t rev = 0;
  int more = 0;
  CHECK_INT(s->ops->list(s, "/registry/cm/", NULL, 0, rb, &l, &rev, &more, &err), 0);
  CHECK_INT(rev, rb);
  CHECK_INT(l.count, 2);
  CHECK_STR(l.items[0].value, "{\"v\":\"a1\"}");
  CHECK_INT(l.items[0].mod_revision, ra);
  CHECK_STR(l.items[1].value, "{\"v\":\"b1\"}");
  storage_kv_list_free(&l);
  cleanup_free char *now = list_keys(s, "/registry/cm/", 0, NULL);
  CHECK_STR(now, "/registry/cm/ns/a /registry/cm/ns/c");
  fixture_teardown(&f);
}

/* ---- watch ------------------------------------------------------------------------ */

struct recorded {
  int count;
  enum storage_event_type type[64];
  char *key[64];
  char *value[64];
  int64_t rev[64], prev[64], create[64];
};

static void
record_event(void *ctx, const storage_event *ev)
{
  struct recorded *r = ctx;
  if (r->count >= 64)
    return;
  r->type[r->count] = ev->type;
  r->key[r->count] = xstrdup(ev->key);
  r->value[r->count] = xstrndup(ev->value, ev->value_len);
  r->rev[r->count] = ev->revision;
  r->prev[r->count] = ev->prev_revision;
  r->create[r->count] = ev->create_revision;
  r->count++;
}

static void
recorded_free(struct recorded *r)
{
  for (int i = 0; i < r->count; i++) {
    free(r->key[i]);
    free(r->value[i]);
  }
}

TEST(watch_replays_history_then_streams_live)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t r1 = put_new(s, "/registry/pods/ns/a", "{\"v\":1}");
  int64_t r2 = put_update(s, "/registry/pods/ns/a", "{\"v\":2}", r1);
  int64_t r3 = put_new(s, "/registry/pods/ns/b", "{\"b\":1}");
  int64_t r4 = remove_key(s, "/registry/pods/ns/a");

  struct recorded rec = {0};
  k8c_err err = {0};
  CHECK_INT(s->ops->watch(s, r1, record_event, &rec, &err), 0);
  CHECK_INT(rec.count, 3);
  CHECK_INT(rec.type[0], STORAGE_EVENT_PUT);
  CHECK_INT(rec.rev[0], r2);
  CHECK_INT(rec.prev[0], r1);
  CHECK_INT(rec.create[0], r1);
  CHECK_STR(rec.value[0], "{\"v\":2}");
  CHECK_INT(rec.rev[1], r3);
  CHECK_INT(rec.prev[1], 0);
  CHECK_INT(rec.type[2], STORAGE_EVENT_DELETE);
  CHECK_INT(rec.rev[2], r4);
  CHECK_INT(rec.prev[2], r2);
  CHECK_STR(rec.key[2], "/registry/pods/ns/a");
  CHECK_STR(rec.value[2], "{\"v\":2}"); /* the value before deletion */

  /* Live: delivered before the write call returns. */
  int64_t r5 = put_new(s, "/registry/pods/ns/c", "{\"c\":1}");
  CHECK_INT(rec.count, 4);
  CHECK_INT(rec.rev[3], r5);
  CHECK_STR(rec.key[3], "/registry/pods/ns/c");
  /* Failed writes publish nothing. */
  int64_t r = 0;
  CHECK_INT(s->ops->create(s, "/registry/pods/ns/c", "{}", 2, &r, &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(rec.count, 4);

  /* A second subscriber is refused; unsubscribing stops delivery. */
  struct recorded other = {0};
  CHECK_INT(s->ops->watch(s, r5, record_event, &other, &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->watch(s, 0, NULL, NULL, &err), 0);
  put_new(s, "/registry/pods/ns/d", "{}");
  CHECK_INT(rec.count, 4);
  recorded_free(&rec);
  fixture_teardown(&f);
}

/* ---- compaction ------------------------------------------------------------------- */

TEST(compaction_expires_old_revisions)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t ra = put_new(s, "/registry/cm/ns/a", "{\"v\":1}");
  put_update(s, "/registry/cm/ns/a", "{\"v\":2}", ra);
  put_new(s, "/registry/cm/ns/b", "{}");
  remove_key(s, "/registry/cm/ns/b");
  int64_t rc = put_new(s, "/registry/cm/ns/c", "{}");
  int64_t compact_at = s->ops->current_revision(s);
  int64_t rd = put_update(s, "/registry/cm/ns/c", "{\"c\":2}", rc);

  k8c_err err = {0};
  CHECK_INT(s->ops->compact(s, compact_at, &err), 0);
  CHECK_INT(s->ops->compacted_revision(s), compact_at);
  CHECK_INT(s->ops->compact(s, compact_at - 1, &err), 0); /* older: no-op */
  CHECK_INT(s->ops->compacted_revision(s), compact_at);
  CHECK_INT(s->ops->compact(s, rd + 100, &err), -1); /* future */
  k8c_err_clear(&err);

  storage_kv_list l = {0};
  int64_t rev = 0;
  int more = 0;
  CHECK_INT(s->ops->list(s, "/registry/cm/", NULL, 0, compact_at - 1, &l, &rev, &more, &err), -1);
  CHECK_INT(err.status, 410);
  CHECK_STR(err.reason, K8C_REASON_GONE);
  k8c_err_clear(&err);
  storage_kv_list_free(&l);

  /* The state at the compacted revision is still readable, and the current one. */
  cleanup_free char *at = list_keys(s, "/registry/cm/", compact_at, NULL);
  CHECK_STR(at, "/registry/cm/ns/a /registry/cm/ns/c");
  storage_kv kv = {0};
  CHECK_INT(s->ops->get(s, "/registry/cm/ns/a", &kv, &err), 0);
  CHECK_STR(kv.value, "{\"v\":2}");
  CHECK_INT(kv.create_revision, ra);
  storage_kv_free(&kv);

  struct recorded rec = {0};
  CHECK_INT(s->ops->watch(s, compact_at - 1, record_event, &rec, &err), -1);
  CHECK_INT(err.status, 410);
  k8c_err_clear(&err);
  CHECK_INT(s->ops->watch(s, compact_at, record_event, &rec, &err), 0);
  CHECK_INT(rec.count, 1);
  CHECK_INT(rec.rev[0], rd);
  recorded_free(&rec);
  CHECK_INT(s->ops->watch(s, 0, NULL, NULL, &err), 0);
  fixture_teardown(&f);
}

/* ---- durability ------------------------------------------------------------------- */

TEST(reopen_keeps_revisions_values_and_compaction)
{
  struct fixture f;
  fixture_setup(&f);
  storage *s = f.s;
  int64_t ra = put_new(s, "/registry/nodes/a", "{\"a\":1}");
  int64_t ra2 = put_update(s, "/registry/nodes/a", "{\"a\":2}", ra);
  put_new(s, "/registry/nodes/b", "{}");
  int64_t rdel = remove_key(s, "/registry/nodes/b");
  k8c_err err = {0};
  CHECK_INT(s->ops->compact(s, rdel, &err), 0);
  s->ops->destroy(s);

  f.s = s = open_store(&f);
  CHECK(s != NULL);
  if (!s) {
    fixture_teardown(&f);
    return;
  }
  CHECK_INT(s->ops->current_revision(s), rdel);
  CHECK_INT(s->ops->compacted_revision(s), rdel);
  storage_kv kv = {0};
  CHECK_INT(s->ops->get(s, "/registry/nodes/a", &kv, &err), 0);
  CHECK_STR(kv.value, "{\"a\":2}");
  CHECK_INT(kv.mod_revision, ra2);
  CHECK_INT(kv.create_revision, ra);
  storage_kv_free(&kv);
  CHECK_INT(s->ops->get(s, "/registry/nodes/b", &kv, &err), -1);
  k8c_err_clear(&err);
  /* The newest row (b's deletion) was compacted away; revisions still never repeat. */
  int64_t rn = put_new(s, "/registry/nodes/c", "{}");
  CHECK_INT(rn, rdel + 1);
  fixture_teardown(&f);
}

/* The child creates keys and reports each on the pipe only after create returned. */
static void
crash_child(const char *endpoint, const char *dir, int ack_fd)
{
  k8c_err err = {0};
  storage *s = storage_open(endpoint, dir, &err);
  if (!s)
    _exit(2);
  for (int i = 0;; i++) {
    char key[64];
    int n = snprintf(key, sizeof key, "/registry/crash/k%06d", i);
    int64_t rev;
    if (s->ops->create(s, key, "{\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", 46, &rev,
                       &err) < 0)
      _exit(3);
    key[n] = '\n';
    if (write(ack_fd, key, (size_t)n + 1) != n + 1)
      _exit(4);
  }
}

TEST(acknowledged_writes_survive_sigkill)
{
  struct fixture f;
  fixture_setup(&f);
  f.s->ops->destroy(f.s);
  f.s = NULL;
  int fds[2];
  CHECK_INT(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    crash_child(f.endpoint, f.dir, fds[1]);
    _exit(0);
  }
  close(fds[1]);
  FILE *acks = fdopen(fds[0], "r");
  char line[128];
  char **acked = NULL;
  int count = 0;
  while (count < 400 && fgets(line, sizeof line, acks)) {
    line[strcspn(line, "\n")] = '\0';
    acked = xrealloc(acked, (size_t)(count + 1) * sizeof(*acked));
    acked[count++] = xstrdup(line);
  }
  kill(pid, SIGKILL);
  /* Whatever the child acknowledged before dying counts too. */
  while (fgets(line, sizeof line, acks)) {
    line[strcspn(line, "\n")] = '\0';
    if (!*line)
      continue;
    acked = xrealloc(acked, (size_t)(count + 1) * sizeof(*acked));
    acked[count++] = xstrdup(line);
  }
  fclose(acks);
  int status = 0;
  CHECK_INT(waitpid(pid, &status, 0), pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  CHECK(count >= 400);

  f.s = open_store(&f);
  CHECK(f.s != NULL);
  int missing = 0;
  for (int i = 0; i < count; i++) {
    storage_kv kv = {0};
    k8c_err err = {0};
    if (!f.s || f.s->ops->get(f.s, acked[i], &kv, &err) < 0)
      missing++;
    storage_kv_free(&kv);
    k8c_err_clear(&err);
    free(acked[i]);
  }
  free(acked);
  CHECK_INT(missing, 0);
  fixture_teardown(&f);
}

/* ---- concurrency ------------------------------------------------------------------ */

struct writer_arg {
  storage *s;
  int id;
  int64_t revs[200];
  int failures;
};

static void *
writer_thread(void *p)
{
  struct writer_arg *a = p;
  for (int i = 0; i < 200; i++) {
    char key[64];
    snprintf(key, sizeof key, "/registry/pods/t%d/p%03d", a->id, i);
    k8c_err err = {0};
    if (a->s->ops->create(a->s, key, "{}", 2, &a->revs[i], &err) < 0)
      a->failures++;
    k8c_err_clear(&err);
    /* Interleave reads with the writes of the other threads. */
    storage_kv kv = {0};
    if (a->s->ops->get(a->s, key, &kv, &err) < 0 || kv.mod_revision != a->revs[i])
      a->failures++;
    storage_kv_free(&kv);
    k8c_err_clear(&err);
  }
  return NULL;
}

static void
count_event(void *ctx, const storage_event *ev)
{
  int64_t *last = ctx;
  /* Events must arrive in strictly increasing revision order; -1 marks a violation. */
  if (*last >= 0)
    *last = ev->revision > *last ? ev->revision : -1;
}

TEST(concurrent_writers_get_unique_ordered_revisions)
{
  struct fixture f;
  fixture_setup(&f);
  int64_t last_event = 0;
  k8c_err err = {0};
  CHECK_INT(f.s->ops->watch(f.s, 0, count_event, &last_event, &err), 0);
  struct writer_arg args[4];
  pthread_t th[4];
  for (int t = 0; t < 4; t++) {
    args[t] = (struct writer_arg){.s = f.s, .id = t};
    pthread_create(&th[t], NULL, writer_thread, &args[t]);
  }
  for (int t = 0; t < 4; t++)
    pthread_join(th[t], NULL);
  char *seen = xcalloc(801, 1);
  for (int t = 0; t < 4; t++) {
    CHECK_INT(args[t].failures, 0);
    for (int i = 0; i < 200; i++) {
      int64_t r = args[t].revs[i];
      CHECK(r >= 1 && r <= 800);
      if (r >= 1 && r <= 800) {
        CHECK(!seen[r]);
        seen[r] = 1;
      }
    }
  }
  free(seen);
  CHECK_INT(last_event, 800);
  CHECK_INT(f.s->ops->current_revision(f.s), 800);
  int64_t rev = 0;
  storage_kv_list l = {0};
  int more = 0;
  CHECK_INT(f.s->ops->list(f.s, "/registry/pods/", NULL, 0, 0, &l, &rev, &more, &err), 0);
  CHECK_INT(l.count, 800);
  storage_kv_list_free(&l);
  CHECK_INT(f.s->ops->watch(f.s, 0, NULL, NULL, &err), 0);
  fixture_teardown(&f);
}

/* Compaction and watch registration need the writer to themselves; while writers keep
 * the group commit busy they must still get it, and no write may be lost or stall. */
struct exclusive_arg {
  storage *s;
  _Atomic int *writers_left;
  int compactions;
  int failures;
};

static void *
exclusive_thread(void *p)
{
  struct exclusive_arg *a = p;
  while (atomic_load(a->writers_left) > 0) {
    k8c_err err = {0};
    int64_t rev = a->s->ops->current_revision(a->s);
    if (rev > 0 && a->s->ops->compact(a->s, rev, &err) < 0 && err.status != 410)
      a->failures++;
    else
      a->compactions++;
    k8c_err_clear(&err);
    int64_t last = 0;
    if (a->s->ops->watch(a->s, a->s->ops->current_revision(a->s), count_event, &last, &err) < 0 ||
        a->s->ops->watch(a->s, 0, NULL, NULL, &err) < 0)
      a->failures++;
    k8c_err_clear(&err);
  }
  return NULL;
}

struct counted_writer {
  struct writer_arg w;
  _Atomic int *writers_left;
};

static void *
counted_writer_thread(void *p)
{
  struct counted_writer *c = p;
  writer_thread(&c->w);
  atomic_fetch_sub(c->writers_left, 1);
  return NULL;
}

TEST(exclusive_work_interleaves_with_busy_writers)
{
  struct fixture f;
  fixture_setup(&f);
  _Atomic int writers_left = 4;
  struct counted_writer args[4];
  pthread_t th[4], ex;
  struct exclusive_arg ea = {.s = f.s, .writers_left = &writers_left};
  for (int t = 0; t < 4; t++) {
    args[t] = (struct counted_writer){.w = {.s = f.s, .id = t}, .writers_left = &writers_left};
    pthread_create(&th[t], NULL, counted_writer_thread, &args[t]);
  }
  pthread_create(&ex, NULL, exclusive_thread, &ea);
  for (int t = 0; t < 4; t++)
    pthread_join(th[t], NULL);
  pthread_join(ex, NULL);
  for (int t = 0; t < 4; t++)
    CHECK_INT(args[t].w.failures, 0);
  CHECK_INT(ea.failures, 0);
  CHECK(ea.compactions > 0);
  CHECK_INT(f.s->ops->current_revision(f.s), 800);
  /* The store still takes writes afterwards (leadership was not left dangling). */
  CHECK_INT(put_new(f.s, "/registry/pods/after/x", "{}"), 801);
  fixture_teardown(&f);
}

TEST(storage_open_default_path_and_bad_endpoint)
{
  char dir[] = "/tmp/k8c-storage-open-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  k8c_err err = {0};
  storage *s = storage_open("", dir, &err);
  CHECK(s != NULL);
  if (s)
    s->ops->destroy(s);
  cleanup_free char *db = xasprintf("%s/server/db/state.db", dir);
  cleanup_free char *dbdir = xasprintf("%s/server/db", dir);
  struct stat st;
  CHECK_INT(stat(db, &st), 0);
  CHECK_INT(stat(dbdir, &st), 0);
  CHECK_INT(st.st_mode & 0777, 0700);
  CHECK(storage_open("etcd://nowhere", dir, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  CHECK(storage_open("sqlite:///tmp/x.db?sync=sometimes", dir, &err) == NULL);
  k8c_err_clear(&err);
  cleanup_free char *normal = xasprintf("sqlite://%s/n.db?sync=normal", dir);
  s = storage_open(normal, dir, &err);
  CHECK(s != NULL);
  if (s)
    s->ops->destroy(s);
  CHECK_INT(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

TEST_MAIN()
