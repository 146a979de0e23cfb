/* response.c — content negotiation and the bytes of every answer. Objects and lists
 * from the cache are sent as the cached JSON without re-encoding; only Tables and
 * YAML parse them. */
#include "apiserver/response.h"

#include "apimachinery/json_encode.h"
#include "apimachinery/yaml.h"
#include "apiserver/tls_coalesce.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

int
response_negotiate(const struct api_request *r, bool table_ok, struct negotiated *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  out->include_object = "Metadata";
  const char *inc = request_query(r, "includeObject");
  if (inc &&
      (strcmp(inc, "None") == 0 || strcmp(inc, "Object") == 0 || strcmp(inc, "Metadata") == 0))
    out->include_object = inc;
  const char *accept = request_header(r, "Accept");
  if (accept == NULL || accept[0] == 0)
    return 0;
  /* Walk the comma-separated list in order; the first acceptable entry wins. */
  const char *p = accept;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char entry[512];
    if (n >= sizeof entry)
      n = sizeof entry - 1;
    memcpy(entry, p, n);
    entry[n] = 0;
    char *e = entry;
    while (*e == ' ')
      e++;
    if (strncmp(e, "application/json", 16) == 0) {
      if (strstr(e, "as=Table")) {
        if (table_ok && strstr(e, "g=meta.k8s.io")) {
          out->type = MEDIA_TABLE;
          out->table_v1beta1 = strstr(e, "v=v1beta1") != NULL;
          return 0;
        }
      } else if (strstr(e, "as=") == NULL) {
        out->type = MEDIA_JSON;
        return 0;
      }
    } else if (strncmp(e, "application/yaml", 16) == 0) {
      out->type = MEDIA_YAML;
      return 0;
    } else if (strncmp(e, "*/*", 3) == 0 || strncmp(e, "application/*", 13) == 0) {
      out->type = MEDIA_JSON;
      return 0;
    }
    if (!end)
      break;
    p = end + 1;
  }
  return k8c_error(err, 406, K8C_REASON_NOT_ACCEPTABLE,
                   "only the following media types are accepted: application/json, "
                   "application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io");
}

/* Queues resp (and drops the caller's handle on it), one TLS record when small. */
static int
queue_response(struct api_request *r, int status, struct MHD_Response *resp, size_t body_len)
{
  bool corked = tls_coalesce_begin(r, body_len);
  enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)status, resp);
  MHD_destroy_response(resp);
  if (ret != MHD_YES && corked)
    tls_coalesce_end(r);
  return ret;
}

int
response_send(struct api_request *r, int status, const char *content_type, char *body, size_t len,
              const json_t *warnings)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", content_type);
  MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
  size_t i;
  json_t *w;
  json_array_foreach ((json_t *)warnings, i, w) {
    char *hdr = xasprintf("299 - \"%s\"", json_string_value(w));
    for (char *c = hdr; *c; c++)
      if (*c == '\n' || *c == '\r')
        *c = ' ';
    MHD_add_response_header(resp, "Warning", hdr);
    free(hdr);
  }
  return queue_response(r, status, resp, len);
}

static void
release_cached(void *co)
{
  cache_obj_unref(co);
}

int
response_cached_json(struct api_request *r, cache_obj *co)
{
  size_t len = 0;
  const char *json = cache_obj_text(co, &len);
  cache_obj_ref(co);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)json, release_cached, co);
  if (resp == NULL) {
    cache_obj_unref(co);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
  return queue_response(r, 200, resp, len);
}

static char *
encode(const json_t *obj, enum media_type type, size_t *len, const char **ctype)
{
  if (type == MEDIA_YAML) {
    *ctype = "application/yaml";
    return json_to_yaml(obj, len);
  }
  *ctype = "application/json";
  char *text = json_encode_compact(obj, len);
  if (text == NULL)
    abort();
  return text;
}

