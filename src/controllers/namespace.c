/* namespace.c — the namespace lifecycle controller, after upstream's namespace deleter:
 * for a namespace with a deletionTimestamp and the "kubernetes" finalizer, every object
 * of every namespaced resource in it is deleted (Background), what remains is counted
 * (with its finalizers) into the NamespaceContentRemaining / NamespaceFinalizersRemaining
 * conditions, and the namespace is looked at again a little later until it is empty;
 * then "kubernetes" is removed through namespaces/finalize and the store deletes it. */
#include "controllers/namespace.h"

#include "apimachinery/meta.h"
#include "client/workqueue.h"
#include "controllers/keyed_controller.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

#define NAMESPACE_FINALIZER "kubernetes"
/* How soon a namespace with content still terminating is looked at again. */
#define NAMESPACE_RECHECK_MS 500
/* Objects per list page while emptying a namespace. */
#define NAMESPACE_LIST_PAGE 500
#define NAMESPACE_MAX_RETRIES 15

struct ns_controller {
  struct keyed_controller kc; /* first: the handlers' ctx is the controller */
  k8c_client *client;
  informer *namespaces;
};

static void *ns_start(struct controller_context *ctx, k8c_err *err);
static void ns_stop(void *state);

const struct controller_def namespace_controller = {
    .name = "namespace",
    .start = ns_start,
    .stop = ns_stop,
};

/* ---------- what is left in a namespace ---------- */

struct ns_content {
  json_t *remaining;  /* {"configmaps.": count} */
  json_t *finalizers; /* {"example.com/x": count} */
  json_t *failures;   /* ["error text", ...] */
};

static bool
deletable(const struct api_resource *res, size_t index)
{
  bool list = false, del = false;
  for (const char *const *v = res->verbs; v && *v; v++) {
    list = list || strcmp(*v, "list") == 0;
    del = del || strcmp(*v, "delete") == 0;
  }
  if (!res->namespaced || !res->preferred || !list || !del)
    return false;
  for (size_t i = 0; i < index; i++)
    if (api_resources[i].preferred &&
        strcmp(api_resources[i].storage_resource, res->storage_resource) == 0)
      return false;
  return true;
}

static void
count_in(json_t *counts, const char *key)
{
  json_int_t n = json_integer_value(json_object_get(counts, key));
  json_object_set_new(counts, key, json_integer(n + 1));
}

/* Deletes everything of res in ns, then counts what is still there. Lists a page at a
 * time: a namespace of 10,000 pods would otherwise be parsed whole, with managedFields,
 * twice per look (hundreds of MB that glibc's arenas keep after they are freed). */
static void
delete_resource_content(struct ns_controller *c, const struct api_resource *res, const char *ns,
                        struct ns_content *out)
{
  cleanup_json json_t *opts = json_pack("{s:s}", "propagationPolicy", "Background");
  for (int pass = 0; pass < 2; pass++) {
    char *token = NULL;
    do {
      json_t *list = NULL;
      k8c_err err = {0};
      struct client_list_opts lo = {.limit = NAMESPACE_LIST_PAGE, .continue_token = token};
      int rc = client_list(c->client, res, ns, &lo, &list, &err);
      free(token);
      token = NULL;
      if (rc < 0) {
        json_array_append_new(out->failures, json_sprintf("%s: %s", res->plural, err.message));
        k8c_err_clear(&err);
        return;
      }
      size_t i;
      json_t *item;
      json_array_foreach (json_object_get(list, "items"), i, item) {
        json_t *meta = json_object_get(item, "metadata");
        if (pass == 1) {
          char group_resource[160];
          snprintf(group_resource, sizeof group_resource, "%s.%s", res->plural, res->group);
          count_in(out->remaining, group_resource);
          size_t j;
          json_t *f;
          json_array_foreach (json_object_get(meta, "finalizers"), j, f)
            if (json_string_value(f))
              count_in(out->finalizers, json_string_value(f));
          continue;
        }
        if (json_object_get(meta, "deletionTimestamp"))
          continue;
        if (client_delete(c->client, res, ns, meta_name(item), opts, NULL, NULL, &err) < 0 &&
            err.status != 404 && err.status != 409)
          json_array_append_new(out->failures, json_sprintf("%s \"%s\": %s", res->plural,
                                                            meta_name(item), err.message));
        k8c_err_clear(&err);
      }
      const char *next =
          json_string_value(json_object_get(json_object_get(list, "metadata"), "continue"));
      if (next && next[0])
        token = xstrdup(next);
      json_decref(list);
    } while (token);
  }
}

