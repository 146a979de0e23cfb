/* watch_fanout.c — watch streams multiplexed with libcurl's socket API over epoll.
 *
 * A few threads each drive one curl multi handle holding hundreds of streams, so a
 * thousand watchers cost a thousand sockets, not a thousand threads, and idle streams
 * cost nothing. Stream data is split into lines (one watch event per line) and each
 * line is searched for a tracked pod name; nothing is JSON-parsed on this path. */
#include "watch_fanout.h"

#include "http_client.h"
#include "stats.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct watch_group watch_group;

typedef struct watcher {
  CURL *easy;    /* owned */
  buf pending;   /* bytes after the last newline seen */
  uint8_t *seen; /* owned; [events + 1] tracked indexes this stream counted */
  fanout_tracker *tracker;
  watch_group *group;
  int attached; /* still in the multi handle */
} watcher;

struct watch_group {
  watch_fleet *fleet;
  pthread_t thread;
  int thread_started;
  CURLM *multi;              /* owned */
  int epoll_fd;              /* owned */
  int64_t timer_deadline_us; /* monotonic; -1 when curl wants no timeout */
  watcher *watchers;         /* owned array */
  int count;
};

struct watch_fleet {
  const bench_target *target;
  char *url;                  /* owned */
  struct curl_slist *headers; /* owned; shared read-only by every stream */
  fanout_tracker *tracker;
  _Atomic int stop;
  _Atomic int ended;
  watch_group *groups; /* owned array */
  int group_count;
};

static int watch_group_init(watch_group *group, watch_fleet *fleet, int count, k8c_err *err);
static void *watch_group_main(void *arg);
static void watch_group_drain_done(watch_group *group);
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp);
static int on_timer(CURLM *multi, long timeout_ms, void *userp);
static size_t on_stream_data(char *data, size_t size, size_t nmemb, void *userp);
static void watcher_take_line(watcher *w, const char *line, size_t len);

/* ---- tracker ---------------------------------------------------------------- */

void
fanout_tracker_init(fanout_tracker *tracker, const char *name_prefix, int events, int expected)
{
  tracker->name_prefix = xasprintf("%s-", name_prefix);
  tracker->name_prefix_len = strlen(tracker->name_prefix);
  tracker->events = events;
  atomic_init(&tracker->expected, expected);
  tracker->received = xcalloc((size_t)events + 1, sizeof(*tracker->received));
  tracker->complete_us = xcalloc((size_t)events + 1, sizeof(*tracker->complete_us));
  for (int i = 0; i <= events; i++) {
    atomic_init(&tracker->received[i], 0);
    atomic_init(&tracker->complete_us[i], 0);
  }
}

void
fanout_tracker_free(fanout_tracker *tracker)
{
  free(tracker->name_prefix);
  free(tracker->received);
  free(tracker->complete_us);
  memset(tracker, 0, sizeof(*tracker));
}

/* ---- fleet -------------------------------------------------------------------- */

watch_fleet *
watch_fleet_start(const bench_target *target, const char *path, int watchers, int threads,
                  fanout_tracker *tracker, k8c_err *err)
{
  if (threads < 1)
    threads = 1;
  if (threads > watchers)
    threads = watchers;
  watch_fleet *fleet = xcalloc(1, sizeof(*fleet));
  fleet->target = target;
  fleet->url = xasprintf("%s%s", target->server, path);
  fleet->headers = curl_slist_append(NULL, "Accept: application/json");
  fleet->headers = curl_slist_append(fleet->headers, "User-Agent: k8c-loadgen");
  fleet->tracker = tracker;
  atomic_init(&fleet->stop, 0);
  atomic_init(&fleet->ended, 0);
  fleet->groups = xcalloc((size_t)threads, sizeof(*fleet->groups));
  fleet->group_count = threads;
  for (int g = 0; g < threads; g++) {
    fleet->groups[g].epoll_fd = -1;
    int share = watchers / threads + (g < watchers % threads ? 1 : 0);
    if (watch_group_init(&fleet->groups[g], fleet, share, err) < 0) {
      watch_fleet_stop(fleet);
      return NULL;
    }
  }
  for (int g = 0; g < threads; g++) {
    if (pthread_create(&fleet->groups[g].thread, NULL, watch_group_main, &fleet->groups[g]) != 0) {
      watch_fleet_stop(fleet);
      k8c_error(err, 500, K8C_REASON_INTERNAL, "starting watch thread %d failed", g);
      return NULL;
    }
    fleet->groups[g].thread_started = 1;
  }
  return fleet;
}

