/* store_read.c — get, list and watch in the generic store, served from the watch
 * cache: label and field selectors, limit/continue paging (later pages read from the
 * store at the first page's revision, so a paged list is one consistent snapshot),
 * resourceVersion semantics, and the indexer that tells the cache each object's
 * labels and selectable fields. */
#include "apimachinery/fields.h"
#include "apimachinery/labels.h"
#include "lib/mem.h"
#include "registry/store_internal.h"
#include "registry/strategy_util.h"

#include <stdio.h>
#include <string.h>

/* ---------- the cache indexer ---------- */

static const struct api_resource *
resource_for_key(const char *key)
{
  const char *rest = key + strlen("/registry/");
  const struct api_resource *best = NULL;
  size_t best_len = 0;
  for (size_t i = 0; i < api_resources_count; i++) {
    const char *sr = api_resources[i].storage_resource;
    if (sr[0] != rest[0]) /* most resources differ at once: skip the length and compare */
      continue;
    size_t n = strlen(sr);
    if (strncmp(rest, sr, n) == 0 && rest[n] == '/' && n > best_len) {
      best = &api_resources[i];
      best_len = n;
    }
  }
  return best;
}

static void
index_object(void *ctx, const char *key, const json_t *obj, json_t **labels_out,
             json_t **fields_out)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *labels = json_object_get(meta, "labels");
  *labels_out = json_is_object(labels) ? json_incref(labels) : NULL;
  json_t *fields = json_object();
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  json_object_set_new_nocheck(fields, "metadata.name", obj_string(name ? name : ""));
  json_object_set_new_nocheck(fields, "metadata.namespace", obj_string(ns ? ns : ""));
  if (strncmp(key, "/registry/", 10) == 0) {
    const struct api_resource *res = resource_for_key(key);
    if (res) {
      const struct resource_strategy *st = strategy_for(res->group, res->plural);
      if (st->selectable_fields)
        st->selectable_fields(obj, fields);
    }
  }
  *fields_out = fields;
}

int
registry_init(struct registry *r, storage *s, const struct registry_config *cfg, k8c_err *err)
{
  memset(r, 0, sizeof *r);
  r->store = s;
  r->cfg = *cfg;
  r->env.reg = r;
  pthread_mutex_init(&r->alloc_lock, NULL);
  r->cache = watchcache_new(s, index_object, r, err);
  if (r->cache == NULL)
    return k8c_err_prefix(err, "building the watch cache");
  return 0;
}

void
registry_destroy(struct registry *r)
{
  if (r->cache)
    watchcache_free(r->cache);
  pthread_mutex_destroy(&r->alloc_lock);
}

/* ---------- selectors ---------- */

struct selector_filter {
  label_selector *labels;
  field_selector *fields;
};

static bool
filter_match(void *ctx, const cache_obj *o)
{
  struct selector_filter *f = ctx;
  if (f->labels &&
      !label_selector_matches_lookup(f->labels, string_map_lookup, cache_obj_labels(o)))
    return false;
  if (f->fields &&
      !field_selector_matches_lookup(f->fields, string_map_lookup, cache_obj_fields(o)))
    return false;
  return true;
}

static void
filter_free(struct selector_filter *f)
{
  if (f->labels)
    label_selector_free(f->labels);
  if (f->fields)
    field_selector_free(f->fields);
  f->labels = NULL;
  f->fields = NULL;
}

static int
filter_parse(const struct registry_target *t, const struct list_opts *lo, struct selector_filter *f,
             k8c_err *err)
{
  memset(f, 0, sizeof *f);
  if (lo->label_selector && lo->label_selector[0]) {
    f->labels = label_selector_parse(lo->label_selector, err);
    if (f->labels == NULL)
      return -1;
  }
  if (lo->field_selector && lo->field_selector[0]) {
    f->fields = field_selector_parse(lo->field_selector, err);
    if (f->fields == NULL) {
      filter_free(f);
      return -1;
    }
    const struct resource_strategy *st = strategy_for(t->res->group, t->res->plural);
    static const char *const none[] = {NULL};
    if (field_selector_check_supported(
            f->fields, st->supported_fields ? st->supported_fields : none, t->res->kind, err) < 0) {
      filter_free(f);
      return -1;
    }
  }
  return 0;
}

/* ---------- get ---------- */

int
registry_get(struct registry *r, const struct registry_target *t, cache_obj **out, k8c_err *err)
{
  cleanup_free char *key = registry_key(t->res, t->namespace_, t->name);
  k8c_err gerr = {0};
  if (watchcache_get(r->cache, key, out, &gerr) < 0) {
    if (gerr.status == 404) {
      k8c_err_clear(&gerr);
      return store_not_found(t->res, t->name, err);
    }
    k8c_err_move(err, &gerr);
    return -1;
  }
  return 0;
}