/* "a has 1 resource instances, b has 2 ..." from {"a": 1, "b": 2} (keys sorted). */
static char *
describe_counts(json_t *counts, const char *middle)
{
  const char **keys = xcalloc(json_object_size(counts) + 1, sizeof *keys);
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach (counts, k, v)
    keys[n++] = k;
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
      const char *t = keys[j];
      keys[j] = keys[j - 1];
      keys[j - 1] = t;
    }
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < n; i++)
    buf_printf(&b, "%s%s %s %lld resource instances", i ? ", " : "", keys[i], middle,
               (long long)json_integer_value(json_object_get(counts, keys[i])));
  free(keys);
  char *s = xstrdup(buf_cstr(&b));
  buf_free(&b);
  return s;
}

/* ---------- conditions ---------- */

static json_t *
condition(const char *type, bool status, const char *reason, const char *message)
{
  return json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status", status ? "True" : "False",
                   "reason", reason, "message", message);
}

static json_t *
build_conditions(const struct ns_content *content)
{
  json_t *conds = json_array();
  json_array_append_new(conds,
                        condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                                  "All resources successfully discovered"));
  json_array_append_new(conds, condition("NamespaceDeletionGroupVersionParsingFailure", false,
                                         "ParsedGroupVersions",
                                         "All legacy kube types successfully parsed"));
  size_t nfail = json_array_size(content->failures);
  if (nfail) {
    buf b;
    buf_init(&b);
    buf_printf(&b, "Failed to delete all resource types, %zu remaining: ", nfail);
    for (size_t i = 0; i < nfail; i++)
      buf_printf(&b, "%s%s", i ? ", " : "",
                 json_string_value(json_array_get(content->failures, i)));
    json_array_append_new(conds, condition("NamespaceDeletionContentFailure", true,
                                           "ContentDeletionFailed", buf_cstr(&b)));
    buf_free(&b);
  } else {
    json_array_append_new(conds,
                          condition("NamespaceDeletionContentFailure", false, "ContentDeleted",
                                    "All content successfully deleted, may be waiting on "
                                    "finalization"));
  }
  if (json_object_size(content->remaining)) {
    cleanup_free char *what = describe_counts(content->remaining, "has");
    cleanup_free char *msg = xasprintf("Some resources are remaining: %s", what);
    json_array_append_new(conds,
                          condition("NamespaceContentRemaining", true, "SomeResourcesRemain", msg));
  } else {
    json_array_append_new(conds, condition("NamespaceContentRemaining", false, "ContentRemoved",
                                           "All content successfully removed"));
  }
  if (json_object_size(content->finalizers)) {
    cleanup_free char *what = describe_counts(content->finalizers, "in");
    cleanup_free char *msg =
        xasprintf("Some content in the namespace has finalizers remaining: %s", what);
    json_array_append_new(
        conds, condition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain", msg));
  } else {
    json_array_append_new(conds,
                          condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                                    "All content-preserving finalizers finished"));
  }
  return conds;
}

/* Sets the conditions on the live namespace's status (lastTransitionTime kept while a
 * condition's status does not change); writes only if something changed. */
static int
update_conditions(struct ns_controller *c, const json_t *ns_obj, json_t *conds, k8c_err *err)
{
  const struct api_resource *nsres = api_resource_find("", "v1", "namespaces");
  json_t *old = json_object_get(json_object_get(ns_obj, "status"), "conditions");
  cleanup_free char *now = meta_now_rfc3339();
  bool changed = json_array_size(old) != json_array_size(conds);
  size_t i;
  json_t *cond;
  json_array_foreach (conds, i, cond) {
    const char *type = json_string_value(json_object_get(cond, "type"));
    json_t *prev = NULL;
    size_t j;
    json_t *o;
    json_array_foreach (old, j, o) {
      const char *otype = json_string_value(json_object_get(o, "type"));
      if (otype && strcmp(otype, type) == 0)
        prev = o;
    }
    json_t *ptime = json_object_get(prev, "lastTransitionTime");
    bool same_status =
        prev && json_equal(json_object_get(prev, "status"), json_object_get(cond, "status"));
    json_object_set_new(cond, "lastTransitionTime",
                        same_status && ptime ? json_incref(ptime) : json_string(now));
    if (!prev || !json_equal(prev, cond))
      changed = true;
  }
  if (!changed)
    return 0;
  cleanup_json json_t *copy = json_deep_copy(ns_obj);
  json_t *status = json_object_get(copy, "status");
  if (!json_is_object(status)) {
    status = json_object();
    json_object_set_new(copy, "status", status);
  }
  json_object_set_new(status, "phase", json_string("Terminating"));
  json_object_set(status, "conditions", conds);
  return client_update_status(c->client, nsres, "", meta_name(copy), copy, NULL, NULL, err);
}

/* ---------- one namespace's turn ---------- */

