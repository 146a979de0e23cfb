/* probe_test.c — container probes against real servers on loopback: httpGet (status
 * codes, headers, named ports, timeouts), tcpSocket (open and closed ports), grpc (a
 * real grpc.health.v1 server in Debian's python3-grpcio: SERVING and NOT_SERVING), exec
 * through a runtime callback, and the state machine's thresholds and delays. */
#include "kubelet/probes/probe.h"
#include "lib/mem.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------- a tiny HTTP server: answers every request with the status in its path ---------- */

struct http_server {
  int fd;
  int port;
  pthread_t thread;
  char last_request[2048];
};

static void *
http_serve(void *arg)
{
  struct http_server *s = arg;
  for (;;) {
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
      return NULL;
    char req[2048];
    ssize_t n = recv(c, req, sizeof req - 1, 0);
    if (n <= 0) {
      close(c);
      continue;
    }
    req[n] = '\0';
    memcpy(s->last_request, req, (size_t)n + 1);
    int status = 200;
    if (strncmp(req, "GET /status/", 12) == 0)
      status = atoi(req + 12);
    if (strncmp(req, "GET /slow", 9) == 0)
      usleep(1500 * 1000);
    char resp[256];
    int len = snprintf(resp, sizeof resp,
                       "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
    if (send(c, resp, (size_t)len, MSG_NOSIGNAL) < 0)
      perror("send");
    close(c);
  }
}

static int
listen_any(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) < 0)
    return -1;
  *port = ntohs(a.sin_port);
  return fd;
}

static int
http_server_start(struct http_server *s)
{
  s->fd = listen_any(&s->port);
  if (s->fd < 0)
    return -1;
  return pthread_create(&s->thread, NULL, http_serve, s) == 0 ? 0 : -1;
}

static void
http_server_stop(struct http_server *s)
{
  shutdown(s->fd, SHUT_RDWR);
  close(s->fd);
  pthread_join(s->thread, NULL);
}

static enum probe_result
run(const char *probe_text, const json_t *container, char **msg)
{
  cleanup_json json_t *probe = json_loads(probe_text, 0, NULL);
  struct probe_target t = {.pod_ip = "127.0.0.1", .container = container};
  return probe_run(probe, &t, msg);
}

TEST(http_get)
{
  struct http_server s = {0};
  CHECK_INT(http_server_start(&s), 0);
  cleanup_json json_t *container =
      json_pack("{s:[{s:s,s:i}]}", "ports", "name", "web", "containerPort", s.port);
  char *msg = NULL;
  cleanup_free char *ok = xasprintf("{\"httpGet\":{\"path\":\"/healthz\",\"port\":%d,"
                                    "\"httpHeaders\":[{\"name\":\"X-Probe\",\"value\":\"yes\"}]}}",
                                    s.port);
  CHECK_INT(run(ok, container, &msg), PROBE_SUCCESS);
  CHECK(msg == NULL);
  CHECK(strstr(s.last_request, "GET /healthz HTTP/1.1") != NULL);
  CHECK(strstr(s.last_request, "X-Probe: yes") != NULL);
  CHECK(strstr(s.last_request, "User-Agent: kube-probe/1.") != NULL);

  CHECK_INT(run("{\"httpGet\":{\"path\":\"/status/302\",\"port\":\"web\"}}", container, &msg),
            PROBE_SUCCESS);
  CHECK_INT(run("{\"httpGet\":{\"path\":\"/status/500\",\"port\":\"web\"}}", container, &msg),
            PROBE_FAILURE);
  CHECK_STR(msg, "HTTP probe failed with statuscode: 500");
  free(msg);
  CHECK_INT(run("{\"httpGet\":{\"path\":\"/slow\",\"port\":\"web\"},\"timeoutSeconds\":1}",
                container, &msg),
            PROBE_FAILURE);
  CHECK(msg && strstr(msg, "context deadline exceeded") != NULL);
  free(msg);
  http_server_stop(&s);
  cleanup_free char *closed = xasprintf("{\"httpGet\":{\"port\":%d}}", s.port);
  CHECK_INT(run(closed, container, &msg), PROBE_FAILURE);
  CHECK(msg && strstr(msg, "connect: connection refused") != NULL);
  free(msg);
}

TEST(tcp_socket)
{
  int port;
  int fd = listen_any(&port);
  CHECK(fd >= 0);
  char *msg = NULL;
  cleanup_free char *open_probe = xasprintf("{\"tcpSocket\":{\"port\":%d}}", port);
  CHECK_INT(run(open_probe, NULL, &msg), PROBE_SUCCESS);
  close(fd);
  CHECK_INT(run(open_probe, NULL, &msg), PROBE_FAILURE);
  cleanup_free char *want = xasprintf("dial tcp 127.0.0.1:%d: connect: connection refused", port);
  CHECK_STR(msg, want);
  free(msg);
}

/* ---------- grpc: a real health server ---------- */

