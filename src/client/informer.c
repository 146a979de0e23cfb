/* informer.c — the reflector loop (list, then watch from the list's resourceVersion,
 * resume the watch from the last version seen, relist on 410 Expired) and the
 * dispatch of changes to handlers.
 *
 * One lock, dispatch_mu, is held while a change is applied to the cache and handed to
 * every handler, so handlers see changes one at a time in the server's order, and a
 * handler registered late gets a consistent snapshot of adds before its first change. */
#include "client/informer.h"

#include "client/informer_decode.h"
#include "client/informer_intern.h"
#include "client/informer_store.h"
#include "lib/hashmap.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
  BACKOFF_INITIAL_MS = 100,
  BACKOFF_MAX_MS = 30 * 1000,
  HEALTHY_WATCH_MS = 30 * 1000 /* a watch this old counts as success for the back-off */
};

struct handler_reg {
  struct informer_handlers h;
  int64_t resync_ns;      /* 0 = never */
  int64_t next_resync_ns; /* monotonic */
};

enum watch_outcome { WATCH_ENDED, WATCH_EXPIRED };

struct informer {
  k8c_client *client;
  const struct api_resource *res;
  char *ns;
  char *label_selector;
  char *field_selector;
  long long default_resync_ms;

  informer_store *store;
  informer_intern *intern; /* under dispatch_mu: equal parts of cached objects shared */

  pthread_mutex_t dispatch_mu; /* outer lock: cache writes + handler calls */
  struct handler_reg *handlers;
  size_t handler_count;

  pthread_mutex_t state_mu;
  pthread_cond_t state_cv;
  bool started, stopping, joined, synced;
  client_watch *active_watch; /* under state_mu, so informer_stop can cancel it */
  bool rewatch;               /* the watch was cancelled to pick up a new resync deadline */
  char *last_rv;              /* under state_mu (written by the thread) */
  unsigned list_count;
  pthread_t thread;
};

static void *informer_main(void *arg);

/* ---------- public ---------- */

informer *
informer_new(k8c_client *client, const struct api_resource *res, const char *ns,
             const struct informer_config *cfg)
{
  informer *inf = xcalloc(1, sizeof *inf);
  inf->client = client;
  inf->res = res;
  inf->ns = xstrdup(ns ? ns : "");
  if (cfg && cfg->label_selector && cfg->label_selector[0])
    inf->label_selector = xstrdup(cfg->label_selector);
  if (cfg && cfg->field_selector && cfg->field_selector[0])
    inf->field_selector = xstrdup(cfg->field_selector);
  inf->default_resync_ms = cfg ? cfg->resync_period_ms : 0;
  inf->store = informer_store_new();
  inf->intern = informer_intern_new();
  pthread_mutex_init(&inf->dispatch_mu, NULL);
  pthread_mutex_init(&inf->state_mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&inf->state_cv, &attr);
  pthread_condattr_destroy(&attr);
  return inf;
}

static int64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
informer_add_handlers(informer *inf, const struct informer_handlers *h)
{
  pthread_mutex_lock(&inf->dispatch_mu);
  inf->handlers = xrealloc(inf->handlers, (inf->handler_count + 1) * sizeof *inf->handlers);
  struct handler_reg *reg = &inf->handlers[inf->handler_count++];
  reg->h = *h;
  long long period = h->resync_period_ms ? h->resync_period_ms : inf->default_resync_ms;
  reg->resync_ns = period > 0 ? (int64_t)period * 1000000 : 0;
  reg->next_resync_ns = reg->resync_ns ? now_ns() + reg->resync_ns : 0;
  if (h->on_add) {
    json_t **objs = NULL;
    size_t n = 0;
    informer_store_list(inf->store, NULL, &objs, &n);
    for (size_t i = 0; i < n; i++)
      h->on_add(h->ctx, objs[i]);
    informer_objs_free(objs, n);
  }
  bool resyncs = reg->resync_ns != 0;
  pthread_mutex_unlock(&inf->dispatch_mu);
  /* The thread waits for events only until the resync deadlines it knew of: make it
   * resume its watch (from the last version seen, losing nothing) with the new one. */
  pthread_mutex_lock(&inf->state_mu);
  if (resyncs && inf->active_watch) {
    inf->rewatch = true;
    client_watch_cancel(inf->active_watch);
  }
  pthread_mutex_unlock(&inf->state_mu);
}

