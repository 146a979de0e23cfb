/* sqlite_walsize_test.c — growing the write-ahead log ahead of use: the WAL reaches the
 * asked size in the background while writes go on, and every acknowledged write, from
 * before, during and after the growth, is there after the process is killed and the
 * store recovers from that WAL (so the zeros past the last frame are never taken for
 * frames), and new writes go after the last frame. */
#include "storage/sqlite/sqlite_store.h"
#include "storage/storage.h"
#include "testlib.h"

#include "lib/mem.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WANT_BYTES ((size_t)6 << 20)

static storage *
open_in(const char *dir)
{
  k8c_err err = {0};
  storage *s = storage_open("", dir, &err);
  if (s == NULL)
    fprintf(stderr, "open: %s\n", err.message);
  CHECK(s != NULL);
  return s;
}

static long long
wal_size(const char *dir)
{
  cleanup_free char *wal = xasprintf("%s/server/db/state.db-wal", dir);
  struct stat sb;
  return stat(wal, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void
put(storage *s, int i)
{
  k8c_err err = {0};
  char key[64], value[600];
  snprintf(key, sizeof key, "/registry/configmaps/default/cm-%04d", i);
  int n = snprintf(value, sizeof value, "{\"data\":{\"i\":\"%d\",\"pad\":\"%0500d\"}}", i, i);
  int64_t rev = 0;
  CHECK_INT(s->ops->create(s, key, value, (size_t)n, &rev, &err), 0);
}

static void
check_all(storage *s, int count)
{
  for (int i = 0; i < count; i++) {
    k8c_err err = {0};
    char key[64], want[600];
    snprintf(key, sizeof key, "/registry/configmaps/default/cm-%04d", i);
    snprintf(want, sizeof want, "{\"data\":{\"i\":\"%d\",\"pad\":\"%0500d\"}}", i, i);
    storage_kv kv = {0};
    CHECK_INT(s->ops->get(s, key, &kv, &err), 0);
    CHECK_STR(kv.value, want);
    storage_kv_free(&kv);
  }
}

/* The child: writes, grows the WAL while writing, writes on, tells the parent how many
 * writes were acknowledged and whether the WAL grew, then waits to be killed. */
static void
child_run(const char *dir, int report_fd)
{
  storage *s = open_in(dir);
  for (int i = 0; i < 50; i++)
    put(s, i);
  long long before = wal_size(dir);
  sqlite_store_preallocate_wal(s, WANT_BYTES);
  int i = 50;
  for (int tries = 0; tries < 100 && wal_size(dir) < (long long)WANT_BYTES; tries++) {
    put(s, i++); /* writes go on while the WAL grows */
    usleep(50 * 1000);
  }
  long long grown = wal_size(dir);
  for (int j = 0; j < 50; j++)
    put(s, i++);
  /* reported, since the parent's test case records the checks */
  int grew = before > 0 && before < (long long)WANT_BYTES && grown >= (long long)WANT_BYTES;
  int msg[2] = {i, grew};
  if (write(report_fd, msg, sizeof msg) != (ssize_t)sizeof msg)
    _exit(3);
  for (;;)
    pause();
}

TEST(wal_grows_in_background_and_survives_kill)
{
  char dir[] = "/tmp/k8c-walsize-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  int fds[2];
  CHECK_INT(pipe(fds), 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    child_run(dir, fds[1]);
  }
  close(fds[1]);
  int msg[2] = {0, 0};
  CHECK_INT((int)read(fds[0], msg, sizeof msg), (int)sizeof msg);
  close(fds[0]);
  CHECK_INT(msg[1], 1); /* the WAL was smaller, then grew to the size asked for */
  CHECK_INT(kill(pid, SIGKILL), 0);
  int status = 0;
  CHECK_INT((int)waitpid(pid, &status, 0), (int)pid);
  /* The WAL is left as the killed process had it: frames, then zeros up to its size.
   * Opening recovers every acknowledged write and appends after the last frame. */
  CHECK(wal_size(dir) >= (long long)WANT_BYTES);
  int count = msg[0];
  storage *s = open_in(dir);
  check_all(s, count);
  put(s, count++);
  check_all(s, count);
  s->ops->destroy(s);
  s = open_in(dir);
  check_all(s, count);
  s->ops->destroy(s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
}

TEST_MAIN()