static const char grpc_server_py[] =
    "import grpc, sys, time\n"
    "from concurrent import futures\n"
    "status = {'': b'\\x08\\x01', 'down': b'\\x08\\x02'}\n"
    "def check(req, ctx):\n"
    "    name = req[2:].decode() if len(req) > 2 else ''\n"
    "    return status.get(name, b'\\x08\\x03')\n"
    "h = grpc.method_handlers_generic_handler('grpc.health.v1.Health', {'Check': "
    "grpc.unary_unary_rpc_method_handler(check, request_deserializer=lambda b: b, "
    "response_serializer=lambda b: b)})\n"
    "s = grpc.server(futures.ThreadPoolExecutor(max_workers=2))\n"
    "s.add_generic_rpc_handlers((h,))\n"
    "port = s.add_insecure_port('127.0.0.1:0')\n"
    "s.start()\n"
    "print(port, flush=True)\n"
    "time.sleep(60)\n";

TEST(grpc_health)
{
  int pipefd[2];
  CHECK_INT(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    execl("/usr/bin/python3", "python3", "-c", grpc_server_py, (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  char line[32] = "";
  FILE *f = fdopen(pipefd[0], "r");
  CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
  int port = atoi(line);
  if (port <= 0) {
    fprintf(stderr, "FATAL: the grpc health server (python3-grpcio) did not start\n");
    CHECK(port > 0);
  } else {
    char *msg = NULL;
    cleanup_free char *serving = xasprintf("{\"grpc\":{\"port\":%d}}", port);
    CHECK_INT(run(serving, NULL, &msg), PROBE_SUCCESS);
    cleanup_free char *down = xasprintf("{\"grpc\":{\"port\":%d,\"service\":\"down\"}}", port);
    CHECK_INT(run(down, NULL, &msg), PROBE_FAILURE);
    CHECK_STR(msg, "service unhealthy (responded with \"NOT_SERVING\")");
    free(msg);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  if (f)
    fclose(f);
}

/* ---------- exec through the runtime's callback ---------- */

static int
fake_exec(void *ctx, char *const *argv, int timeout_ms, int *exit_code, char **output)
{
  if (strcmp(argv[0], "hang") == 0)
    return -1;
  *exit_code = strcmp(argv[0], "true") == 0 ? 0 : 1;
  *output = xstrdup(*exit_code ? "not ready yet\n" : "");
  return 0;
}

TEST(exec_probe)
{
  struct probe_target t = {.pod_ip = "127.0.0.1", .exec = fake_exec};
  char *msg = NULL;
  cleanup_json json_t *yes = json_loads("{\"exec\":{\"command\":[\"true\"]}}", 0, NULL);
  cleanup_json json_t *no = json_loads("{\"exec\":{\"command\":[\"false\"]}}", 0, NULL);
  cleanup_json json_t *hang = json_loads("{\"exec\":{\"command\":[\"hang\"]}}", 0, NULL);
  CHECK_INT(probe_run(yes, &t, &msg), PROBE_SUCCESS);
  CHECK(msg == NULL);
  CHECK_INT(probe_run(no, &t, &msg), PROBE_FAILURE);
  CHECK_STR(msg, "not ready yet\n");
  free(msg);
  CHECK_INT(probe_run(hang, &t, &msg), PROBE_FAILURE);
  CHECK_STR(msg, "command timed out");
  free(msg);
}

/* ---------- the state machine ---------- */

TEST(state_machine_thresholds)
{
  cleanup_json json_t *p = json_loads("{\"initialDelaySeconds\":5,\"periodSeconds\":2,"
                                      "\"successThreshold\":2,\"failureThreshold\":3}",
                                      0, NULL);
  struct probe_state s;
  probe_state_init(&s, PROBE_READINESS, p, 1000);
  CHECK(!s.result);
  CHECK(!probe_state_due(&s, 5999));
  CHECK(probe_state_due(&s, 6000));
  CHECK(!probe_state_record(&s, PROBE_SUCCESS, 6000)); /* one success of two */
  CHECK(!probe_state_due(&s, 7999));
  CHECK(probe_state_record(&s, PROBE_SUCCESS, 8000)); /* now ready */
  CHECK(s.result);
  CHECK(!probe_state_record(&s, PROBE_FAILURE, 10000));
  CHECK(!probe_state_record(&s, PROBE_UNKNOWN, 12000));
  CHECK(!probe_state_record(&s, PROBE_FAILURE, 14000));
  CHECK(probe_state_record(&s, PROBE_FAILURE, 16000)); /* third failure */
  CHECK(!s.result);

  probe_state_init(&s, PROBE_LIVENESS, NULL, 0);
  CHECK(s.result);
  CHECK(!probe_state_due(&s, INT64_MAX - 1));
  probe_state_init(&s, PROBE_LIVENESS, p, 0);
  CHECK(s.result); /* live until proven otherwise */
  probe_state_init(&s, PROBE_STARTUP, p, 0);
  CHECK(!s.result);
  probe_state_record(&s, PROBE_SUCCESS, 5000);
  CHECK(probe_state_record(&s, PROBE_SUCCESS, 7000));
  CHECK(!probe_state_due(&s, 1000000)); /* a startup probe stops once it succeeded */
}

TEST_MAIN()