void
informer_remove_handlers(informer *inf, const void *ctx)
{
  if (inf == NULL)
    return;
  pthread_mutex_lock(&inf->dispatch_mu);
  size_t kept = 0;
  for (size_t i = 0; i < inf->handler_count; i++)
    if (inf->handlers[i].h.ctx != ctx)
      inf->handlers[kept++] = inf->handlers[i];
  inf->handler_count = kept;
  pthread_mutex_unlock(&inf->dispatch_mu);
}

int
informer_add_index(informer *inf, const char *name, informer_index_fn fn, void *ctx)
{
  return informer_store_add_index(inf->store, name, fn, ctx);
}

json_t *
informer_index_by_path(void *path, json_t *obj)
{
  const char *p = path;
  json_t *cur = obj;
  while (cur && *p) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    cur = json_object_getn(cur, p, len);
    p += len + (dot ? 1 : 0);
  }
  return json_is_string(cur) ? json_incref(cur) : NULL;
}

int
informer_start(informer *inf, k8c_err *err)
{
  pthread_mutex_lock(&inf->state_mu);
  if (inf->started || inf->stopping) {
    pthread_mutex_unlock(&inf->state_mu);
    return 0;
  }
  int rc = pthread_create(&inf->thread, NULL, informer_main, inf);
  if (rc == 0)
    inf->started = true;
  pthread_mutex_unlock(&inf->state_mu);
  if (rc != 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "starting informer for %s: %s",
                     inf->res->plural, strerror(rc));
  return 0;
}

static void
deadline_in(struct timespec *ts, int64_t delay_ns)
{
  int64_t at = now_ns() + delay_ns;
  ts->tv_sec = at / 1000000000;
  ts->tv_nsec = at % 1000000000;
}

bool
informer_wait_synced(informer *inf, int timeout_ms)
{
  struct timespec deadline;
  deadline_in(&deadline, (int64_t)timeout_ms * 1000000);
  pthread_mutex_lock(&inf->state_mu);
  while (!inf->synced && !inf->stopping) {
    if (timeout_ms < 0)
      pthread_cond_wait(&inf->state_cv, &inf->state_mu);
    else if (pthread_cond_timedwait(&inf->state_cv, &inf->state_mu, &deadline) == ETIMEDOUT)
      break;
  }
  bool synced = inf->synced;
  pthread_mutex_unlock(&inf->state_mu);
  return synced;
}

bool
informer_has_synced(informer *inf)
{
  pthread_mutex_lock(&inf->state_mu);
  bool synced = inf->synced;
  pthread_mutex_unlock(&inf->state_mu);
  return synced;
}

json_t *
informer_get(informer *inf, const char *key)
{
  return informer_store_get(inf->store, key);
}

void
informer_list(informer *inf, json_t ***objs, size_t *n)
{
  informer_store_list(inf->store, NULL, objs, n);
}

void
informer_list_matching(informer *inf, const label_selector *sel, json_t ***objs, size_t *n)
{
  informer_store_list(inf->store, sel, objs, n);
}

int
informer_list_selected(informer *inf, const char *selector, json_t ***objs, size_t *n, k8c_err *err)
{
  struct label_selector *sel = label_selector_parse(selector ? selector : "", err);
  if (sel == NULL)
    return -1;
  informer_store_list(inf->store, sel, objs, n);
  label_selector_free(sel);
  return 0;
}

int
informer_by_index(informer *inf, const char *index_name, const char *value, json_t ***objs,
                  size_t *n, k8c_err *err)
{
  return informer_store_by_index(inf->store, index_name, value, objs, n, err);
}

void
informer_objs_free(json_t **objs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    json_decref(objs[i]);
  free(objs);
}

char *
informer_last_resource_version(informer *inf)
{
  pthread_mutex_lock(&inf->state_mu);
  char *rv = inf->last_rv ? xstrdup(inf->last_rv) : NULL;
  pthread_mutex_unlock(&inf->state_mu);
  return rv;
}

unsigned
informer_list_count(informer *inf)
{
  pthread_mutex_lock(&inf->state_mu);
  unsigned n = inf->list_count;
  pthread_mutex_unlock(&inf->state_mu);
  return n;
}

void
informer_stop(informer *inf)
{
  pthread_mutex_lock(&inf->state_mu);
  inf->stopping = true;
  if (inf->active_watch)
    client_watch_cancel(inf->active_watch);
  pthread_cond_broadcast(&inf->state_cv);
  bool join = inf->started && !inf->joined;
  inf->joined = true;
  pthread_mutex_unlock(&inf->state_mu);
  if (join)
    pthread_join(inf->thread, NULL);
}

