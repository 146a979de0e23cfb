/* volumes_test.c — pod volumes with real mounts, as root: secret and projected content on
 * tmpfs, emptyDir medium Memory with its size limit, fsGroup ownership, hostPath socket
 * and device types, the `..data` swap under a concurrent reader, teardown leaving no
 * mount behind, and a real container (crun) reading and writing its volumes, live
 * updates included. */
#include "kubelet/volumes/volumes_internal.h"
#include "runtime_scenarios.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

/* ---------- fixtures ---------- */

static void
require_root(void)
{
  if (geteuid() != 0) {
    fprintf(stderr, "FATAL: volume tests need root (tmpfs mounts, chown)\n");
    exit(1);
  }
}

static char *
temp_dir(void)
{
  char *dir = xstrdup("/tmp/k8c-volst-XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  return dir;
}

static json_t *
get_from(json_t *store, const char *kind, const char *ns, const char *name)
{
  char key[256];
  snprintf(key, sizeof key, "%s/%s", ns, name);
  json_t *obj = json_object_get(json_object_get(store, kind), key);
  return obj ? json_incref(obj) : NULL;
}

static json_t *
fake_configmap(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  (void)err;
  return get_from(ctx, "configmaps", ns, name);
}

static json_t *
fake_secret(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  (void)err;
  return get_from(ctx, "secrets", ns, name);
}

static char *
fake_token(void *ctx, const char *ns, const char *sa, const char *audience, int64_t exp,
           const char *pod, const char *uid, k8c_err *err)
{
  (void)ctx;
  (void)err;
  return xasprintf("token:%s:%s:%s:%lld:%s:%s", ns, sa, audience, (long long)exp, pod, uid);
}

static struct volume_sources
sources_for(json_t *store)
{
  struct volume_sources src = {0};
  src.objects.ctx = store;
  src.objects.get_configmap = fake_configmap;
  src.objects.get_secret = fake_secret;
  return src;
}

/* How many mounts of this mount namespace lie at or below prefix. */
static int
mounts_under(const char *prefix)
{
  char **m = fs_mounts_under(prefix);
  int n = (int)fs_strv_len((const char *const *)m);
  fs_strv_free(m);
  return n;
}

/* The filesystem type of the mount at exactly path, from /proc/self/mountinfo. */
static char *
mount_fstype(const char *path)
{
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[4096];
  char *type = NULL;
  while (f && type == NULL && fgets(line, sizeof line, f)) {
    char mnt[2048], fstype[64];
    if (sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1)
      continue;
    const char *dash = strstr(line, " - ");
    if (strcmp(mnt, path) == 0 && dash && sscanf(dash + 3, "%63s", fstype) == 1)
      type = xstrdup(fstype);
  }
  if (f)
    fclose(f);
  return type;
}

static char *
read_text(const char *dir, const char *rel)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, rel);
  k8c_err err = {0};
  char *data = fs_read_file(path, NULL, &err);
  k8c_err_clear(&err);
  return data;
}

static struct stat
stat_of(const char *dir, const char *rel)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, rel);
  struct stat st;
  memset(&st, 0, sizeof st);
  if (stat(path, &st) < 0)
    st.st_mode = 0;
  return st;
}

static json_t *
load(const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads(text, 0, &jerr);
  if (j == NULL)
    fprintf(stderr, "json: %s\n", jerr.text);
  return j;
}

/* ---------- tmpfs kinds ---------- */