int
response_json(struct api_request *r, int status, const json_t *obj, const struct negotiated *n,
              const json_t *warnings)
{
  size_t len = 0;
  const char *ctype = NULL;
  char *body = encode(obj, n ? n->type : MEDIA_JSON, &len, &ctype);
  return response_send(r, status, ctype, body, len, warnings);
}

int
response_error(struct api_request *r, const k8c_err *err)
{
  int code = err->status ? err->status : 500;
  json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1",
                         "metadata", "status", "Failure", "message", err->message, "reason",
                         err->reason[0] ? err->reason : K8C_REASON_INTERNAL, "code", code);
  json_t *details = json_object();
  const struct request_info *ri = &r->info;
  if (err->subject_kind[0] || err->subject_name[0]) {
    json_object_set_new(details, "name", json_string(err->subject_name));
    if (ri->is_resource && ri->group[0])
      json_object_set_new(details, "group", json_string(ri->group));
    json_object_set_new(details, "kind", json_string(err->subject_kind));
  } else {
    if (ri->is_resource && ri->name[0])
      json_object_set_new(details, "name", json_string(ri->name));
    if (ri->is_resource && ri->group[0])
      json_object_set_new(details, "group", json_string(ri->group));
    if (ri->is_resource && ri->resource[0])
      json_object_set_new(details, "kind", json_string(ri->resource));
  }
  if (err->causes)
    json_object_set(details, "causes", err->causes);
  if (err->retry_after)
    json_object_set_new(details, "retryAfterSeconds", json_integer(err->retry_after));
  if (json_object_size(details))
    json_object_set(st, "details", details);
  json_decref(details);
  if (strcmp(err->reason, K8C_REASON_BAD_REQUEST) == 0 ||
      strcmp(err->reason, K8C_REASON_INTERNAL) == 0)
    json_object_del(st, "reason");
  if (code == 400 && strcmp(err->reason, K8C_REASON_BAD_REQUEST) == 0)
    json_object_set_new(st, "reason", json_string("BadRequest"));
  size_t len = 0;
  char *body = json_encode_compact(st, &len);
  json_decref(st);
  if (body == NULL)
    abort(); /* a Status of valid strings always encodes */
  return response_send(r, code, "application/json", body, len, NULL);
}

int
response_status_success(struct api_request *r, int status, const json_t *details)
{
  json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                         "status", "Success", "code", status);
  if (details)
    json_object_set(st, "details", (json_t *)details);
  int ret = response_json(r, status, st, NULL, NULL);
  json_decref(st);
  return ret;
}

/* ---------- tables ---------- */

static const struct table_column default_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when this object was created.",
     0},
    {NULL, NULL, NULL, NULL, 0},
};

static void
default_cells(const json_t *obj, json_t *cells)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_array_append_new(cells, json_string(json_string_value(json_object_get(meta, "name"))));
  const char *ts = json_string_value(json_object_get(meta, "creationTimestamp"));
  struct tm tm = {0};
  char age[32] = "<unknown>";
  if (ts && strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
    long secs = (long)(time(NULL) - timegm(&tm));
    if (secs < 0)
      secs = 0;
    if (secs < 120)
      snprintf(age, sizeof age, "%lds", secs);
    else if (secs < 3600 * 3)
      snprintf(age, sizeof age, "%ldm", secs / 60);
    else if (secs < 86400 * 2)
      snprintf(age, sizeof age, "%ldh", secs / 3600);
    else
      snprintf(age, sizeof age, "%ldd", secs / 86400);
  }
  json_array_append_new(cells, json_string(age));
}

