/* watch.c — streams watch events over a chunked HTTP response, one JSON event per line
 * ({"type":"ADDED","object":{...}}), as kubectl and client-go expect. The connection's
 * thread blocks in the content callback waiting for the next event; it sends bookmarks
 * when the client allows them, ends at timeoutSeconds, and notices a vanished client
 * by polling its socket between events. */
#include "apiserver/server_internal.h"

#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/convert.h"

#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BOOKMARK_INTERVAL_SECONDS 60

struct watch_stream {
  struct apiserver *server;
  struct MHD_Connection *conn;
  registry_watcher *rw;
  const struct api_resource *res;
  struct negotiated n;
  bool bookmarks;
  bool initial_end_pending; /* sendInitialEvents: a bookmark marks the end of the initial state */
  bool sent_table_columns;
  time_t deadline;
  time_t next_bookmark;
  int64_t last_rev;
  buf pending;
  size_t pending_off;
};

static int64_t
now_seconds(void)
{
  return (int64_t)time(NULL);
}

static void
append_event(struct watch_stream *ws, const char *type, const char *stored, size_t stored_len)
{
  size_t len = stored_len;
  const char *json = stored;
  char *served = NULL;
  if (convert_needed(ws->res)) {
    served = convert_text_from_storage(ws->res, stored, stored_len, &len);
    if (served)
      json = served;
    else
      len = stored_len;
  }
  buf_printf(&ws->pending, "{\"type\":\"%s\",\"object\":", type);
  if (ws->n.type == MEDIA_TABLE) {
    json_error_t jerr;
    json_t *obj = json_loadb(json, len, 0, &jerr);
    if (obj) {
      json_t *table = table_build(ws->res, &obj, 1, &ws->n, !ws->sent_table_columns);
      ws->sent_table_columns = true;
      json_object_set(json_object_get(table, "metadata"), "resourceVersion",
                      json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
      char *text = json_dumps(table, JSON_COMPACT | JSON_PRESERVE_ORDER);
      buf_puts(&ws->pending, text);
      free(text);
      json_decref(table);
      json_decref(obj);
    } else {
      buf_append(&ws->pending, json, len);
    }
  } else {
    buf_append(&ws->pending, json, len);
  }
  buf_puts(&ws->pending, "}\n");
  free(served);
}

static void
append_bookmark(struct watch_stream *ws, bool initial_end)
{
  char rv[32];
  snprintf(rv, sizeof rv, "%lld", (long long)ws->last_rev);
  const char *api_version = NULL;
  char gv[160];
  if (ws->res->group[0])
    snprintf(gv, sizeof gv, "%s/%s", ws->res->group, ws->res->version);
  else
    snprintf(gv, sizeof gv, "%s", ws->res->version);
  api_version = gv;
  json_t *obj = json_pack("{s:s,s:s,s:{s:s}}", "kind", ws->res->kind, "apiVersion", api_version,
                          "metadata", "resourceVersion", rv);
  if (initial_end)
    json_object_set_new(json_object_get(obj, "metadata"), "annotations",
                        json_pack("{s:s}", "k8s.io/initial-events-end", "true"));
  char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
  buf_printf(&ws->pending, "{\"type\":\"BOOKMARK\",\"object\":%s}\n", text);
  free(text);
  json_decref(obj);
}

static bool
client_gone(struct watch_stream *ws)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(ws->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == NULL)
    return true;
  struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
  if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
    return true;
  return false;
}

