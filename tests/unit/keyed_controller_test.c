/* keyed_controller_test.c — the shared controller frame: a key is synced by a worker,
 * a failing key is retried with back-off until it succeeds or, with max_retries, given
 * up, and the handlers queue an object's namespace/name key. */
#include "controllers/keyed_controller.h"

#include "testlib.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct recorder {
  pthread_mutex_t lock;
  int calls;
  int fail_first; /* how many calls fail before one succeeds */
  char last_key[64];
};

static int
record_sync(void *arg, const char *key, k8c_err *err)
{
  struct recorder *r = arg;
  pthread_mutex_lock(&r->lock);
  int n = ++r->calls;
  snprintf(r->last_key, sizeof r->last_key, "%s", key);
  pthread_mutex_unlock(&r->lock);
  if (n <= r->fail_first)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "failure %d", n);
  return 0;
}

static int
calls(struct recorder *r)
{
  pthread_mutex_lock(&r->lock);
  int n = r->calls;
  pthread_mutex_unlock(&r->lock);
  return n;
}

/* Waits up to 3 s for at least want calls. */
static int
wait_calls(struct recorder *r, int want)
{
  for (int i = 0; i < 300 && calls(r) < want; i++)
    usleep(10000);
  return calls(r);
}

TEST(retries_until_success_then_forgets)
{
  struct recorder r = {.lock = PTHREAD_MUTEX_INITIALIZER, .fail_first = 3};
  struct keyed_controller kc;
  keyed_controller_init(&kc,
                        &(struct keyed_controller_spec){
                            .name = "test", .thread = "ctl-test", .sync = record_sync, .arg = &r});
  k8c_err err = {0};
  CHECK_INT(keyed_controller_run(&kc, 2, &err), 0);
  workqueue_add(kc.queue, "ns/a");
  CHECK_INT(wait_calls(&r, 4), 4);
  usleep(50000); /* no further retry once it succeeded */
  CHECK_INT(calls(&r), 4);
  CHECK_STR(r.last_key, "ns/a");
  CHECK_INT(workqueue_num_requeues(kc.queue, "ns/a"), 0);
  keyed_controller_stop(&kc);
  CHECK(kc.queue == NULL);
  keyed_controller_stop(&kc); /* a second stop does nothing */
}

TEST(max_retries_gives_up)
{
  struct recorder r = {.lock = PTHREAD_MUTEX_INITIALIZER, .fail_first = 1000};
  struct keyed_controller kc;
  keyed_controller_init(&kc, &(struct keyed_controller_spec){
                                 .name = "test", .sync = record_sync, .arg = &r, .max_retries = 2});
  k8c_err err = {0};
  CHECK_INT(keyed_controller_run(&kc, 1, &err), 0);
  workqueue_add(kc.queue, "ns/b");
  CHECK_INT(wait_calls(&r, 3), 3); /* the first try and two retries */
  usleep(200000);
  CHECK_INT(calls(&r), 3);
  keyed_controller_stop(&kc);
}

TEST(enqueue_handlers_queue_the_object_key)
{
  struct recorder r = {.lock = PTHREAD_MUTEX_INITIALIZER};
  struct keyed_controller kc;
  keyed_controller_init(
      &kc, &(struct keyed_controller_spec){.name = "test", .sync = record_sync, .arg = &r});
  json_t *obj = json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "ns", "name", "c");
  struct informer_handlers h = keyed_controller_key_handlers(&kc);
  h.on_add(h.ctx, obj);
  h.on_update(h.ctx, obj, obj);
  CHECK_INT((int)workqueue_len(kc.queue), 1);
  char *key = NULL;
  CHECK(workqueue_get(kc.queue, &key));
  CHECK_STR(key, "ns/c");
  workqueue_done(kc.queue, key);
  free(key);
  h.on_delete(h.ctx, obj);
  CHECK_INT((int)workqueue_len(kc.queue), 1);
  json_decref(obj);
  keyed_controller_stop(&kc); /* no workers were started */
  CHECK_INT(calls(&r), 0);
}

TEST(workers_follow_the_config)
{
  struct controller_context ctx = {0};
  CHECK_INT(keyed_controller_workers(&ctx, 2), 2);
  ctx.cfg.workers = 5;
  CHECK_INT(keyed_controller_workers(&ctx, 2), 5);
}

TEST_MAIN()