/* ---------- list ---------- */

void
list_result_free(struct list_result *l)
{
  for (size_t i = 0; i < l->count; i++) {
    if (l->items[i].ref)
      cache_obj_unref(l->items[i].ref);
    free(l->items[i].owned);
  }
  free(l->items);
  free(l->continue_token);
  memset(l, 0, sizeof *l);
}

static char *
continue_encode(int64_t rev, const char *start)
{
  json_t *tok =
      json_pack("{s:s,s:I,s:s}", "v", "meta.k8s.io/v1", "rv", (json_int_t)rev, "start", start);
  char *text = json_dumps(tok, JSON_COMPACT);
  json_decref(tok);
  size_t n = strlen(text);
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = xmalloc(4 * ((n + 2) / 3) + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)text[i] << 16;
    if (i + 1 < n)
      v |= (unsigned char)text[i + 1] << 8;
    if (i + 2 < n)
      v |= (unsigned char)text[i + 2];
    out[o++] = b64[(v >> 18) & 63];
    out[o++] = b64[(v >> 12) & 63];
    out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? b64[v & 63] : '=';
  }
  out[o] = 0;
  free(text);
  return out;
}

static int
continue_decode(const char *token, int64_t *rev, char **start, k8c_err *err)
{
  size_t n = strlen(token);
  cleanup_free char *text = xmalloc(n + 1);
  size_t o = 0;
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    char c = token[i];
    int d;
    if (c >= 'A' && c <= 'Z')
      d = c - 'A';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      d = c - '0' + 52;
    else if (c == '+' || c == '-')
      d = 62;
    else if (c == '/' || c == '_')
      d = 63;
    else if (c == '=')
      break;
    else
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "continue key is not valid: illegal base64 data");
    v = (v << 6) | (unsigned)d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      text[o++] = (char)((v >> bits) & 0xff);
    }
  }
  text[o] = 0;
  json_error_t jerr;
  cleanup_json json_t *tok = json_loads(text, 0, &jerr);
  json_t *jrv = json_object_get(tok, "rv");
  const char *s = json_string_value(json_object_get(tok, "start"));
  if (!json_is_integer(jrv) || s == NULL || strchr(s, '\n') || strstr(s, ".."))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "continue key is not valid: incorrect encoded start resourceVersion (version "
                     "meta.k8s.io/v1)");
  *rev = json_integer_value(jrv);
  *start = xstrdup(s);
  return 0;
}

static void
list_push(struct list_result *out, size_t *cap, const char *json, size_t len, cache_obj *ref,
          char *owned)
{
  if (out->count == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    out->items = xrealloc(out->items, *cap * sizeof *out->items);
  }
  out->items[out->count++] = (struct list_item){json, len, ref, owned};
}

/* A later page: read from the store at the first page's revision. */
static int
list_from_store(struct registry *r, const char *prefix, struct selector_filter *f, int64_t rev,
                const char *start, long long limit, struct list_result *out, k8c_err *err)
{
  cleanup_free char *after = xasprintf("%s%s", prefix, start);
  cleanup_free char *last_returned = NULL;
  size_t cap = 0;
  bool full = false;
  while (!full) {
    storage_kv_list kvs = {0};
    int64_t list_rev = 0;
    int more = 0;
    k8c_err lerr = {0};
    if (r->store->ops->list(r->store, prefix, after, limit > 0 ? limit + 1 : 0, rev, &kvs,
                            &list_rev, &more, &lerr) < 0) {
      if (lerr.status == 410) {
        k8c_err_clear(&lerr);
        return k8c_error(err, 410, K8C_REASON_GONE,
                         "The provided continue parameter is too old to display a consistent list "
                         "result. You can start a new list without the continue parameter, or use "
                         "the continue parameter from the most recent list.");
      }
      k8c_err_move(err, &lerr);
      return -1;
    }
    for (size_t i = 0; i < kvs.count && !full; i++) {
      storage_kv *kv = &kvs.items[i];
      free(after);
      after = xstrdup(kv->key);
      json_t *obj = store_parse(kv->value, kv->value_len, err);
      if (obj == NULL) {
        storage_kv_list_free(&kvs);
        return -1;
      }
      store_set_rv(obj, kv->mod_revision);
      bool keep = true;
      if (f->labels || f->fields) {
        json_t *labels = NULL, *fields = NULL;
        index_object(r, kv->key, obj, &labels, &fields);
        keep = (!f->labels || label_selector_matches(f->labels, labels)) &&
               (!f->fields || field_selector_matches(f->fields, fields));
        json_decref(labels);
        json_decref(fields);
      }
      if (keep && limit > 0 && (long long)out->count >= limit) {
        full = true; /* one more match exists past this page */
      } else if (keep) {
        char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        list_push(out, &cap, text, strlen(text), NULL, text);
        free(last_returned);
        last_returned = xstrdup(kv->key);
      }
      json_decref(obj);
    }
    storage_kv_list_free(&kvs);
    if (!more)
      break;
  }
  out->revision = rev;
  if (full && last_returned)
    out->continue_token = continue_encode(rev, last_returned + strlen(prefix));
  return 0;
}

