/* image_pull_test.c — the image service against a real registry: tiny busybox images built
 * with umoci, pushed with skopeo to Debian's docker-registry on 127.0.0.1, pulled through a
 * registries.yaml mirror for docker.io. Covers unpacked rootfs, whiteouts through overlayfs,
 * shared layers and removal, errors (unknown image, digest mismatch, hanging registry), GC,
 * imports of OCI and docker archives, and concurrent pulls. Needs root, umoci, skopeo,
 * docker-registry and busybox; fails loudly without them. */
#include "kubelet/images/images.h"
#include "kubelet/images/images_internal.h"
#include "lib/mem.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fixture {
  bool ready;
  bool failed;
  char *work;
  char *registry; /* 127.0.0.1:PORT */
  pid_t registry_pid;
  struct registries_config *mirror;
  int stores;
};

static struct fixture fx;

static void
fixture_teardown(void)
{
  if (fx.registry_pid > 0) {
    kill(fx.registry_pid, SIGTERM);
    for (int i = 0; i < 50 && kill(fx.registry_pid, 0) == 0; i++)
      usleep(100000);
    kill(fx.registry_pid, SIGKILL);
  }
  if (fx.work)
    remove_tree(fx.work);
  registries_free(fx.mirror);
  free(fx.work);
  free(fx.registry);
}

static char *
read_small_file(const char *path)
{
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return NULL;
  char line[256] = "";
  char *ok = fgets(line, sizeof(line), f);
  fclose(f);
  if (ok == NULL)
    return NULL;
  line[strcspn(line, "\n")] = '\0';
  return xstrdup(line);
}

/* Builds the images and starts the registry once for all tests. */
static bool
fixture(void)
{
  if (fx.ready || fx.failed)
    return fx.ready;
  fx.failed = true;
  if (geteuid() != 0) {
    testlib_fail(__FILE__, __LINE__, "image_pull_test needs root (overlay, whiteout devices)");
    return false;
  }
  const char *src = getenv("K8C_SOURCE_DIR");
  if (src == NULL)
    src = ".";
  cleanup_free char *lib = xasprintf("%s/tests/lib/image_fixture.sh", src);
  if (access(lib, R_OK) != 0) {
    testlib_fail(__FILE__, __LINE__, "cannot find %s (set K8C_SOURCE_DIR)", lib);
    return false;
  }
  fx.work = xstrdup("/tmp/k8c-image-pull-test.XXXXXX");
  if (mkdtemp(fx.work) == NULL) {
    testlib_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    return false;
  }
  atexit(fixture_teardown);
  /* base: one layer; wh: base + a layer deleting /etc/motd; other: a second image;
   * corrupt: an image whose config blob is then damaged in the registry's storage */
  cleanup_free char *script = xasprintf(
      "set -e; source '%s'; W='%s'; L=$W/layout;"
      "fixture_build_busybox $L base; fixture_add_whiteout_layer $L base wh;"
      "fixture_build_busybox $L other; fixture_build_busybox $L corrupt;"
      "fixture_start_registry $W; echo $FIXTURE_REGISTRY >$W/registry;"
      "echo $FIXTURE_REGISTRY_PID >$W/registry.pid;"
      "for t in base wh other corrupt; do fixture_push $L $t library/busybox:$t; done;"
      "fixture_mirror_config $W/registries.yaml;"
      "cfg=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json'"
      " http://$FIXTURE_REGISTRY/v2/library/busybox/manifests/corrupt |"
      " python3 -c 'import json,sys; print(json.load(sys.stdin)[\"config\"][\"digest\"][7:])');"
      "data=$W/registry-storage/docker/registry/v2/blobs/sha256/${cfg:0:2}/$cfg/data;"
      "python3 -c 'import sys,os; p=sys.argv[1]; n=os.path.getsize(p); "
      "open(p,\"wb\").write(b\"x\"*n)' $data",
      lib, fx.work);
  cleanup_free char *cmd = xasprintf("bash -c \"$0\" >%s/setup.log 2>&1", fx.work);
  /* pass the script as $0 through the environment-free argv: write it to a file instead */
  cleanup_free char *script_path = xasprintf("%s/setup.sh", fx.work);
  FILE *f = fopen(script_path, "w");
  fputs(script, f);
  fclose(f);
  free(cmd);
  cmd = xasprintf("bash %s >%s/setup.log 2>&1", script_path, fx.work);
  int rc = system(cmd);
  cleanup_free char *pid_path = xasprintf("%s/registry.pid", fx.work);
  cleanup_free char *pid_text = read_small_file(pid_path);
  if (pid_text)
    fx.registry_pid = atoi(pid_text);
  if (rc != 0) {
    cleanup_free char *show = xasprintf("cat %s/setup.log >&2", fx.work);
    if (system(show) != 0)
      fprintf(stderr, "(no setup log)\n");
    testlib_fail(__FILE__, __LINE__, "building images / starting the registry failed");
    return false;
  }
  cleanup_free char *reg_path = xasprintf("%s/registry", fx.work);
  fx.registry = read_small_file(reg_path);
  cleanup_free char *yaml = xasprintf("%s/registries.yaml", fx.work);
  k8c_err err = {0};
  fx.mirror = registries_load(yaml, &err);
  if (fx.registry == NULL || fx.mirror == NULL || fx.mirror->n_mirrors != 1) {
    testlib_fail(__FILE__, __LINE__, "fixture incomplete: %s", err.message);
    return false;
  }
  fx.failed = false;
  fx.ready = true;
  return true;
}