TEST(secret_projected_memory_on_tmpfs_and_teardown)
{
  require_root();
  char *dir = temp_dir();
  json_t *store = load("{\"configmaps\": {\"ns/ca\": {\"data\": {\"ca.crt\": \"CERT\"}}},"
                       " \"secrets\": {\"ns/db\": {\"data\": {\"user\": \"YWRtaW4=\","
                       "   \"pass\": \"c2VjcmV0\"}}}}");
  json_t *pod = load(
      "{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\", \"uid\": \"u1\","
      "  \"labels\": {\"a\": \"1\"}},"
      " \"spec\": {\"serviceAccountName\": \"sa\", \"securityContext\": {\"fsGroup\": 2345},"
      "  \"containers\": [{\"name\": \"c\"}], \"volumes\": ["
      "  {\"name\": \"db\", \"secret\": {\"secretName\": \"db\", \"defaultMode\": 256,"
      "    \"items\": [{\"key\": \"pass\", \"path\": \"creds/pass\", \"mode\": 384},"
      "                {\"key\": \"user\", \"path\": \"user\"}]}},"
      "  {\"name\": \"nosecret\", \"secret\": {\"secretName\": \"absent\", \"optional\": true}},"
      "  {\"name\": \"mem\", \"emptyDir\": {\"medium\": \"Memory\", \"sizeLimit\": \"1Mi\"}},"
      "  {\"name\": \"api\", \"projected\": {\"defaultMode\": 420, \"sources\": ["
      "    {\"serviceAccountToken\": {\"path\": \"token\", \"expirationSeconds\": 3607,"
      "      \"audience\": \"api\"}},"
      "    {\"configMap\": {\"name\": \"ca\", \"items\": [{\"key\": \"ca.crt\", \"path\": "
      "\"ca.crt\"}]}},"
      "    {\"secret\": {\"name\": \"db\", \"items\": [{\"key\": \"user\", \"path\": \"u\"}]}},"
      "    {\"downwardAPI\": {\"items\": [{\"path\": \"namespace\","
      "      \"fieldRef\": {\"fieldPath\": \"metadata.namespace\"}}]}}]}}]}}");
  struct volume_sources src = sources_for(store);
  src.request_token = fake_token;
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  CHECK_INT(volumes_setup(pod, dir, &src, &vols, &err), 0);
  if (err.status)
    fprintf(stderr, "setup: %s\n", err.message);
  CHECK_INT(vols.len, 4);

  const struct pod_volume *db = pod_volumes_find(&vols, "db");
  CHECK(db && db->tmpfs && db->readonly);
  cleanup_free char *db_type = db ? mount_fstype(db->path) : NULL;
  CHECK_STR(db_type, "tmpfs");
  cleanup_free char *pass = read_text(db->path, "creds/pass");
  CHECK_STR(pass, "secret");
  cleanup_free char *user = read_text(db->path, "user");
  CHECK_STR(user, "admin");
  /* modes: item mode 0600 and defaultMode 0400, each plus group read for the fsGroup */
  struct stat st = stat_of(db->path, "creds/pass");
  CHECK_INT(st.st_mode & 07777, 0640);
  CHECK_INT(st.st_gid, 2345);
  st = stat_of(db->path, "user");
  CHECK_INT(st.st_mode & 07777, 0440);

  const struct pod_volume *none = pod_volumes_find(&vols, "nosecret");
  CHECK(none && none->tmpfs);

  const struct pod_volume *mem = pod_volumes_find(&vols, "mem");
  CHECK(mem && mem->tmpfs && !mem->readonly && mem->subpath_create);
  struct statfs sfs;
  CHECK(statfs(mem->path, &sfs) == 0 && (uint64_t)sfs.f_blocks * (uint64_t)sfs.f_bsize == 1048576);
  st = stat_of(mem->path, ".");
  CHECK_INT(st.st_mode & 07777, 02777);
  CHECK_INT(st.st_gid, 2345);

  const struct pod_volume *api = pod_volumes_find(&vols, "api");
  cleanup_free char *api_type = api ? mount_fstype(api->path) : NULL;
  CHECK_STR(api_type, "tmpfs");
  cleanup_free char *token = read_text(api->path, "token");
  CHECK_STR(token, "token:ns:sa:api:3607:p:u1");
  cleanup_free char *ca = read_text(api->path, "ca.crt");
  CHECK_STR(ca, "CERT");
  cleanup_free char *u = read_text(api->path, "u");
  CHECK_STR(u, "admin");
  cleanup_free char *ns = read_text(api->path, "namespace");
  CHECK_STR(ns, "ns");
  CHECK_INT(stat_of(api->path, "token").st_mode & 07777, 0644);

  /* an update with nothing new keeps the token (it is still fresh) */
  CHECK_INT(volumes_update(pod, dir, &src, &vols, &err), 0);
  /* without a TokenRequest getter the projected volume cannot be set up: no stand-in */
  cleanup_free char *dir2 = temp_dir();
  struct volume_sources no_token = sources_for(store);
  struct pod_volumes vols2 = {0};
  CHECK_INT(volumes_setup(pod, dir2, &no_token, &vols2, &err), -1);
  CHECK(strstr(err.message, "no TokenRequest API") != NULL);
  k8c_err_clear(&err);
  CHECK_INT(volumes_teardown(dir2, &err), 0);
  CHECK_INT(mounts_under(dir2), 0);
  pod_volumes_clear(&vols2);
  CHECK_INT(rmdir(dir2), 0);

  CHECK_INT(mounts_under(dir), 3 + 0 + 1); /* db, nosecret, mem, api */
  CHECK_INT(volumes_teardown(dir, &err), 0);
  if (err.status)
    fprintf(stderr, "teardown: %s\n", err.message);
  CHECK_INT(mounts_under(dir), 0);
  CHECK_INT(volumes_teardown(dir, &err), 0);
  cleanup_free char *root = xasprintf("%s/volumes", dir);
  CHECK(access(root, F_OK) < 0);
  pod_volumes_clear(&vols);
  CHECK_INT(rmdir(dir), 0);
  free(dir);
  json_decref(pod);
  json_decref(store);
}