void
informer_free(informer *inf)
{
  if (inf == NULL)
    return;
  informer_stop(inf);
  informer_store_free(inf->store);
  informer_intern_free(inf->intern);
  free(inf->handlers);
  free(inf->last_rv);
  free(inf->ns);
  free(inf->label_selector);
  free(inf->field_selector);
  pthread_mutex_destroy(&inf->dispatch_mu);
  pthread_mutex_destroy(&inf->state_mu);
  pthread_cond_destroy(&inf->state_cv);
  free(inf);
}

/* ---------- dispatch (with dispatch_mu held) ---------- */

static void
notify_add(informer *inf, json_t *obj)
{
  for (size_t i = 0; i < inf->handler_count; i++)
    if (inf->handlers[i].h.on_add)
      inf->handlers[i].h.on_add(inf->handlers[i].h.ctx, obj);
}

static void
notify_update(informer *inf, json_t *old_obj, json_t *new_obj)
{
  for (size_t i = 0; i < inf->handler_count; i++)
    if (inf->handlers[i].h.on_update)
      inf->handlers[i].h.on_update(inf->handlers[i].h.ctx, old_obj, new_obj);
}

static void
notify_delete(informer *inf, json_t *obj)
{
  for (size_t i = 0; i < inf->handler_count; i++)
    if (inf->handlers[i].h.on_delete)
      inf->handlers[i].h.on_delete(inf->handlers[i].h.ctx, obj);
}

/* Stores obj (added or modified) and tells the handlers. */
static void
apply_upsert(informer *inf, const char *key, json_t *obj)
{
  /* Controllers never read managedFields; not caching them halves the memory an
   * informer holds for many objects (upstream's scheduler strips them the same way).
   * The object is not shared yet, so it may still be changed here. */
  json_object_del(json_object_get(obj, "metadata"), "managedFields");
  /* Objects of one workload are mostly alike: cache their equal parts once. */
  informer_intern_children(inf->intern, obj);
  json_t *old = informer_store_put(inf->store, key, obj);
  if (old)
    notify_update(inf, old, obj);
  else
    notify_add(inf, obj);
  json_decref(old);
}

static void
apply_delete(informer *inf, const char *key, json_t *obj)
{
  json_t *old = informer_store_remove(inf->store, key);
  notify_delete(inf, obj ? obj : old);
  json_decref(old);
}

/* Replays on_update(obj, obj) to every handler whose resync is due. Returns how long
 * (ns) until the next one is due, or -1 if none will be. */
static int64_t
run_due_resyncs(informer *inf)
{
  pthread_mutex_lock(&inf->dispatch_mu);
  int64_t now = now_ns();
  int64_t next = -1;
  json_t **objs = NULL;
  size_t n = 0;
  bool listed = false;
  for (size_t i = 0; i < inf->handler_count; i++) {
    struct handler_reg *reg = &inf->handlers[i];
    if (reg->resync_ns == 0)
      continue;
    if (reg->next_resync_ns <= now) {
      if (!listed) {
        informer_store_list(inf->store, NULL, &objs, &n);
        listed = true;
      }
      for (size_t j = 0; j < n && reg->h.on_update; j++)
        reg->h.on_update(reg->h.ctx, objs[j], objs[j]);
      reg->next_resync_ns = now + reg->resync_ns;
    }
    int64_t wait = reg->next_resync_ns - now;
    if (next < 0 || wait < next)
      next = wait;
  }
  pthread_mutex_unlock(&inf->dispatch_mu);
  if (listed)
    informer_objs_free(objs, n);
  return next;
}

/* ---------- the reflector ---------- */

static bool
is_stopping(informer *inf)
{
  pthread_mutex_lock(&inf->state_mu);
  bool s = inf->stopping;
  pthread_mutex_unlock(&inf->state_mu);
  return s;
}

static void
set_last_rv(informer *inf, const char *rv)
{
  if (rv == NULL || rv[0] == 0)
    return;
  pthread_mutex_lock(&inf->state_mu);
  free(inf->last_rv);
  inf->last_rv = xstrdup(rv);
  pthread_mutex_unlock(&inf->state_mu);
}