static struct image_store *
fresh_store(void)
{
  cleanup_free char *root = xasprintf("%s/store-%d", fx.work, fx.stores++);
  k8c_err err = {0};
  struct image_store *store = image_store_open(root, &err);
  if (store == NULL)
    testlib_fail(__FILE__, __LINE__, "image_store_open: %s", err.message);
  return store;
}

static struct image_pull_options
mirror_options(void)
{
  /* the default endpoint (registry-1.docker.io) is unreachable here: keep tests offline */
  return (struct image_pull_options){
      .registries = fx.mirror, .timeout_seconds = 10, .disable_default_endpoint = true};
}

static struct image_info *
pull_ok(struct image_store *store, const char *ref)
{
  struct image_pull_options opts = mirror_options();
  k8c_err err = {0};
  struct image_info *info = image_pull(store, ref, &opts, &err);
  if (info == NULL)
    testlib_fail(__FILE__, __LINE__, "pulling %s: %s", ref, err.message);
  k8c_err_clear(&err);
  return info;
}

static int
count_entries(const char *dir_path)
{
  DIR *dir = opendir(dir_path);
  if (dir == NULL)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir(dir);
  return n;
}

static int
store_count(struct image_store *store, const char *sub)
{
  cleanup_free char *path = xasprintf("%s/%s", image_store_root(store), sub);
  return count_entries(path);
}