json_t *
table_build(const struct api_resource *res, json_t *const *objs, size_t count,
            const struct negotiated *n, bool with_columns)
{
  const struct resource_strategy *st = strategy_for(res->group, res->plural);
  const struct table_column *cols = st->columns && st->table_cells ? st->columns : default_columns;
  void (*cells_fn)(const json_t *, json_t *) =
      st->columns && st->table_cells ? st->table_cells : default_cells;
  json_t *table =
      json_pack("{s:s,s:s,s:{}}", "kind", "Table", "apiVersion",
                n->table_v1beta1 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1", "metadata");
  json_t *defs = json_array();
  if (with_columns) {
    for (int i = 0; cols[i].name; i++)
      json_array_append_new(defs, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", cols[i].name, "type",
                                            cols[i].type, "format", cols[i].format, "description",
                                            cols[i].description ? cols[i].description : "",
                                            "priority", cols[i].priority));
  }
  json_object_set_new(table, "columnDefinitions", defs);
  json_t *rows = json_array();
  for (size_t i = 0; i < count; i++) {
    json_t *cells = json_array();
    cells_fn(objs[i], cells);
    json_t *row = json_pack("{s:o}", "cells", cells);
    if (strcmp(n->include_object, "Object") == 0) {
      json_object_set(row, "object", objs[i]);
    } else if (strcmp(n->include_object, "Metadata") == 0) {
      json_t *pom = json_pack("{s:s,s:s,s:O}", "kind", "PartialObjectMetadata", "apiVersion",
                              n->table_v1beta1 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1",
                              "metadata", json_object_get(objs[i], "metadata"));
      json_object_set_new(row, "object", pom);
    }
    json_array_append_new(rows, row);
  }
  json_object_set_new(table, "rows", rows);
  return table;
}