/* Fills ws->pending with at least one line, or returns false at the end of the watch. */
static bool
wait_for_output(struct watch_stream *ws)
{
  for (;;) {
    if (atomic_load(&ws->server->stopping))
      return false;
    int64_t now = now_seconds();
    if (now >= ws->deadline)
      return false;
    watch_event *ev = NULL;
    int rc = registry_watcher_next(ws->rw, &ev, 1000);
    if (rc < 0)
      return false;
    if (rc == 1) {
      size_t len = 0;
      char *scratch = NULL; /* copied out at once: a cold object is not re-warmed */
      const char *json = cache_obj_text_peek(ev->obj, &len, &scratch);
      if (ev->rev > ws->last_rev)
        ws->last_rev = ev->rev;
      append_event(ws, watch_event_type_name(ev->type), json, len);
      free(scratch);
      watch_event_unref(ev);
      /* Drain what is already queued without blocking, to batch writes. */
      while (ws->pending.len < 256 * 1024 && registry_watcher_next(ws->rw, &ev, 0) == 1) {
        json = cache_obj_text_peek(ev->obj, &len, &scratch);
        if (ev->rev > ws->last_rev)
          ws->last_rev = ev->rev;
        append_event(ws, watch_event_type_name(ev->type), json, len);
        free(scratch);
        watch_event_unref(ev);
      }
      return true;
    }
    if (ws->initial_end_pending) {
      ws->initial_end_pending = false;
      append_bookmark(ws, true);
      return true;
    }
    if (ws->bookmarks && now >= ws->next_bookmark && ws->last_rev > 0) {
      ws->next_bookmark = now + BOOKMARK_INTERVAL_SECONDS;
      append_bookmark(ws, false);
      return true;
    }
    if (client_gone(ws))
      return false;
  }
}

static ssize_t
watch_reader(void *cls, uint64_t pos, char *out, size_t max)
{
  struct watch_stream *ws = cls;
  if (ws->pending_off >= ws->pending.len) {
    buf_reset(&ws->pending);
    ws->pending_off = 0;
    if (!wait_for_output(ws))
      return MHD_CONTENT_READER_END_OF_STREAM;
  }
  size_t n = ws->pending.len - ws->pending_off;
  if (n > max)
    n = max;
  memcpy(out, ws->pending.data + ws->pending_off, n);
  ws->pending_off += n;
  return (ssize_t)n;
}

static void
watch_free(void *cls)
{
  struct watch_stream *ws = cls;
  registry_watcher_close(ws->rw);
  buf_free(&ws->pending);
  free(ws);
}

void read_list_opts(struct api_request *r, struct list_opts *lo);

int
handle_watch(struct apiserver *s, struct api_request *r)
{
  k8c_err err = {0};
  struct negotiated n;
  if (response_negotiate(r, true, &n, &err) < 0) {
    int ret = response_error(r, &err);
    k8c_err_clear(&err);
    return ret;
  }
  struct list_opts lo;
  read_list_opts(r, &lo);
  const struct request_info *ri = &r->info;
  /* A watch on a named object is a watch on the collection narrowed to that name. */
  cleanup_free char *name_selector = NULL;
  if (ri->name[0]) {
    name_selector = lo.field_selector && lo.field_selector[0]
                        ? xasprintf("%s,metadata.name=%s", lo.field_selector, ri->name)
                        : xasprintf("metadata.name=%s", ri->name);
    lo.field_selector = name_selector;
  }
  struct registry_target t = {ri->res, ri->namespace_, "", ""};
  registry_watcher *rw = registry_watch(s->cfg.reg, &t, &lo, &err);
  if (rw == NULL) {
    int ret = response_error(r, &err);
    k8c_err_clear(&err);
    return ret;
  }
  struct watch_stream *ws = xcalloc(1, sizeof *ws);
  ws->server = s;
  ws->conn = r->conn;
  ws->rw = rw;
  ws->res = ri->res;
  ws->n = n;
  ws->bookmarks = lo.allow_bookmarks;
  ws->initial_end_pending = lo.send_initial_events && lo.allow_bookmarks;
  buf_init(&ws->pending);
  const char *timeout = request_query(r, "timeoutSeconds");
  int64_t secs = timeout ? atoll(timeout) : 0;
  if (secs <= 0)
    secs = 1800 + (now_seconds() % 1800); /* upstream: between 30 and 60 minutes */
  ws->deadline = now_seconds() + secs;
  ws->next_bookmark = now_seconds() + BOOKMARK_INTERVAL_SECONDS;
  ws->last_rev = watchcache_revision(s->cfg.reg->cache);

  struct MHD_Response *resp =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, watch_reader, ws, watch_free);
  if (resp == NULL) {
    watch_free(ws);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
  enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
  MHD_destroy_response(resp);
  return ret;
}