int
watch_fleet_ended(watch_fleet *fleet)
{
  return atomic_load(&fleet->ended);
}

void
watch_fleet_stop(watch_fleet *fleet)
{
  atomic_store(&fleet->stop, 1);
  for (int g = 0; g < fleet->group_count; g++) {
    watch_group *group = &fleet->groups[g];
    if (group->thread_started && pthread_join(group->thread, NULL) != 0)
      fprintf(stderr, "k8c-loadgen: joining watch thread %d failed\n", g);
    for (int i = 0; i < group->count; i++) {
      watcher *w = &group->watchers[i];
      if (w->easy == NULL)
        continue;
      if (w->attached && curl_multi_remove_handle(group->multi, w->easy) != CURLM_OK)
        fprintf(stderr, "k8c-loadgen: curl_multi_remove_handle failed\n");
      curl_easy_cleanup(w->easy);
      buf_free(&w->pending);
      free(w->seen);
    }
    free(group->watchers);
    if (group->multi)
      curl_multi_cleanup(group->multi);
    if (group->epoll_fd >= 0)
      close(group->epoll_fd);
  }
  free(fleet->groups);
  curl_slist_free_all(fleet->headers);
  free(fleet->url);
  free(fleet);
}

/* ---- one thread's streams ------------------------------------------------------ */

static int
watch_group_init(watch_group *group, watch_fleet *fleet, int count, k8c_err *err)
{
  group->fleet = fleet;
  group->timer_deadline_us = -1;
  group->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (group->epoll_fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "epoll_create1: %s", strerror(errno));
  group->multi = curl_multi_init();
  if (group->multi == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_multi_init failed");
  curl_multi_setopt(group->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(group->multi, CURLMOPT_SOCKETDATA, group);
  curl_multi_setopt(group->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(group->multi, CURLMOPT_TIMERDATA, group);
  group->watchers = xcalloc((size_t)count, sizeof(*group->watchers));
  group->count = count;
  for (int i = 0; i < count; i++) {
    watcher *w = &group->watchers[i];
    w->tracker = fleet->tracker;
    w->group = group;
    buf_init(&w->pending);
    w->seen = xcalloc((size_t)fleet->tracker->events + 1, 1);
    w->easy = curl_easy_init();
    if (w->easy == NULL)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_easy_init failed");
    http_easy_apply_tls(w->easy, fleet->target);
    curl_easy_setopt(w->easy, CURLOPT_URL, fleet->url);
    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, fleet->headers);
    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_stream_data);
    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
    curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT, 60L);
    if (curl_multi_add_handle(group->multi, w->easy) != CURLM_OK)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "curl_multi_add_handle failed");
    w->attached = 1;
  }
  return 0;
}