int
response_object(struct api_request *r, int status, const char *json, size_t len,
                const struct negotiated *n, const json_t *warnings)
{
  if (n->type == MEDIA_JSON)
    return response_send(r, status, "application/json", xstrndup(json, len), len, warnings);
  json_error_t jerr;
  json_t *obj = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
  if (obj == NULL) {
    k8c_err err = {0};
    k8c_error(&err, 500, K8C_REASON_INTERNAL, "encoding response: %s", jerr.text);
    return response_error(r, &err);
  }
  int ret;
  if (n->type == MEDIA_TABLE && r->info.res) {
    json_t *table = table_build(r->info.res, &obj, 1, n, true);
    json_object_set(json_object_get(table, "metadata"), "resourceVersion",
                    json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    ret = response_json(r, status, table, NULL, warnings);
    json_decref(table);
  } else {
    ret = response_json(r, status, obj, n, warnings);
  }
  json_decref(obj);
  return ret;
}

/* A JSON list written straight into libmicrohttpd's send buffer: the head, each cached
 * item's bytes with a comma between, and the tail. A multi-MiB list then needs no body
 * buffer of its own: no fresh pages to fault in and no second copy of every byte. */
struct list_stream {
  struct list_result list; /* owned: its cache references keep the item bytes alive */
  buf head;                /* {"kind":...,"items":[ */
  size_t segment;          /* 0 head, 2i+1 item i, 2i+2 the comma after it (or the tail) */
  size_t offset;           /* bytes of the current segment already written */
  uint64_t position;       /* body bytes written so far */
};

#define LIST_STREAM_BLOCK (64u * 1024u)

/* The bytes of segment k; false past the end. */
static bool
list_stream_segment(const struct list_stream *ls, size_t k, const char **data, size_t *len)
{
  size_t count = ls->list.count;
  if (k == 0) {
    *data = ls->head.data;
    *len = ls->head.len;
  } else if (k <= 2 * count && k % 2 == 1) {
    *data = ls->list.items[k / 2].json;
    *len = ls->list.items[k / 2].len;
  } else if (k < 2 * count) {
    *data = ",";
    *len = 1;
  } else if (k == 2 * count || (count == 0 && k == 1)) {
    *data = "]}";
    *len = 2;
  } else {
    return false;
  }
  return true;
}

static ssize_t
list_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
  struct list_stream *ls = cls;
  if (pos != ls->position)
    return MHD_CONTENT_READER_END_WITH_ERROR; /* written strictly in order, never re-read */
  size_t written = 0;
  const char *data;
  size_t len;
  while (written < max && list_stream_segment(ls, ls->segment, &data, &len)) {
    size_t take = len - ls->offset;
    if (take > max - written)
      take = max - written;
    memcpy(out + written, data + ls->offset, take);
    written += take;
    ls->offset += take;
    if (ls->offset == len) {
      ls->segment++;
      ls->offset = 0;
    }
  }
  if (written == 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  ls->position += written;
  return (ssize_t)written;
}

static void
list_stream_free(void *cls)
{
  struct list_stream *ls = cls;
  list_result_free(&ls->list);
  buf_free(&ls->head);
  free(ls);
}

static int
response_list_json(struct api_request *r, struct list_result *l, const char *rv)
{
  const struct api_resource *res = r->info.res;
  struct list_stream *ls = xcalloc(1, sizeof *ls);
  ls->list = *l;
  memset(l, 0, sizeof *l);
  buf_init(&ls->head);
  buf_printf(&ls->head,
             "{\"kind\":\"%s\",\"apiVersion\":\"%s%s%s\",\"metadata\":{\"resourceVersion\":\"%s\"",
             res->list_kind, res->group, res->group[0] ? "/" : "", res->version, rv);
  if (ls->list.continue_token) {
    buf_printf(&ls->head, ",\"continue\":\"%s\"", ls->list.continue_token);
    if (ls->list.remaining >= 0)
      buf_printf(&ls->head, ",\"remainingItemCount\":%lld", ls->list.remaining);
  }
  buf_puts(&ls->head, "},\"items\":[");
  uint64_t total = ls->head.len + 2; /* head and "]}" */
  for (size_t i = 0; i < ls->list.count; i++)
    total += ls->list.items[i].len + (i ? 1 : 0);
  struct MHD_Response *resp = MHD_create_response_from_callback(
      total, LIST_STREAM_BLOCK, list_stream_read, ls, list_stream_free);
  if (resp == NULL) {
    list_stream_free(ls);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
  return queue_response(r, 200, resp, (size_t)total);
}

int
response_list(struct api_request *r, struct list_result *l, const struct negotiated *n)
{
  const struct api_resource *res = r->info.res;
  char rv[32];
  snprintf(rv, sizeof rv, "%lld", (long long)l->revision);
  if (n->type == MEDIA_JSON)
    return response_list_json(r, l, rv);
  json_t **objs = xcalloc(l->count ? l->count : 1, sizeof *objs);
  for (size_t i = 0; i < l->count; i++) {
    json_error_t jerr;
    objs[i] = json_loadb(l->items[i].json, l->items[i].len, 0, &jerr);
    if (objs[i] == NULL)
      objs[i] = json_object();
  }
  json_t *out;
  if (n->type == MEDIA_TABLE) {
    out = table_build(res, objs, l->count, n, true);
  } else {
    json_t *items = json_array();
    for (size_t i = 0; i < l->count; i++)
      json_array_append(items, objs[i]);
    cleanup_free char *api_version =
        res->group[0] ? xasprintf("%s/%s", res->group, res->version) : xstrdup(res->version);
    out = json_pack("{s:s,s:s,s:{},s:o}", "kind", res->list_kind, "apiVersion", api_version,
                    "metadata", "items", items);
  }
  json_t *meta = json_object_get(out, "metadata");
  json_object_set_new(meta, "resourceVersion", json_string(rv));
  if (l->continue_token) {
    json_object_set_new(meta, "continue", json_string(l->continue_token));
    if (l->remaining >= 0)
      json_object_set_new(meta, "remainingItemCount", json_integer(l->remaining));
  }
  for (size_t i = 0; i < l->count; i++)
    json_decref(objs[i]);
  free(objs);
  int ret = response_json(r, 200, out, n, NULL);
  json_decref(out);
  return ret;
}