TEST(pull_through_docker_io_mirror)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct image_info *info = pull_ok(store, "busybox:base");
  if (info == NULL) {
    image_store_close(store);
    return;
  }
  CHECK_STR(info->names[0], "docker.io/library/busybox:base");
  CHECK(strncmp(info->repo_digests[0], "docker.io/library/busybox@sha256:", 33) == 0);
  CHECK(strncmp(info->id, "sha256:", 7) == 0);
  CHECK_STR(info->cmd[0], "/bin/sh");
  CHECK_STR(info->env[0], "PATH=/bin");
  CHECK_STR(info->working_dir, "/");
  CHECK(info->entrypoint == NULL);
  CHECK_JSON(json_object_get(info->labels, "org.k8c.test"), "\"busybox\"");
  CHECK_INT(info->n_layers, 1);
  CHECK(info->size > 500000);
  k8c_err err = {0};
  char **dirs = image_lowerdirs(store, info, &err);
  CHECK(dirs != NULL && dirs[0] != NULL && dirs[1] == NULL);
  if (dirs && dirs[0]) {
    cleanup_free char *bb = xasprintf("%s/bin/busybox", dirs[0]);
    cleanup_free char *sh = xasprintf("%s/bin/sh", dirs[0]);
    struct stat st;
    CHECK(stat(bb, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111));
    CHECK(lstat(sh, &st) == 0 && S_ISLNK(st.st_mode));
  }
  strv_free(dirs);
  /* found again by every form of its name, and by ID */
  const char *forms[] = {"busybox:base",         "docker.io/library/busybox:base",
                         "library/busybox:base", info->id,
                         info->repo_digests[0],  NULL};
  for (size_t i = 0; forms[i]; i++) {
    struct image_info *again = image_get(store, forms[i], &err);
    if (again == NULL)
      testlib_fail(__FILE__, __LINE__, "image_get(%s): %s", forms[i], err.message);
    else
      CHECK_STR(again->id, info->id);
    image_info_free(again);
    k8c_err_clear(&err);
  }
  CHECK(image_get(store, "busybox:latest", &err) == NULL);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  /* a second pull fetches nothing new and keeps one record */
  struct image_info *second = pull_ok(store, "busybox:base");
  CHECK(second != NULL && strcmp(second->id, info->id) == 0);
  image_info_free(second);
  CHECK_INT(store_count(store, "images"), 1);
  CHECK_INT(store_count(store, "tmp"), 0);
  /* the same image straight from the loopback registry: plain HTTP, no configuration */
  cleanup_free char *direct = xasprintf("%s/library/busybox:base", fx.registry);
  struct image_pull_options no_config = {.timeout_seconds = 10};
  struct image_info *third = image_pull(store, direct, &no_config, &err);
  if (third == NULL)
    testlib_fail(__FILE__, __LINE__, "direct pull: %s", err.message);
  else
    CHECK(strv_len(third->names) == 2);
  image_info_free(third);
  k8c_err_clear(&err);
  /* by digest: the manifest is fetched by digest and verified against it */
  const char *at = strchr(info->repo_digests[0], '@');
  cleanup_free char *by_digest = xasprintf("busybox%s", at ? at : "@none");
  struct image_info *fourth = pull_ok(store, by_digest);
  CHECK(fourth != NULL && strcmp(fourth->id, info->id) == 0);
  image_info_free(fourth);
  CHECK_INT(image_mark_used(store, info->id, &err), 0);
  struct image_info *used = image_get(store, info->id, &err);
  CHECK(used != NULL && used->last_used > 0);
  image_info_free(used);
  image_info_free(info);
  image_store_close(store);
}

/* dirs: the two lowerdirs of busybox:wh, top first. */
static void
check_whiteout_overlay(char **dirs)
{
  struct stat st;
  cleanup_free char *wh = xasprintf("%s/etc/motd", dirs[0]);
  CHECK(lstat(wh, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  cleanup_free char *lower_motd = xasprintf("%s/etc/motd", dirs[1]);
  CHECK(lstat(lower_motd, &st) == 0 && S_ISREG(st.st_mode));
  cleanup_free char *mnt = xasprintf("%s/mnt-wh", fx.work);
  mkdir(mnt, 0755);
  cleanup_free char *opts = xasprintf("lowerdir=%s:%s", dirs[0], dirs[1]);
  if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) != 0) {
    testlib_fail(__FILE__, __LINE__, "mounting overlay: %s", strerror(errno));
    return;
  }
  cleanup_free char *motd = xasprintf("%s/etc/motd", mnt);
  cleanup_free char *passwd = xasprintf("%s/etc/passwd", mnt);
  cleanup_free char *bb = xasprintf("%s/bin/busybox", mnt);
  CHECK(lstat(motd, &st) != 0 && errno == ENOENT);
  CHECK(stat(passwd, &st) == 0);
  CHECK(stat(bb, &st) == 0);
  CHECK_INT(umount2(mnt, MNT_DETACH), 0);
}

TEST(whiteout_hides_lower_file_in_overlay)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct image_info *info = pull_ok(store, "busybox:wh");
  if (info != NULL) {
    CHECK_INT(info->n_layers, 2);
    k8c_err err = {0};
    char **dirs = image_lowerdirs(store, info, &err);
    CHECK(dirs != NULL && strv_len(dirs) == 2);
    if (dirs != NULL && strv_len(dirs) == 2)
      check_whiteout_overlay(dirs);
    strv_free(dirs);
  }
  image_info_free(info);
  image_store_close(store);
}