int
registry_list(struct registry *r, const struct registry_target *t, const struct list_opts *lo,
              struct list_result *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  out->remaining = -1;
  struct selector_filter f;
  if (filter_parse(t, lo, &f, err) < 0)
    return -1;
  cleanup_free char *prefix = registry_prefix(t->res, t->namespace_);
  int rc = 0;
  if (lo->continue_token && lo->continue_token[0]) {
    int64_t rev = 0;
    cleanup_free char *start = NULL;
    if (continue_decode(lo->continue_token, &rev, &start, err) < 0) {
      filter_free(&f);
      return -1;
    }
    rc = list_from_store(r, prefix, &f, rev, start, lo->limit, out, err);
    filter_free(&f);
    return rc;
  }
  if (lo->resource_version && lo->resource_version[0] && strcmp(lo->resource_version, "0") != 0) {
    char *end = NULL;
    long long want = strtoll(lo->resource_version, &end, 10);
    if (end == lo->resource_version || *end || want < 0) {
      filter_free(&f);
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "invalid resource version \"%s\"",
                       lo->resource_version);
    }
    if (watchcache_wait_revision(r->cache, want, 3000) < 0) {
      filter_free(&f);
      k8c_error(err, 504, K8C_REASON_TIMEOUT, "Too large resource version: %lld, current: %lld",
                want, (long long)watchcache_revision(r->cache));
      k8c_err_add_cause(err, "ResourceVersionTooLarge", NULL, "Too large resource version");
      return -1;
    }
  }
  cache_obj **objs = NULL;
  size_t count = 0;
  int64_t rev = 0;
  if (watchcache_list(r->cache, prefix, (f.labels || f.fields) ? filter_match : NULL, &f, &objs,
                      &count, &rev, err) < 0) {
    filter_free(&f);
    return -1;
  }
  filter_free(&f);
  size_t take = count;
  if (lo->limit > 0 && (size_t)lo->limit < count)
    take = (size_t)lo->limit;
  size_t cap = 0;
  for (size_t i = 0; i < count; i++) {
    if (i < take) {
      size_t len = 0;
      char *scratch = NULL; /* a cold object's text, inflated for this list only */
      const char *json = cache_obj_text_peek(objs[i], &len, &scratch);
      list_push(out, &cap, json, len, objs[i], scratch);
    } else {
      cache_obj_unref(objs[i]);
    }
  }
  free(objs);
  out->revision = rev;
  if (take < count) {
    const char *key = cache_obj_key(out->items[take - 1].ref);
    out->continue_token = continue_encode(rev, key + strlen(prefix));
    out->remaining = (long long)(count - take);
  }
  return 0;
}

/* ---------- watch ---------- */

struct registry_watcher {
  watcher *w;
  struct selector_filter filter;
};

registry_watcher *
registry_watch(struct registry *r, const struct registry_target *t, const struct list_opts *lo,
               k8c_err *err)
{
  registry_watcher *rw = xcalloc(1, sizeof *rw);
  if (filter_parse(t, lo, &rw->filter, err) < 0) {
    free(rw);
    return NULL;
  }
  cleanup_free char *prefix = registry_prefix(t->res, t->namespace_);
  int64_t from = 0;
  bool initial = false;
  const char *rv = lo->resource_version;
  if (rv == NULL || rv[0] == 0 || strcmp(rv, "0") == 0) {
    initial = true;
  } else {
    char *end = NULL;
    from = strtoll(rv, &end, 10);
    if (end == rv || *end || from < 0) {
      registry_watcher_close(rw);
      k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "invalid resource version \"%s\"", rv);
      return NULL;
    }
  }
  if (lo->send_initial_events)
    initial = true;
  bool filtered = rw->filter.labels || rw->filter.fields;
  rw->w = watchcache_watch(r->cache, prefix, from, initial, filtered ? filter_match : NULL,
                           &rw->filter, err);
  if (rw->w == NULL) {
    registry_watcher_close(rw);
    return NULL;
  }
  return rw;
}

int
registry_watcher_next(registry_watcher *rw, watch_event **ev, int timeout_ms)
{
  return watcher_next(rw->w, ev, timeout_ms);
}

void
registry_watcher_interrupt(registry_watcher *rw)
{
  watcher_interrupt(rw->w);
}

void
registry_watcher_close(registry_watcher *rw)
{
  if (rw == NULL)
    return;
  if (rw->w)
    watcher_close(rw->w);
  filter_free(&rw->filter);
  free(rw);
}