static void *
watch_group_main(void *arg)
{
  watch_group *group = arg;
  struct epoll_event events[256];
  int running = 0;
  while (!atomic_load(&group->fleet->stop)) {
    int wait_ms = 50;
    if (group->timer_deadline_us >= 0) {
      int64_t left_ms = (group->timer_deadline_us - clock_now_us() + 999) / 1000;
      wait_ms = left_ms < 0 ? 0 : left_ms < 50 ? (int)left_ms : 50;
    }
    int ready = epoll_wait(group->epoll_fd, events, 256, wait_ms);
    if (ready < 0 && errno != EINTR) {
      fprintf(stderr, "k8c-loadgen: epoll_wait: %s\n", strerror(errno));
      break;
    }
    for (int i = 0; i < ready; i++) {
      int flags = 0;
      if (events[i].events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(group->multi, events[i].data.fd, flags, &running);
    }
    if (group->timer_deadline_us >= 0 && clock_now_us() >= group->timer_deadline_us) {
      group->timer_deadline_us = -1;
      curl_multi_socket_action(group->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    watch_group_drain_done(group);
  }
  return NULL;
}

/* A finished transfer is a stream the server ended (or never started): report the
 * first one of each group, count them all. */
static void
watch_group_drain_done(watch_group *group)
{
  CURLMsg *msg;
  int left = 0;
  while ((msg = curl_multi_info_read(group->multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    watcher *w = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
    long status = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    if (atomic_fetch_add(&group->fleet->ended, 1) == 0)
      fprintf(stderr, "k8c-loadgen: a watch stream ended: HTTP %ld, %s\n", status,
              curl_easy_strerror(msg->data.result));
    if (curl_multi_remove_handle(group->multi, msg->easy_handle) != CURLM_OK)
      fprintf(stderr, "k8c-loadgen: curl_multi_remove_handle failed\n");
    if (w)
      w->attached = 0;
  }
}

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
  watch_group *group = userp;
  if (what == CURL_POLL_REMOVE) {
    /* curl may already have closed the socket, which removed it from epoll. */
    if (epoll_ctl(group->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT &&
        errno != EBADF)
      return -1;
    return 0;
  }
  struct epoll_event event = {.data.fd = fd};
  if (what & CURL_POLL_IN)
    event.events |= EPOLLIN;
  if (what & CURL_POLL_OUT)
    event.events |= EPOLLOUT;
  if (epoll_ctl(group->epoll_fd, EPOLL_CTL_MOD, fd, &event) == 0)
    return 0;
  if (errno == ENOENT && epoll_ctl(group->epoll_fd, EPOLL_CTL_ADD, fd, &event) == 0)
    return 0;
  fprintf(stderr, "k8c-loadgen: epoll_ctl(%d): %s\n", fd, strerror(errno));
  return -1;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
  watch_group *group = userp;
  group->timer_deadline_us = timeout_ms < 0 ? -1 : clock_now_us() + (int64_t)timeout_ms * 1000;
  return 0;
}

/* ---- stream parsing ----------------------------------------------------------- */

static size_t
on_stream_data(char *data, size_t size, size_t nmemb, void *userp)
{
  watcher *w = userp;
  size_t n = size * nmemb;
  buf_append(&w->pending, data, n);
  char *start = w->pending.data;
  char *end = start + w->pending.len;
  char *newline;
  while ((newline = memchr(start, '\n', (size_t)(end - start))) != NULL) {
    watcher_take_line(w, start, (size_t)(newline - start));
    start = newline + 1;
  }
  size_t rest = (size_t)(end - start);
  memmove(w->pending.data, start, rest);
  w->pending.len = rest;
  w->pending.data[rest] = 0;
  return n;
}

/* The first occurrence of a tracked name in an event is the object's metadata.name. */
static void
watcher_take_line(watcher *w, const char *line, size_t len)
{
  fanout_tracker *tracker = w->tracker;
  const char *hit = memmem(line, len, tracker->name_prefix, tracker->name_prefix_len);
  if (hit == NULL)
    return;
  const char *digit = hit + tracker->name_prefix_len;
  const char *line_end = line + len;
  long index = 0;
  int digits = 0;
  while (digit < line_end && *digit >= '0' && *digit <= '9' && digits < 9) {
    index = index * 10 + (*digit - '0');
    digit++;
    digits++;
  }
  if (digits == 0 || index > tracker->events || w->seen[index])
    return;
  w->seen[index] = 1;
  int count = atomic_fetch_add(&tracker->received[index], 1) + 1;
  if (count == atomic_load(&tracker->expected))
    atomic_store(&tracker->complete_us[index], clock_now_us());
}
