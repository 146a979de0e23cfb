/* client_http_watch.c — watches over HTTPS: a streaming GET whose newline-delimited JSON
 * events become client_event values. No thread of its own: the reader's
 * client_watch_next drives a private curl multi handle until a whole line is buffered,
 * and the transfer is paused while a backlog of lines waits, so memory stays bounded by
 * what the reader has not yet taken. Cancelling wakes the multi from any thread. */
#include "client/client_http_internal.h"

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Above this many buffered bytes holding at least one whole event, the transfer pauses. */
#define WATCH_BACKLOG_BYTES (1u << 20)
/* A single event larger than this ends the watch (objects are at most ~3 MiB). */
#define WATCH_MAX_LINE_BYTES (64u << 20)
/* How long watch_start waits for the response's status line. */
#define WATCH_START_TIMEOUT_MS 30000

struct http_watch {
  struct client_watch base;
  const struct api_resource *res;
  CURLM *multi;
  CURL *easy;
  struct curl_slist *headers;
  char *url;
  buf data; /* received bytes; [consumed, len) not yet handed out */
  size_t consumed;
  bool headers_done;
  bool paused;
  bool finished;   /* the transfer ended (server closed, error) */
  CURLcode result; /* when finished */
  atomic_bool cancelled;
};

static const struct client_watch_ops http_watch_ops;

static int drive(struct http_watch *w, int timeout_ms);

/* ---------- start ---------- */

static size_t
on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
  struct http_watch *w = ctx;
  size_t n = size * nmemb;
  size_t pending = w->data.len - w->consumed;
  if (pending > WATCH_BACKLOG_BYTES && memchr(w->data.data + w->consumed, '\n', pending)) {
    w->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  if (pending > 0 && pending + n > WATCH_MAX_LINE_BYTES &&
      !memchr(w->data.data + w->consumed, '\n', pending))
    return 0; /* aborts the transfer */
  buf_append(&w->data, data, n);
  return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
  struct http_watch *w = ctx;
  size_t n = size * nmemb;
  if (n <= 2 && (data[0] == '\r' || data[0] == '\n')) {
    long code = 0;
    curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200)
      w->headers_done = true;
  }
  return n;
}

static void
watch_free(struct http_watch *w)
{
  if (w->multi && w->easy)
    curl_multi_remove_handle(w->multi, w->easy);
  if (w->easy)
    curl_easy_cleanup(w->easy);
  if (w->multi)
    curl_multi_cleanup(w->multi);
  curl_slist_free_all(w->headers);
  free(w->url);
  buf_free(&w->data);
  free(w);
}

