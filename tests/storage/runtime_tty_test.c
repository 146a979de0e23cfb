/* runtime_tty_test.c — interactive access with real crun and conmon: an exec with a
 * terminal (the pty master handed over the console socket: `tty` names a /dev/pts
 * device, `stty size` follows a resize), and attach to a container's main process with
 * a terminal (conmon -t, resize through its control fifo) and without one (conmon -i:
 * stdin pipe, stdout and stderr apart, closing stdin ends it). */
#include "kubelet/runtime/terminal.h"
#include "runtime_scenarios.h"

#include <poll.h>

/* Text read so far from a session's output. */
typedef struct {
  char text[65536];
  size_t len;
} output;

static void
output_init(output *o)
{
  o->len = 0;
  o->text[0] = '\0';
}

/* Reads fd into *acc until it contains want (true) or timeout_ms passes / EOF (false). */
static bool
read_until(int fd, output *acc, const char *want, int timeout_ms)
{
  int64_t deadline = fixture_now_ms() + timeout_ms;
  while (strstr(acc->text, want) == NULL) {
    int left = (int)(deadline - fixture_now_ms());
    if (left <= 0)
      return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, left) <= 0)
      continue;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0)
      return strstr(acc->text, want) != NULL;
    size_t room = sizeof acc->text - 1 - acc->len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(acc->text + acc->len, chunk, take);
    acc->len += take;
    acc->text[acc->len] = '\0';
  }
  return true;
}

static void
exec_tty_scenario(const char *oci_runtime)
{
  struct fixture f;
  fixture_setup(&f, oci_runtime);
  struct sandbox_info sb = {0};
  k8c_err err = {0};
  const char *const sleeper[] = {"sleep", "60", NULL};
  struct container_spec spec = {0};
  if (scenario_sandbox(&f, "tty", &sb) && scenario_run(&f, &sb, &spec, "ttyexec", sleeper)) {
    const char *const cmd[] = {
        "sh", "-c", "busybox tty; busybox stty size; read x; busybox stty size; exit 4", NULL};
    struct exec_process proc;
    int tty_fd = -1;
    if (runtime_container_exec_tty(f.rt, "ttyexec", cmd, NULL, 80, 24, &proc, &tty_fd, &err) == 0) {
      CHECK_INT(proc.stderr_fd, -1);
      static output out;
      output_init(&out);
      bool ok = read_until(proc.stdout_fd, &out, "24 80", 10000);
      CHECK(ok);
      CHECK(strstr(out.text, "/dev/pts/") != NULL);
      CHECK(runtime_exec_resize(&proc, tty_fd, 132, 50, &err) == 0);
      CHECK(write(proc.stdin_fd, "\n", 1) == 1);
      ok = ok && read_until(proc.stdout_fd, &out, "50 132", 10000);
      CHECK(ok);
      int code = -1;
      CHECK(runtime_exec_wait(&proc, 10000, &code, &err) == 0);
      CHECK_INT(code, 4);
      close(tty_fd);
      if (!ok)
        fprintf(stderr, "exec tty output: %s\n", out.text);
    } else {
      testlib_fail(__FILE__, __LINE__, "exec tty: %s", err.message);
      k8c_err_clear(&err);
    }
    /* a command that does not exist fails with the runtime's reason */
    const char *const missing[] = {"/no/such/program", NULL};
    CHECK(runtime_container_exec_tty(f.rt, "ttyexec", missing, NULL, 0, 0, &proc, &tty_fd, &err) <
              0 ||
          (runtime_exec_wait(&proc, 10000, &(int){0}, &err) == 0 && (close(tty_fd), true)));
    k8c_err_clear(&err);
    CHECK(runtime_container_stop(f.rt, "ttyexec", 0, &err) == 0);
  }
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
  fixture_teardown(&f, true);
}

TEST(crun_exec_tty)
{
  exec_tty_scenario("/usr/bin/crun");
}

TEST(runc_exec_tty)
{
  exec_tty_scenario("/usr/bin/runc");
}

TEST(crun_attach_tty)
{
  struct fixture f;
  fixture_setup(&f, "/usr/bin/crun");
  struct sandbox_info sb = {0};
  k8c_err err = {0};
  const char *const cmd[] = {
      "sh", "-c", "while read l; do echo \"got $l\"; busybox stty size; busybox tty; done", NULL};
  struct container_spec spec = {.tty = true, .stdin_open = true};
  if (scenario_sandbox(&f, "att", &sb) && scenario_run(&f, &sb, &spec, "attty", cmd)) {
    struct attach_session a;
    if (runtime_container_attach(f.rt, "attty", true, true, &a, &err) == 0) {
      CHECK_INT(a.stderr_fd, -1);
      static output out;
      output_init(&out);
      CHECK(runtime_container_resize(f.rt, "attty", 100, 40, &err) == 0);
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL); /* conmon applies the size from its loop */
      CHECK(write(a.stdin_fd, "hello\n", 6) == 6);
      bool ok = read_until(a.stdout_fd, &out, "got hello", 10000) &&
                read_until(a.stdout_fd, &out, "40 100", 10000) &&
                read_until(a.stdout_fd, &out, "/dev/pts/", 10000);
      CHECK(ok);
      if (!ok)
        fprintf(stderr, "attach tty output: %s\n", out.text);
      runtime_attach_close(&a);
    } else {
      testlib_fail(__FILE__, __LINE__, "attach: %s", err.message);
      k8c_err_clear(&err);
    }
    CHECK(runtime_container_stop(f.rt, "attty", 0, &err) == 0);
  }
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
  fixture_teardown(&f, true);
}

TEST(crun_attach_stdin_pipe)
{
  struct fixture f;
  fixture_setup(&f, "/usr/bin/crun");
  struct sandbox_info sb = {0};
  k8c_err err = {0};
  const char *const cmd[] = {
      "sh", "-c", "while read l; do echo \"out $l\"; echo \"err $l\" >&2; done; exit 7", NULL};
  struct container_spec spec = {.stdin_open = true, .stdin_once = true};
  if (scenario_sandbox(&f, "pipe", &sb) && scenario_run(&f, &sb, &spec, "atpipe", cmd)) {
    struct attach_session a;
    if (runtime_container_attach(f.rt, "atpipe", false, true, &a, &err) == 0) {
      CHECK(a.stderr_fd >= 0);
      static output out, errs;
      output_init(&out);
      output_init(&errs);
      CHECK(write(a.stdin_fd, "one\n", 4) == 4);
      CHECK(read_until(a.stdout_fd, &out, "out one", 10000));
      CHECK(read_until(a.stderr_fd, &errs, "err one", 10000));
      CHECK(strstr(out.text, "err") == NULL);
      close(a.stdin_fd); /* stdinOnce: the container's stdin ends, the loop ends */
      a.stdin_fd = -1;
      struct container_state st;
      if (scenario_wait_exit(&f, "atpipe", 10000, &st)) {
        CHECK_INT(st.exit_code, 7);
        container_state_free(&st);
      }
      runtime_attach_close(&a);
    } else {
      testlib_fail(__FILE__, __LINE__, "attach: %s", err.message);
      k8c_err_clear(&err);
    }
  }
  k8c_err_clear(&err);
  sandbox_info_free(&sb);
  fixture_teardown(&f, true);
}

TEST_MAIN()