TEST(shared_layers_are_refcounted_on_remove)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct image_info *base = pull_ok(store, "busybox:base");
  struct image_info *wh = pull_ok(store, "busybox:wh");
  if (base == NULL || wh == NULL)
    goto out;
  CHECK_STR(base->layers[0], wh->layers[0]); /* one shared base layer */
  CHECK_INT(store_count(store, "layers"), 2);
  k8c_err err = {0};
  CHECK_INT(image_remove(store, "busybox:base", &err), 0);
  CHECK_INT(store_count(store, "layers"), 2); /* still used by wh */
  char **dirs = image_lowerdirs(store, wh, &err);
  CHECK(dirs != NULL);
  strv_free(dirs);
  CHECK_INT(image_remove(store, "busybox:base", &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK_INT(image_remove(store, wh->id, &err), 0);
  CHECK_INT(store_count(store, "layers"), 0);
  CHECK_INT(store_count(store, "blobs/sha256"), 0);
  CHECK_INT(store_count(store, "images"), 0);
out:
  image_info_free(base);
  image_info_free(wh);
  image_store_close(store);
}

TEST(unknown_image_reports_registry_reason)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct image_pull_options opts = mirror_options();
  k8c_err err = {0};
  CHECK(image_pull(store, "busybox:does-not-exist", &opts, &err) == NULL);
  CHECK_INT(err.status, 404);
  if (strstr(err.message, "manifest unknown") == NULL || strstr(err.message, "HTTP 404") == NULL ||
      strstr(err.message, "docker.io/library/busybox:does-not-exist") == NULL)
    testlib_fail(__FILE__, __LINE__, "unexpected message: %s", err.message);
  k8c_err_clear(&err);
  CHECK(image_pull(store, "nosuchrepo/app:v1", &opts, &err) == NULL);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK(image_pull(store, "Not A Reference", &opts, &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  CHECK_INT(store_count(store, "images"), 0);
  image_store_close(store);
}

TEST(corrupt_blob_is_rejected)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct image_pull_options opts = mirror_options();
  k8c_err err = {0};
  CHECK(image_pull(store, "busybox:corrupt", &opts, &err) == NULL);
  CHECK_INT(err.status, 422);
  if (strstr(err.message, "digest mismatch") == NULL)
    testlib_fail(__FILE__, __LINE__, "unexpected message: %s", err.message);
  k8c_err_clear(&err);
  CHECK_INT(store_count(store, "images"), 0);
  CHECK_INT(store_count(store, "tmp"), 0);
  image_store_close(store);
}

TEST(hanging_registry_times_out)
{
  if (!fixture())
    return;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(addr);
  CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
  CHECK(listen(fd, 16) == 0);
  CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/hang/app:v1", ntohs(addr.sin_port));
  struct image_store *store = fresh_store();
  struct image_pull_options opts = {.timeout_seconds = 2};
  k8c_err err = {0};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(image_pull(store, ref, &opts, &err) == NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  CHECK(elapsed >= 1.5 && elapsed < 8);
  CHECK_INT(err.status, 504);
  if (strstr(err.message, "no answer") == NULL)
    testlib_fail(__FILE__, __LINE__, "unexpected message: %s", err.message);
  k8c_err_clear(&err);
  close(fd);
  image_store_close(store);
}

TEST(gc_removes_unused_images_oldest_first)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct image_info *base = pull_ok(store, "busybox:base");
  struct image_info *other = pull_ok(store, "busybox:other");
  struct image_info *wh = pull_ok(store, "busybox:wh");
  k8c_err err = {0};
  size_t removed = 0;
  /* below the high threshold nothing goes */
  struct image_gc_policy relaxed = {.high_percent = 100, .low_percent = 100};
  CHECK_INT(image_gc(store, &relaxed, NULL, &removed, &err), 0);
  CHECK_INT(removed, 0);
  CHECK_INT(store_count(store, "images"), 3);
  /* past it (any usage > 0 %), everything not in use goes */
  const char *in_use[] = {"busybox:wh", NULL};
  struct image_gc_policy strict = {.high_percent = 0, .low_percent = 0};
  CHECK_INT(image_gc(store, &strict, in_use, &removed, &err), 0);
  CHECK_INT(removed, 2);
  CHECK_INT(store_count(store, "images"), 1);
  struct image_info *kept = image_get(store, "busybox:wh", &err);
  CHECK(kept != NULL);
  char **dirs = kept ? image_lowerdirs(store, kept, &err) : NULL;
  CHECK(dirs != NULL && strv_len(dirs) == 2);
  strv_free(dirs);
  CHECK_INT(store_count(store, "layers"), 2);
  image_info_free(kept);
  image_info_free(base);
  image_info_free(other);
  image_info_free(wh);
  image_store_close(store);
}

TEST(import_oci_and_docker_archives)
{
  if (!fixture())
    return;
  cleanup_free char *cmd = xasprintf(
      "cd %s && skopeo copy --quiet oci:layout:wh oci-archive:wh-oci.tar:example.com/team/wh:v1 && "
      "skopeo copy --quiet oci:layout:base docker-archive:base-docker.tar:busybox:imported "
      ">>setup.log 2>&1",
      fx.work);
  if (system(cmd) != 0) {
    testlib_fail(__FILE__, __LINE__, "skopeo could not write the archives");
    return;
  }
  struct image_store *store = fresh_store();
  k8c_err err = {0};
  struct image_info **list = NULL;
  size_t n = 0;
  cleanup_free char *oci = xasprintf("%s/wh-oci.tar", fx.work);
  if (image_import(store, oci, &list, &n, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "oci import: %s", err.message);
  } else {
    CHECK_INT(n, 1);
    CHECK_STR(list[0]->names[0], "example.com/team/wh:v1");
    CHECK_INT(list[0]->n_layers, 2);
  }
  image_info_list_free(list, n);
  cleanup_free char *docker = xasprintf("%s/base-docker.tar", fx.work);
  if (image_import(store, docker, &list, &n, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "docker import: %s", err.message);
  } else {
    CHECK_INT(n, 1);
    CHECK_STR(list[0]->names[0], "docker.io/library/busybox:imported");
    CHECK_STR(list[0]->cmd[0], "/bin/sh");
    char **dirs = image_lowerdirs(store, list[0], &err);
    cleanup_free char *bb = dirs && dirs[0] ? xasprintf("%s/bin/busybox", dirs[0]) : NULL;
    struct stat st;
    CHECK(bb != NULL && stat(bb, &st) == 0);
    strv_free(dirs);
  }
  image_info_list_free(list, n);
  CHECK_INT(store_count(store, "images"), 2);
  CHECK_INT(store_count(store, "tmp"), 0);
  /* not an archive of images */
  cleanup_free char *bogus = xasprintf("%s/registries.yaml", fx.work);
  CHECK_INT(image_import(store, bogus, &list, &n, &err), -1);
  CHECK_INT(err.status, 422);
  k8c_err_clear(&err);
  image_store_close(store);
}

static pid_t
start_fake_registry(const char *port_file, const char *log_file, int *port)
{
  const char *src = getenv("K8C_SOURCE_DIR");
  cleanup_free char *script = xasprintf("%s/tests/lib/fake_registry.py", src ? src : ".");
  pid_t pid = fork();
  if (pid == 0) {
    execlp("python3", "python3", script, port_file, "puller", "s3cret", log_file, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 100; i++) {
    cleanup_free char *text = read_small_file(port_file);
    if (text != NULL) {
      *port = atoi(text);
      return pid;
    }
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  testlib_fail(__FILE__, __LINE__, "fake registry %s did not start", script);
  return -1;
}

static struct registries_config *
credentials_for(int port, const char *password)
{
  cleanup_free char *yaml = xasprintf("configs:\n  \"127.0.0.1:%d\":\n    auth:\n"
                                      "      username: puller\n      password: %s\n",
                                      port, password);
  k8c_err err = {0};
  struct registries_config *cfg = registries_parse(yaml, strlen(yaml), &err);
  CHECK(cfg != NULL);
  return cfg;
}

TEST(bearer_token_index_and_resumed_blob)
{
  if (!fixture())
    return;
  cleanup_free char *port_file = xasprintf("%s/fake.port", fx.work);
  cleanup_free char *log_file = xasprintf("%s/fake.log", fx.work);
  int port = 0;
  pid_t pid = start_fake_registry(port_file, log_file, &port);
  if (pid < 0)
    return;
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/team/app:v1", port);
  struct image_store *store = fresh_store();
  k8c_err err = {0};
  /* no credentials: the token endpoint refuses */
  struct image_pull_options opts = {.timeout_seconds = 5};
  CHECK(image_pull(store, ref, &opts, &err) == NULL);
  CHECK_INT(err.status, 401);
  if (strstr(err.message, "bad credentials") == NULL)
    testlib_fail(__FILE__, __LINE__, "unexpected message: %s", err.message);
  k8c_err_clear(&err);
  /* wrong password: same */
  opts.registries = credentials_for(port, "wrong");
  CHECK(image_pull(store, ref, &opts, &err) == NULL);
  CHECK_INT(err.status, 401);
  k8c_err_clear(&err);
  registries_free((struct registries_config *)opts.registries);
  /* right password: token, manifest list → this platform, layer resumed after a drop */
  opts.registries = credentials_for(port, "s3cret");
  struct image_info *info = image_pull(store, ref, &opts, &err);
  if (info == NULL) {
    testlib_fail(__FILE__, __LINE__, "pull: %s", err.message);
  } else {
    CHECK_STR(info->cmd[0], "/hello");
    /* RepoDigests name the manifest list the tag resolved to, as Docker shows them */
    CHECK(strstr(info->repo_digests[0], info->manifest_digest) == NULL);
    struct image_info *by_digest = image_get(store, info->repo_digests[0], &err);
    CHECK(by_digest != NULL);
    image_info_free(by_digest);
    CHECK_STR(info->env[0], "A=1");
    char **dirs = image_lowerdirs(store, info, &err);
    cleanup_free char *hello = dirs && dirs[0] ? xasprintf("%s/hello.txt", dirs[0]) : NULL;
    cleanup_free char *text = hello ? read_small_file(hello) : NULL;
    CHECK_STR(text, "hello from the fake registry");
    strv_free(dirs);
  }
  image_info_free(info);
  registries_free((struct registries_config *)opts.registries);
  k8c_err_clear(&err);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  cleanup_free char *log_text = NULL;
  FILE *f = fopen(log_file, "r");
  size_t cap = 0;
  if (f == NULL || getdelim(&log_text, &cap, '\0', f) < 0)
    testlib_fail(__FILE__, __LINE__, "no fake registry log");
  if (f)
    fclose(f);
  CHECK(log_text && strstr(log_text, "range=bytes=") != NULL); /* resumed */
  CHECK(log_text && strstr(log_text, "auth=Bearer") != NULL);  /* token used */
  CHECK(log_text && strstr(log_text, "/token") != NULL);
  image_store_close(store);
}

struct concurrent_pull {
  struct image_store *store;
  struct image_info *info;
};

static void *
concurrent_pull_main(void *arg)
{
  struct concurrent_pull *p = arg;
  struct image_pull_options opts = mirror_options();
  k8c_err err = {0};
  p->info = image_pull(p->store, "busybox:wh", &opts, &err);
  if (p->info == NULL)
    fprintf(stderr, "concurrent pull: %s\n", err.message);
  k8c_err_clear(&err);
  return NULL;
}

TEST(concurrent_pulls_unpack_once)
{
  if (!fixture())
    return;
  struct image_store *store = fresh_store();
  struct concurrent_pull pulls[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) {
    pulls[i] = (struct concurrent_pull){.store = store};
    CHECK_INT(pthread_create(&threads[i], NULL, concurrent_pull_main, &pulls[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(threads[i], NULL);
  for (int i = 0; i < 4; i++) {
    CHECK(pulls[i].info != NULL);
    if (pulls[i].info && pulls[0].info)
      CHECK_STR(pulls[i].info->id, pulls[0].info->id);
  }
  for (int i = 0; i < 4; i++)
    image_info_free(pulls[i].info);
  CHECK_INT(store_count(store, "images"), 1);
  CHECK_INT(store_count(store, "layers"), 2);
  CHECK_INT(store_count(store, "tmp"), 0);
  image_store_close(store);
}

TEST_MAIN()