client_watch *
http_watch_start(struct http_client *c, const struct api_resource *res, const char *ns,
                 const struct client_list_opts *o, k8c_err *err)
{
  buf q;
  buf_init(&q);
  http_query_add(&q, "watch", "1");
  http_query_list_opts(&q, o);
  if (o->allow_bookmarks)
    http_query_add(&q, "allowWatchBookmarks", "true");
  if (o->send_initial_events)
    http_query_add(&q, "sendInitialEvents", "true");
  struct http_watch *w = xcalloc(1, sizeof *w);
  w->base.ops = &http_watch_ops;
  w->res = res;
  w->url = http_url(c, res, ns, NULL, NULL, buf_cstr(&q));
  buf_free(&q);
  buf_init(&w->data);
  w->headers = http_headers(c, NULL);
  w->multi = curl_multi_init();
  w->easy = curl_easy_init();
  if (w->multi == NULL || w->easy == NULL)
    abort();
  http_handle_setup(c, w->easy);
  curl_easy_setopt(w->easy, CURLOPT_URL, w->url);
  curl_easy_setopt(w->easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
  curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
  curl_easy_setopt(w->easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(w->easy, CURLOPT_HEADERDATA, w);
  curl_multi_add_handle(w->multi, w->easy);

  long long deadline = clock_monotonic_ms() + WATCH_START_TIMEOUT_MS;
  while (!w->headers_done && !w->finished) {
    long long left = deadline - clock_monotonic_ms();
    if (left <= 0) {
      watch_free(w);
      k8c_error(err, 504, K8C_REASON_TIMEOUT, "watch %s: no answer within %d ms", res->plural,
                WATCH_START_TIMEOUT_MS);
      return NULL;
    }
    drive(w, (int)(left > 1000 ? 1000 : left));
  }
  long code = 0;
  curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &code);
  if (w->finished && w->result != CURLE_OK && !w->headers_done) {
    http_error_from_curl(w->result, "watch", NULL, err);
    watch_free(w);
    return NULL;
  }
  if (code < 200 || code > 299) {
    /* An error answer is short: read it whole, then report its Status. */
    while (!w->finished && clock_monotonic_ms() < deadline)
      drive(w, 1000);
    http_error_from_response(code, w->data.data, w->data.len, res, err);
    watch_free(w);
    return NULL;
  }
  return &w->base;
}

/* ---------- events ---------- */

static bool
event_type_from(const char *s, size_t n, enum client_event_type *out)
{
  static const struct {
    const char *name;
    enum client_event_type type;
  } types[] = {{"ADDED", CLIENT_EVENT_ADDED},
               {"MODIFIED", CLIENT_EVENT_MODIFIED},
               {"DELETED", CLIENT_EVENT_DELETED},
               {"BOOKMARK", CLIENT_EVENT_BOOKMARK},
               {"ERROR", CLIENT_EVENT_ERROR}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strlen(types[i].name) == n && memcmp(types[i].name, s, n) == 0) {
      *out = types[i].type;
      return true;
    }
  return false;
}

/* The fast path for what API servers send: {"type":"T","object":{...}} — the object's
 * text is the line minus the wrapper, so it is copied, not parsed. */
static bool
split_event_text(const char *line, size_t len, enum client_event_type *type, const char **obj,
                 size_t *obj_len)
{
  static const char head[] = "{\"type\":\"";
  static const char mid[] = "\",\"object\":";
  if (len < sizeof head + sizeof mid || memcmp(line, head, sizeof head - 1) != 0)
    return false;
  const char *t = line + sizeof head - 1;
  const char *q = memchr(t, '"', len - (size_t)(t - line));
  if (q == NULL || !event_type_from(t, (size_t)(q - t), type))
    return false;
  if ((size_t)(line + len - q) < sizeof mid || memcmp(q, mid, sizeof mid - 1) != 0)
    return false;
  const char *o = q + sizeof mid - 1;
  const char *end = line + len - 1;
  if (*end != '}' || end <= o)
    return false;
  *obj = o;
  *obj_len = (size_t)(end - o);
  return true;
}

/* Any other spelling: parse the line and re-encode its object. */
static bool
parse_event_json(const char *line, size_t len, enum client_event_type *type, char **obj_text)
{
  json_error_t jerr;
  cleanup_json json_t *ev = json_loadb(line, len, 0, &jerr);
  const char *t = json_string_value(json_object_get(ev, "type"));
  json_t *obj = json_object_get(ev, "object");
  if (t == NULL || obj == NULL || !event_type_from(t, strlen(t), type))
    return false;
  *obj_text = json_dumps(obj, JSON_COMPACT);
  return *obj_text != NULL;
}

/* Takes the next whole line from the buffer into ev: 1, 0 when there is none yet, -1
 * when it is not an event. */
static int
take_event(struct http_watch *w, struct client_event *ev)
{
  for (;;) {
    char *start = w->data.data + w->consumed;
    size_t pending = w->data.len - w->consumed;
    char *nl = pending ? memchr(start, '\n', pending) : NULL;
    if (nl == NULL)
      return 0;
    size_t len = (size_t)(nl - start);
    w->consumed += len + 1;
    while (len && (start[len - 1] == '\r' || start[len - 1] == ' '))
      len--;
    if (len == 0)
      continue; /* keep-alive blank line */
    enum client_event_type type;
    const char *obj = NULL;
    size_t obj_len = 0;
    char *text = NULL;
    if (split_event_text(start, len, &type, &obj, &obj_len)) {
      text = xstrndup(obj, obj_len);
    } else if (parse_event_json(start, len, &type, &text)) {
      obj_len = strlen(text);
    } else {
      log_warn("client_http: watch %s: not a watch event: %.80s", w->res->plural, start);
      return -1;
    }
    client_event_clear(ev);
    ev->type = type;
    ev->raw = text;
    ev->raw_len = obj_len;
    ev->hold = text;
    ev->release = free;
    return 1;
  }
}

static void
compact(struct http_watch *w)
{
  if (w->consumed == 0)
    return;
  if (w->consumed >= w->data.len) {
    buf_reset(&w->data);
    w->consumed = 0;
  } else if (w->consumed > w->data.len / 2) {
    size_t rest = w->data.len - w->consumed;
    memmove(w->data.data, w->data.data + w->consumed, rest);
    w->data.len = rest;
    w->data.data[rest] = '\0';
    w->consumed = 0;
  }
}

/* ---------- the transfer ---------- */

/* Waits up to timeout_ms for socket activity, then lets curl move data. */
static int
drive(struct http_watch *w, int timeout_ms)
{
  if (w->finished)
    return -1;
  if (w->paused) {
    w->paused = false;
    curl_easy_pause(w->easy, CURLPAUSE_CONT);
  }
  int running = 0;
  if (curl_multi_perform(w->multi, &running) == CURLM_OK && running) {
    int ready = 0;
    curl_multi_poll(w->multi, NULL, 0, timeout_ms, &ready);
    curl_multi_perform(w->multi, &running);
  }
  int left = 0;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(w->multi, &left)) != NULL)
    if (msg->msg == CURLMSG_DONE) {
      w->finished = true;
      w->result = msg->data.result;
    }
  return 0;
}

static int
http_watch_next(client_watch *cw, struct client_event *ev, int timeout_ms)
{
  struct http_watch *w = (struct http_watch *)cw;
  long long deadline = timeout_ms < 0 ? -1 : clock_monotonic_ms() + timeout_ms;
  for (;;) {
    if (atomic_load(&w->cancelled))
      return -1;
    int rc = take_event(w, ev);
    compact(w);
    if (rc != 0)
      return rc;
    if (w->finished) {
      if (w->result != CURLE_OK && w->result != CURLE_WRITE_ERROR)
        log_debug("client_http: watch %s ended: %s", w->res->plural, curl_easy_strerror(w->result));
      return -1;
    }
    long long left = deadline < 0 ? 1000 : deadline - clock_monotonic_ms();
    if (left <= 0 && timeout_ms >= 0) {
      /* Poll once more without waiting so that timeout 0 still picks up data. */
      drive(w, 0);
      rc = take_event(w, ev);
      compact(w);
      return rc;
    }
    drive(w, (int)(left > 1000 ? 1000 : left));
  }
}

static void
http_watch_cancel(client_watch *cw)
{
  struct http_watch *w = (struct http_watch *)cw;
  atomic_store(&w->cancelled, true);
  curl_multi_wakeup(w->multi);
}

static void
http_watch_close(client_watch *cw)
{
  watch_free((struct http_watch *)cw);
}

/* ---------- helpers ---------- */

/* ---------- tables ---------- */

static const struct client_watch_ops http_watch_ops = {
    .next = http_watch_next,
    .cancel = http_watch_cancel,
    .close = http_watch_close,
};