TEST(failed_setup_tears_down_clean)
{
  require_root();
  char *dir = temp_dir();
  json_t *store = load("{\"configmaps\": {}, \"secrets\": {\"default/s\": {\"data\": {}}}}");
  json_t *pod = load("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"volumes\": ["
                     " {\"name\": \"s\", \"secret\": {\"secretName\": \"s\"}},"
                     " {\"name\": \"gone\", \"secret\": {\"secretName\": \"gone\"}}]}}");
  struct volume_sources src = sources_for(store);
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  CHECK_INT(volumes_setup(pod, dir, &src, &vols, &err), -1);
  CHECK_STR(err.message,
            "MountVolume.SetUp failed for volume \"gone\" : secret \"gone\" not found");
  k8c_err_clear(&err);
  CHECK(mounts_under(dir) >= 1);
  CHECK_INT(volumes_teardown(dir, &err), 0);
  CHECK_INT(mounts_under(dir), 0);
  CHECK_INT(rmdir(dir), 0);
  free(dir);
  json_decref(pod);
  json_decref(store);
}

TEST(host_path_socket_and_devices)
{
  require_root();
  char *dir = temp_dir();
  k8c_err err = {0};
  cleanup_free char *sock = xasprintf("%s/s.sock", dir);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
  CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
  CHECK_INT(host_path_check_type(sock, "Socket", &err), 0);
  CHECK_INT(host_path_check_type(sock, "File", &err), -1);
  k8c_err_clear(&err);
  close(fd);
  CHECK_INT(host_path_check_type("/dev/null", "CharDevice", &err), 0);
  cleanup_free char *blk = xasprintf("%s/blk", dir);
  CHECK_INT(mknod(blk, S_IFBLK | 0600, makedev(7, 200)), 0);
  CHECK_INT(host_path_check_type(blk, "BlockDevice", &err), 0);
  CHECK_INT(host_path_check_type(blk, "CharDevice", &err), -1);
  cleanup_free char *expect =
      xasprintf("hostPath type check failed: %s is not a character device", blk);
  CHECK_STR(err.message, expect);
  k8c_err_clear(&err);
  k8c_err ignored = {0};
  CHECK_INT(fs_remove_tree(dir, &ignored), 0);
  free(dir);
}

/* ---------- the ..data swap under a reader ---------- */

#define SWAP_SIZE 65536

struct reader {
  const char *path;
  atomic_bool stop;
  atomic_long updates; /* volumes_update calls finished so far */
  long reads, torn, missing, overtaken;
};

static void *
reader_loop(void *arg)
{
  struct reader *r = arg;
  char *buf = xmalloc(SWAP_SIZE + 16);
  while (!atomic_load(&r->stop)) {
    long before = atomic_load(&r->updates);
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      /* A swap is atomic, but a reader preempted between resolving ..data and opening in
       * the version it names can be overtaken by two swaps, the second of which removes
       * that version (as upstream's writer removes it at once). Only a file missing
       * while at most one update was under way is a broken swap. */
      if (atomic_load(&r->updates) - before >= 1)
        r->overtaken++;
      else
        r->missing++;
      continue;
    }
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf + got, SWAP_SIZE + 16 - got)) > 0)
      got += (size_t)n;
    close(fd);
    r->reads++;
    bool whole = got == SWAP_SIZE;
    for (size_t i = 1; whole && i < got; i++)
      whole = buf[i] == buf[0];
    if (!whole)
      r->torn++;
  }
  free(buf);
  return NULL;
}