/* 0 done, 1 look again later, -1 error. */
static int
sync_namespace(struct ns_controller *c, const char *name, k8c_err *err)
{
  const struct api_resource *nsres = api_resource_find("", "v1", "namespaces");
  cleanup_json json_t *ns_obj = NULL;
  k8c_err gerr = {0};
  if (client_get(c->client, nsres, "", name, &ns_obj, &gerr) < 0) {
    if (gerr.status == 404) {
      k8c_err_clear(&gerr);
      return 0;
    }
    k8c_err_move(err, &gerr);
    return -1;
  }
  if (json_object_get(json_object_get(ns_obj, "metadata"), "deletionTimestamp") == NULL)
    return 0;
  json_t *finalizers = json_object_get(json_object_get(ns_obj, "spec"), "finalizers");
  bool ours = false;
  size_t i;
  json_t *f;
  json_array_foreach (finalizers, i, f)
    ours = ours || (json_string_value(f) && strcmp(json_string_value(f), NAMESPACE_FINALIZER) == 0);
  if (!ours)
    return 0;

  struct ns_content content = {json_object(), json_object(), json_array()};
  for (size_t r = 0; r < api_resources_count; r++)
    if (deletable(&api_resources[r], r))
      delete_resource_content(c, &api_resources[r], name, &content);
  bool empty = json_object_size(content.remaining) == 0 && json_array_size(content.failures) == 0;
  json_t *conds = build_conditions(&content);
  json_decref(content.remaining);
  json_decref(content.finalizers);
  json_decref(content.failures);
  int rc = update_conditions(c, ns_obj, conds, err);
  json_decref(conds);
  if (rc < 0)
    return err->status == 404 ? 0 : -1;
  if (!empty)
    return 1;

  /* Empty: lift our finalizer through namespaces/finalize. */
  cleanup_json json_t *body =
      json_pack("{s:{s:s}, s:{s:[]}}", "metadata", "name", name, "spec", "finalizers");
  json_t *keep = json_object_get(json_object_get(body, "spec"), "finalizers");
  json_array_foreach (finalizers, i, f)
    if (json_string_value(f) && strcmp(json_string_value(f), NAMESPACE_FINALIZER) != 0)
      json_array_append(keep, f);
  k8c_err ferr = {0};
  struct client_write_opts wo = {0};
  cleanup_json json_t *finalized = NULL;
  /* The client has no call for namespaces/finalize; its update op serves any subresource. */
  if (c->client->ops->update(c->client, nsres, "", name, "finalize", body, &wo, &finalized, &ferr) <
      0) {
    if (ferr.status == 404) {
      k8c_err_clear(&ferr);
      return 0;
    }
    k8c_err_move(err, &ferr);
    return -1;
  }
  log_debug("namespace controller: %s is empty; finalized", name);
  return 0;
}

/* ---------- handlers ---------- */

static void
queue_if_terminating(struct ns_controller *c, json_t *obj)
{
  if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") && meta_name(obj))
    workqueue_add(c->kc.queue, meta_name(obj));
}

static void
on_add(void *ctx, json_t *obj)
{
  queue_if_terminating(ctx, obj);
}

static void
on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  queue_if_terminating(ctx, new_obj);
}

/* One key's turn (keyed_controller's sync): a namespace still emptying is looked at
 * again after a while. */
static int
sync_key(void *arg, const char *name, k8c_err *err)
{
  struct ns_controller *c = arg;
  int rc = sync_namespace(c, name, err);
  if (rc > 0)
    workqueue_add_after(c->kc.queue, name, NAMESPACE_RECHECK_MS);
  return rc > 0 ? 0 : rc;
}

static void *
ns_start(struct controller_context *ctx, k8c_err *err)
{
  struct ns_controller *c = xcalloc(1, sizeof *c);
  c->client = ctx->client;
  keyed_controller_init(&c->kc,
                        &(struct keyed_controller_spec){.name = "namespace",
                                                        .thread = "ctl-namespace",
                                                        .sync = sync_key,
                                                        .arg = c,
                                                        .max_retries = NAMESPACE_MAX_RETRIES});
  c->namespaces = informer_factory_get(ctx->informers, api_resource_find("", "v1", "namespaces"),
                                       "", NULL, NULL);
  struct informer_handlers h = {
      .on_add = on_add, .on_update = on_update, .ctx = c, .resync_period_ms = -1};
  keyed_controller_watch(&c->kc, c->namespaces, &h);
  if (keyed_controller_run(&c->kc, keyed_controller_workers(ctx, 1), err) < 0) {
    ns_stop(c);
    return NULL;
  }
  return c;
}

static void
ns_stop(void *state)
{
  struct ns_controller *c = state;
  keyed_controller_stop(&c->kc);
  free(c);
}