/* Sleeps *backoff_ms (waking early on stop), then doubles it up to the cap. */
static void
sleep_backoff(informer *inf, int64_t *backoff_ms)
{
  struct timespec deadline;
  deadline_in(&deadline, *backoff_ms * 1000000);
  pthread_mutex_lock(&inf->state_mu);
  while (!inf->stopping &&
         pthread_cond_timedwait(&inf->state_cv, &inf->state_mu, &deadline) != ETIMEDOUT) {
  }
  pthread_mutex_unlock(&inf->state_mu);
  *backoff_ms = *backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff_ms * 2;
}

/* Objects per list request. The whole collection parsed at once, managedFields and all,
 * is several times the size of the cache it refreshes (30,000 pods: over 400 MB next to
 * the ~200 MB cached); in pages, what a (re)list adds is one page. */
#define LIST_PAGE_SIZE 500

/* Applies one page of a list (dispatch_mu held): adds or updates its objects, in key
 * order, and remembers their keys in listed. */
static void
apply_list_page(informer *inf, json_t *items, hashmap *listed)
{
  size_t i;
  json_t *obj;
  json_array_foreach (items, i, obj) {
    cleanup_free char *key = client_object_key(obj);
    if (key == NULL)
      continue;
    hashmap_put(listed, key, (void *)1);
    apply_upsert(inf, key, obj);
  }
}

/* Lists the collection and makes the cache equal to it: listed objects are added or
 * updated (in key order, page by page, as client-go's reflector hands them over),
 * cached objects missing from the list are deleted. Every page is of the first page's
 * resourceVersion; if the continuation expires (a compaction) the list starts over
 * unpaged. */
static int
list_and_replace(informer *inf, k8c_err *err)
{
  hashmap *listed = hashmap_new();
  cleanup_free char *cont = NULL;
  cleanup_free char *list_rv = NULL;
  long long limit = LIST_PAGE_SIZE;
  for (;;) {
    struct client_list_opts o = {
        .label_selector = inf->label_selector,
        .field_selector = inf->field_selector,
        .limit = limit,
        .continue_token = cont,
    };
    cleanup_json json_t *list = NULL;
    if (client_list(inf->client, inf->res, inf->ns, &o, &list, err) < 0) {
      if (cont == NULL || err->status != 410) {
        hashmap_free(listed, NULL);
        return -1;
      }
      k8c_err_clear(err);
      free(steal_ptr(cont));
      hashmap_free(listed, NULL);
      listed = hashmap_new();
      limit = 0;
      continue;
    }
    json_t *meta = json_object_get(list, "metadata");
    if (cont == NULL) {
      pthread_mutex_lock(&inf->state_mu);
      inf->list_count++;
      pthread_mutex_unlock(&inf->state_mu);
      free(list_rv);
      list_rv = xstrdup(json_string_value(json_object_get(meta, "resourceVersion")) ?: "");
    }
    pthread_mutex_lock(&inf->dispatch_mu);
    apply_list_page(inf, json_object_get(list, "items"), listed);
    pthread_mutex_unlock(&inf->dispatch_mu);
    free(steal_ptr(cont));
    const char *next = json_string_value(json_object_get(meta, "continue"));
    if (limit == 0 || next == NULL || next[0] == '\0')
      break;
    cont = xstrdup(next);
  }
  pthread_mutex_lock(&inf->dispatch_mu);
  char **keys = NULL;
  size_t nkeys = 0;
  informer_store_keys(inf->store, &keys, &nkeys);
  for (size_t k = 0; k < nkeys; k++) {
    if (!hashmap_get(listed, keys[k]))
      apply_delete(inf, keys[k], NULL);
    free(keys[k]);
  }
  free(keys);
  pthread_mutex_unlock(&inf->dispatch_mu);
  hashmap_free(listed, NULL);
  set_last_rv(inf, list_rv);
  pthread_mutex_lock(&inf->state_mu);
  inf->synced = true;
  pthread_cond_broadcast(&inf->state_cv);
  pthread_mutex_unlock(&inf->state_mu);
  return 0;
}

static void
apply_event(informer *inf, struct client_event *ev)
{
  /* Parsed here rather than by client_event_object: without managedFields, which the
   * cache drops anyway (see apply_upsert). */
  cleanup_json json_t *obj =
      ev->raw ? informer_decode_object(ev->raw, ev->raw_len) : json_incref(client_event_object(ev));
  if (!json_is_object(obj))
    return;
  cleanup_free char *key = client_object_key(obj);
  if (key == NULL)
    return;
  pthread_mutex_lock(&inf->dispatch_mu);
  if (ev->type == CLIENT_EVENT_DELETED)
    apply_delete(inf, key, obj);
  else
    apply_upsert(inf, key, obj);
  pthread_mutex_unlock(&inf->dispatch_mu);
  set_last_rv(inf, client_object_rv(obj));
}