TEST(data_swap_never_shows_a_partial_file)
{
  require_root();
  char *dir = temp_dir();
  json_t *store = load("{\"configmaps\": {}, \"secrets\": {\"default/big\": {\"data\": {}}}}");
  json_t *pod = load("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"volumes\": ["
                     " {\"name\": \"big\", \"secret\": {\"secretName\": \"big\"}}]}}");
  struct volume_sources src = sources_for(store);
  json_t *data =
      json_object_get(json_object_get(json_object_get(store, "secrets"), "default/big"), "data");
  /* base64 of SWAP_SIZE identical bytes: "QUFB" repeats for 'A' (3 bytes → 4 chars) */
  char *values[2];
  for (int v = 0; v < 2; v++) {
    size_t quads = SWAP_SIZE / 3 + 1;
    char *text = xmalloc(quads * 4 + 1);
    for (size_t i = 0; i < quads; i++)
      memcpy(text + i * 4, v == 0 ? "QUFB" : "QkJC", 4);
    /* SWAP_SIZE = 65536 = 3*21845 + 1: the last quad encodes one byte */
    memcpy(text + (quads - 1) * 4, v == 0 ? "QQ==" : "Qg==", 4);
    text[quads * 4] = '\0';
    values[v] = text;
  }
  json_object_set_new(data, "key", json_string(values[0]));
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  CHECK_INT(volumes_setup(pod, dir, &src, &vols, &err), 0);
  struct reader r = {.path = NULL};
  cleanup_free char *key = xasprintf("%s/key", vols.items[0].path);
  r.path = key;
  atomic_init(&r.stop, false);
  atomic_init(&r.updates, 0);
  pthread_t th;
  CHECK_INT(pthread_create(&th, NULL, reader_loop, &r), 0);
  int updates = 0;
  for (int i = 1; i <= 200; i++) {
    json_object_set_new(data, "key", json_string(values[i % 2]));
    int rc = volumes_update(pod, dir, &src, &vols, &err);
    CHECK_INT(rc, 1);
    updates += rc == 1;
    atomic_fetch_add(&r.updates, 1);
  }
  atomic_store(&r.stop, true);
  pthread_join(th, NULL);
  CHECK_INT(updates, 200);
  CHECK(r.reads > 100);
  CHECK_INT(r.torn, 0);
  CHECK_INT(r.missing, 0);
  CHECK(r.overtaken < r.reads / 10); /* rare: only under preemption */
  /* the current version and the one it replaced are left, nothing older */
  int versions = 0;
  DIR *d = opendir(vols.items[0].path);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    versions += strncmp(e->d_name, "..2", 3) == 0;
  if (d)
    closedir(d);
  CHECK_INT(versions, 2);
  CHECK_INT(volumes_teardown(dir, &err), 0);
  CHECK_INT(mounts_under(dir), 0);
  pod_volumes_clear(&vols);
  CHECK_INT(rmdir(dir), 0);
  free(dir);
  free(values[0]);
  free(values[1]);
  json_decref(pod);
  json_decref(store);
}

/* ---------- a real container ---------- */

static bool
log_has(const char *log_path, const char *needle)
{
  k8c_err err = {0};
  cleanup_free char *text = fs_read_file(log_path, NULL, &err);
  k8c_err_clear(&err);
  return text && strstr(text, needle);
}

TEST(container_reads_and_writes_its_volumes)
{
  struct fixture f;
  fixture_setup(&f, "/usr/bin/crun");
  cleanup_free char *pod_dir = xasprintf("%s/pod", f.dir);
  cleanup_free char *host = xasprintf("%s/hostdata", f.dir);
  json_t *store = load("{\"configmaps\": {\"default/cfg\": {\"data\": {\"greeting\": \"hello-1\","
                       "  \"other\": \"o\"}}},"
                       " \"secrets\": {\"default/sec\": {\"data\": {\"pw\": \"aHVudGVyMg==\"}}}}");
  cleanup_free char *pod_text = xasprintf(
      "{\"metadata\": {\"name\": \"vp\", \"namespace\": \"default\", \"uid\": \"u\"},"
      " \"spec\": {\"volumes\": ["
      "  {\"name\": \"cfg\", \"configMap\": {\"name\": \"cfg\"}},"
      "  {\"name\": \"sec\", \"secret\": {\"secretName\": \"sec\"}},"
      "  {\"name\": \"scratch\", \"emptyDir\": {\"medium\": \"Memory\"}},"
      "  {\"name\": \"host\", \"hostPath\": {\"path\": \"%s\", \"type\": \"DirectoryOrCreate\"}}],"
      "  \"containers\": [{\"name\": \"c\", \"volumeMounts\": ["
      "   {\"name\": \"cfg\", \"mountPath\": \"/etc/cfg\"},"
      "   {\"name\": \"cfg\", \"mountPath\": \"/etc/other\", \"subPath\": \"other\"},"
      "   {\"name\": \"sec\", \"mountPath\": \"/etc/sec\"},"
      "   {\"name\": \"scratch\", \"mountPath\": \"/scratch\"},"
      "   {\"name\": \"host\", \"mountPath\": \"/host\", \"subPathExpr\": \"$(POD)\"}]}]}}",
      host);
  json_t *pod = load(pod_text);
  struct volume_sources src = sources_for(store);
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  struct mount_spec *mounts = NULL;
  size_t n = 0;
  struct env_var vars[] = {{"POD", "vp"}};
  struct env_list env = {vars, 1};
  struct sandbox_info sb = {0};
  if (volumes_setup(pod, pod_dir, &src, &vols, &err) < 0 ||
      volumes_mounts_for_container(
          pod, json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
          &vols, &env, &mounts, &n, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "volumes: %s", err.message);
    k8c_err_clear(&err);
  } else if (scenario_sandbox(&f, "vol", &sb)) {
    const char *const argv[] = {
        "sh", "-c",
        "echo $(cat /etc/cfg/greeting); echo $(cat /etc/other); echo $(cat /etc/sec/pw);"
        " echo written > /scratch/f && cat /scratch/f; echo fromc > /host/out;"
        " echo ro-$(touch /etc/cfg/x 2>/dev/null && echo no || echo yes);"
        " while true; do echo now-$(cat /etc/cfg/greeting); sleep 0.1; done",
        NULL};
    struct container_spec spec = {.mounts = mounts, .n_mounts = n};
    char *log = xasprintf("%s/default_%s_uid/vol/0.log", f.log_dir, sb.id);
    if (scenario_run(&f, &sb, &spec, "vol", argv)) {
      int64_t deadline = fixture_now_ms() + 30000; /* generous: ASan on a loaded machine */
      while (!log_has(log, "now-hello-1") && fixture_now_ms() < deadline)
        usleep(50000);
      CHECK(log_has(log, "F hello-1\n"));
      CHECK(log_has(log, "F o\n"));
      CHECK(log_has(log, "F hunter2\n"));
      CHECK(log_has(log, "F written\n"));
      CHECK(log_has(log, "F ro-yes\n"));
      cleanup_free char *out = read_text(host, "vp/out");
      CHECK_STR(out, "fromc\n");
      /* a live update reaches the running container */
      json_object_set_new(
          json_object_get(json_object_get(json_object_get(store, "configmaps"), "default/cfg"),
                          "data"),
          "greeting", json_string("hello-2"));
      CHECK_INT(volumes_update(pod, pod_dir, &src, &vols, &err), 1);
      deadline = fixture_now_ms() + 30000;
      while (!log_has(log, "now-hello-2") && fixture_now_ms() < deadline)
        usleep(50000);
      CHECK(log_has(log, "now-hello-2"));
      CHECK_INT(runtime_container_remove(f.rt, "vol", &err), 0);
    }
    free(log);
    CHECK_INT(runtime_sandbox_remove(f.rt, sb.id, &err), 0);
    sandbox_info_free(&sb);
  }
  volumes_mounts_free(mounts, n);
  CHECK_INT(volumes_teardown(pod_dir, &err), 0);
  if (err.status)
    fprintf(stderr, "teardown: %s\n", err.message);
  CHECK_INT(mounts_under(pod_dir), 0);
  pod_volumes_clear(&vols);
  json_decref(pod);
  json_decref(store);
  fixture_teardown(&f, true);
}

TEST_MAIN()