/* Reads events until the watch ends; *progressed says whether any arrived. */
static enum watch_outcome
watch_loop(informer *inf, client_watch *w, bool *progressed)
{
  struct client_event ev = {0};
  enum watch_outcome outcome = WATCH_ENDED;
  for (;;) {
    int64_t until_resync = run_due_resyncs(inf);
    int timeout_ms = until_resync < 0 ? -1 : (int)(until_resync / 1000000) + 1;
    int rc = client_watch_next(w, &ev, timeout_ms);
    if (rc == 0)
      continue;
    if (rc < 0)
      break;
    if (ev.type == CLIENT_EVENT_ERROR) {
      json_t *status = client_event_object(&ev);
      if (json_integer_value(json_object_get(status, "code")) == 410)
        outcome = WATCH_EXPIRED;
      log_debug("informer %s: watch error: %s", inf->res->plural,
                json_string_value(json_object_get(status, "message")) ?: "?");
      break;
    }
    *progressed = true;
    if (ev.type == CLIENT_EVENT_BOOKMARK)
      set_last_rv(inf, client_object_rv(client_event_object(&ev)));
    else
      apply_event(inf, &ev);
  }
  client_event_clear(&ev);
  return outcome;
}

/* Starts a watch from the last version seen and registers it for informer_stop. NULL
 * with err if it cannot start, or (err clear) if the informer is stopping. */
static client_watch *
watch_open(informer *inf, k8c_err *err)
{
  cleanup_free char *rv = informer_last_resource_version(inf);
  struct client_list_opts o = {
      .label_selector = inf->label_selector,
      .field_selector = inf->field_selector,
      .resource_version = rv ? rv : "",
      .allow_bookmarks = true,
  };
  client_watch *w = client_watch_start(inf->client, inf->res, inf->ns, &o, err);
  if (w == NULL)
    return NULL;
  pthread_mutex_lock(&inf->state_mu);
  bool stopping = inf->stopping;
  if (!stopping)
    inf->active_watch = w;
  pthread_mutex_unlock(&inf->state_mu);
  if (stopping) {
    client_watch_close(w);
    return NULL;
  }
  return w;
}

/* Unregisters and closes w. Returns true if it was cancelled only to be reopened. */
static bool
watch_release(informer *inf, client_watch *w)
{
  pthread_mutex_lock(&inf->state_mu);
  inf->active_watch = NULL;
  bool rewatch = inf->rewatch;
  inf->rewatch = false;
  pthread_mutex_unlock(&inf->state_mu);
  client_watch_close(w);
  return rewatch;
}

static void *
informer_main(void *arg)
{
  informer *inf = arg;
  char thread_name[16]; /* the kernel's limit, with the NUL: for profilers and top -H */
  snprintf(thread_name, sizeof thread_name, "inf-%s", inf->res->plural);
  pthread_setname_np(pthread_self(), thread_name);
  int64_t backoff_ms = BACKOFF_INITIAL_MS;
  bool need_list = true;
  while (!is_stopping(inf)) {
    k8c_err err = {0};
    if (need_list) {
      if (list_and_replace(inf, &err) < 0) {
        log_warn("informer %s: list failed: %s", inf->res->plural, err.message);
        k8c_err_clear(&err);
        sleep_backoff(inf, &backoff_ms);
        continue;
      }
      need_list = false;
    }
    client_watch *w = watch_open(inf, &err);
    if (w == NULL) {
      if (err.status == 0)
        break; /* stopping */
      /* Too old a version: only a new list can tell what changed. */
      need_list = err.status == 410;
      log_debug("informer %s: watch failed: %s", inf->res->plural, err.message);
      k8c_err_clear(&err);
      sleep_backoff(inf, &backoff_ms);
      continue;
    }
    int64_t started = now_ns();
    bool progressed = false;
    enum watch_outcome outcome = watch_loop(inf, w, &progressed);
    bool rewatch = watch_release(inf, w);
    if (outcome == WATCH_EXPIRED)
      need_list = true;
    else if (rewatch)
      continue;
    if (progressed || now_ns() - started > (int64_t)HEALTHY_WATCH_MS * 1000000)
      backoff_ms = BACKOFF_INITIAL_MS;
    if (!is_stopping(inf))
      sleep_backoff(inf, &backoff_ms);
  }
  return NULL;
}
