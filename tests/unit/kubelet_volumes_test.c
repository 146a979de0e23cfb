/* kubelet_volumes_test.c — the volume code that needs no mounts: path validation and
 * subPath resolution, the atomic writer's layout and swaps, ConfigMap/Secret/downward
 * API projection, and a pod's disk-backed volumes and container mounts end to end in a
 * temp dir (tmpfs-backed kinds are covered by tests/storage/volumes_test.c). */
#include "kubelet/runtime/fsutil.h"
#include "kubelet/volumes/volpath.h"
#include "kubelet/volumes/volumes_internal.h"
#include "lib/mem.h"
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------- fixtures ---------- */

static char *
temp_dir(void)
{
  char *dir = xstrdup("/tmp/k8c-volunit-XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  return dir;
}

static void
remove_dir(char *dir)
{
  k8c_err err = {0};
  CHECK_INT(fs_remove_tree(dir, &err), 0);
  k8c_err_clear(&err);
  free(dir);
}

/* Objects served by the fake getters: {"configmaps": {"ns/name": obj}, "secrets": {...}}. */
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

static struct volume_sources
sources_for(json_t *store)
{
  struct volume_sources src = {0};
  src.objects.ctx = store;
  src.objects.get_configmap = fake_configmap;
  src.objects.get_secret = fake_secret;
  return src;
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

static mode_t
mode_of(const char *dir, const char *rel)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, rel);
  struct stat st;
  return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

static char *
link_of(const char *dir, const char *rel)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, rel);
  char target[PATH_MAX];
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0)
    return NULL;
  target[n] = '\0';
  return xstrdup(target);
}

/* ---------- paths ---------- */

TEST(item_paths_follow_upstream_rules)
{
  k8c_err err = {0};
  CHECK_INT(volpath_validate_item("key", &err), 0);
  CHECK_INT(volpath_validate_item("a/b/c.txt", &err), 0);
  CHECK_INT(volpath_validate_item("..a", &err), -1);
  CHECK_STR(err.message, "invalid path: must not start with '..': ..a");
  k8c_err_clear(&err);
  CHECK_INT(volpath_validate_item("a/../../etc", &err), -1);
  CHECK_STR(err.message, "invalid path: must not contain '..': a/../../etc");
  k8c_err_clear(&err);
  CHECK_INT(volpath_validate_item("/etc/passwd", &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(volpath_validate_item("", &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(volpath_validate_item("./", &err), -1);
  k8c_err_clear(&err);
  char longname[300];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK_INT(volpath_validate_item(longname, &err), -1);
  k8c_err_clear(&err);
}

TEST(subpaths_and_cleaning)
{
  k8c_err err = {0};
  CHECK_INT(volpath_validate_subpath("", &err), 0);
  CHECK_INT(volpath_validate_subpath("data/x", &err), 0);
  CHECK_INT(volpath_validate_subpath("a/..", &err), -1);
  k8c_err_clear(&err);
  CHECK_INT(volpath_validate_subpath("/abs", &err), -1);
  k8c_err_clear(&err);
  cleanup_free char *c1 = volpath_clean("a//./b/");
  CHECK_STR(c1, "a/b");
  cleanup_free char *c2 = volpath_clean("./.");
  CHECK_STR(c2, "");
  CHECK(volpath_within("/v", "/v"));
  CHECK(volpath_within("/v", "/v/x"));
  CHECK(!volpath_within("/v", "/vx"));
  CHECK(!volpath_within("/v/a", "/v"));
  CHECK(volpath_within("/", "/anything"));
}

TEST(subpath_resolution_creates_and_refuses_escapes)
{
  char *dir = temp_dir();
  cleanup_free char *vol = xasprintf("%s/vol", dir);
  cleanup_free char *outside = xasprintf("%s/outside", dir);
  CHECK_INT(mkdir(vol, 0755), 0);
  CHECK_INT(mkdir(outside, 0755), 0);
  k8c_err err = {0};
  char *real = NULL;
  CHECK_INT(volpath_resolve_in(vol, "a/b", false, &real, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK_INT(volpath_resolve_in(vol, "a/b", true, &real, &err), 0);
  cleanup_free char *expect = xasprintf("%s/a/b", vol);
  CHECK_STR(real, expect);
  free(real);
  /* a symlink pointing out of the volume, directly or on the way */
  cleanup_free char *esc = xasprintf("%s/esc", vol);
  CHECK_INT(symlink(outside, esc), 0);
  CHECK_INT(volpath_resolve_in(vol, "esc", true, &real, &err), -1);
  CHECK(strstr(err.message, "not within volume path") != NULL);
  k8c_err_clear(&err);
  CHECK_INT(volpath_resolve_in(vol, "esc/new", true, &real, &err), -1);
  k8c_err_clear(&err);
  cleanup_free char *made = xasprintf("%s/new", outside);
  CHECK(access(made, F_OK) < 0); /* nothing was created outside */
  cleanup_free char *up = xasprintf("%s/up", vol);
  CHECK_INT(symlink("../outside", up), 0);
  CHECK_INT(volpath_resolve_in(vol, "up", false, &real, &err), -1);
  k8c_err_clear(&err);
  /* a symlink that stays inside is fine */
  cleanup_free char *in = xasprintf("%s/in", vol);
  CHECK_INT(symlink("a", in), 0);
  CHECK_INT(volpath_resolve_in(vol, "in/b", false, &real, &err), 0);
  CHECK_STR(real, expect);
  free(real);
  remove_dir(dir);
}

/* ---------- atomic writer ---------- */

TEST(atomic_writer_layout_modes_and_swap)
{
  char *dir = temp_dir();
  struct payload p = {0};
  payload_put(&p, "one", "1", 1, 0644);
  payload_put(&p, "sub/two", "22", 2, 0400);
  bool changed = false;
  k8c_err err = {0};
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), 0);
  CHECK(changed);
  cleanup_free char *v1 = link_of(dir, "..data");
  CHECK(v1 != NULL && strncmp(v1, "..", 2) == 0 &&
        strlen(v1) == strlen("..2026_01_01_00_00_00.123456789"));
  cleanup_free char *l1 = link_of(dir, "one");
  CHECK_STR(l1, "..data/one");
  cleanup_free char *l2 = link_of(dir, "sub");
  CHECK_STR(l2, "..data/sub");
  cleanup_free char *t1 = read_text(dir, "one");
  CHECK_STR(t1, "1");
  cleanup_free char *t2 = read_text(dir, "sub/two");
  CHECK_STR(t2, "22");
  CHECK_INT(mode_of(dir, "one"), 0644);
  CHECK_INT(mode_of(dir, "sub/two"), 0400);
  CHECK_INT(mode_of(dir, v1), 0755);

  /* the same payload publishes nothing */
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), 0);
  CHECK(!changed);
  cleanup_free char *same = link_of(dir, "..data");
  CHECK_STR(same, v1);

  /* a new version: one changes, sub goes away, three appears; the old version stays until
   * the next write (for readers that resolved ..data just before the swap) */
  payload_clear(&p);
  payload_put(&p, "one", "uno", 3, 0600);
  payload_put(&p, "three", "3", 1, 0644);
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), 0);
  CHECK(changed);
  cleanup_free char *v2 = link_of(dir, "..data");
  CHECK(v2 != NULL && strcmp(v2, v1) != 0);
  cleanup_free char *old = xasprintf("%s/%s", dir, v1);
  CHECK(access(old, F_OK) == 0);
  cleanup_free char *sub = xasprintf("%s/sub", dir);
  struct stat st;
  CHECK(lstat(sub, &st) < 0);
  cleanup_free char *t3 = read_text(dir, "one");
  CHECK_STR(t3, "uno");
  CHECK_INT(mode_of(dir, "one"), 0600);
  cleanup_free char *t4 = read_text(dir, "three");
  CHECK_STR(t4, "3");
  cleanup_free char *tmp = xasprintf("%s/..data_tmp", dir);
  CHECK(lstat(tmp, &st) < 0);

  /* a mode change alone is a change */
  payload_clear(&p);
  payload_put(&p, "one", "uno", 3, 0640);
  payload_put(&p, "three", "3", 1, 0644);
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), 0);
  CHECK(changed);
  CHECK_INT(mode_of(dir, "one"), 0640);
  CHECK(access(old, F_OK) < 0); /* two versions back: removed */
  cleanup_free char *v2_dir = xasprintf("%s/%s", dir, v2);
  CHECK(access(v2_dir, F_OK) == 0);

  /* an invalid path publishes nothing */
  payload_put(&p, "../x", "x", 1, 0644);
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), -1);
  CHECK(!changed);
  k8c_err_clear(&err);
  payload_clear(&p);
  remove_dir(dir);
}

TEST(atomic_writer_binary_and_empty)
{
  char *dir = temp_dir();
  struct payload p = {0};
  payload_put(&p, "bin", "a\0b", 3, 0644);
  payload_put(&p, "empty", "", 0, 0644);
  bool changed;
  k8c_err err = {0};
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), 0);
  size_t len = 0;
  cleanup_free char *bin = atomic_writer_read(dir, "bin", &len);
  CHECK_INT(len, 3);
  CHECK(bin && memcmp(bin, "a\0b", 3) == 0);
  cleanup_free char *empty = atomic_writer_read(dir, "empty", &len);
  CHECK(empty != NULL);
  CHECK_INT(len, 0);
  CHECK_INT(atomic_writer_write(dir, &p, -1, &changed, &err), 0);
  CHECK(!changed);
  payload_clear(&p);
  remove_dir(dir);
}

/* ---------- projections ---------- */

TEST(downward_map_format)
{
  json_t *m = json_pack("{s:s, s:s, s:s}", "b", "two", "a", "say \"hi\"\n", "c", "");
  cleanup_free char *text = downward_format_map(m);
  CHECK_STR(text, "a=\"say \\\"hi\\\"\\n\"\nb=\"two\"\nc=\"\"");
  cleanup_free char *none = downward_format_map(NULL);
  CHECK_STR(none, "");
  json_decref(m);
}

TEST(keyed_items_modes_and_missing_keys)
{
  json_t *cm =
      json_pack("{s:{s:s, s:s}, s:{s:s}}", "data", "a", "A", "b", "B", "binaryData", "bin", "AAE=");
  struct payload p = {0};
  k8c_err err = {0};
  CHECK_INT(keyed_project(cm, false, NULL, 0644, false, &p, &err), 0);
  CHECK_INT(p.len, 3);
  CHECK(payload_get(&p, "bin") && payload_get(&p, "bin")->len == 2);
  payload_clear(&p);
  json_t *items = json_pack("[{s:s, s:s, s:i}, {s:s, s:s}]", "key", "a", "path", "x/a.txt", "mode",
                            0400, "key", "b", "path", "b");
  CHECK_INT(keyed_project(cm, false, items, 0600, false, &p, &err), 0);
  CHECK_INT(p.len, 2);
  CHECK_INT(payload_get(&p, "x/a.txt")->mode, 0400);
  CHECK_INT(payload_get(&p, "b")->mode, 0600);
  payload_clear(&p);
  json_t *bad = json_pack("[{s:s, s:s}]", "key", "nope", "path", "n");
  CHECK_INT(keyed_project(cm, false, bad, 0644, false, &p, &err), -1);
  CHECK_STR(err.message, "configmap references non-existent config key: nope");
  k8c_err_clear(&err);
  CHECK_INT(keyed_project(cm, false, bad, 0644, true, &p, &err), 0);
  CHECK_INT(p.len, 0);
  json_t *escape = json_pack("[{s:s, s:s}]", "key", "a", "path", "../a");
  CHECK_INT(keyed_project(cm, false, escape, 0644, false, &p, &err), -1);
  k8c_err_clear(&err);
  json_t *secret = json_pack("{s:{s:s}}", "data", "pw", "aHVudGVyMg==");
  CHECK_INT(keyed_project(secret, true, NULL, 0644, false, &p, &err), 0);
  CHECK_STR(payload_get(&p, "pw")->data, "hunter2");
  payload_clear(&p);
  json_t *bad_secret = json_pack("[{s:s, s:s}]", "key", "x", "path", "x");
  CHECK_INT(keyed_project(secret, true, bad_secret, 0644, false, &p, &err), -1);
  CHECK_STR(err.message, "secret references non-existent secret key: x");
  k8c_err_clear(&err);
  payload_clear(&p);
  json_decref(cm);
  json_decref(items);
  json_decref(bad);
  json_decref(escape);
  json_decref(secret);
  json_decref(bad_secret);
}

/* ---------- a pod's disk-backed volumes ---------- */

static json_t *
test_pod(const char *hostpath)
{
  cleanup_free char *text = xasprintf(
      "{\"metadata\": {\"name\": \"web\", \"namespace\": \"ns1\", \"uid\": \"u-1\","
      "  \"labels\": {\"tier\": \"front\", \"app\": \"web\"}, \"annotations\": {\"note\": \"x\"}},"
      " \"spec\": {\"containers\": [{\"name\": \"c\", \"resources\": {\"limits\": {\"memory\": "
      "\"64Mi\"}}}],"
      "  \"volumes\": ["
      "   {\"name\": \"scratch\", \"emptyDir\": {}},"
      "   {\"name\": \"host\", \"hostPath\": {\"path\": \"%s\", \"type\": \"DirectoryOrCreate\"}},"
      "   {\"name\": \"cfg\", \"configMap\": {\"name\": \"cfg\", \"defaultMode\": 416,"
      "     \"items\": [{\"key\": \"a\", \"path\": \"conf/a.conf\", \"mode\": 384}]}},"
      "   {\"name\": \"opt\", \"configMap\": {\"name\": \"missing\", \"optional\": true}},"
      "   {\"name\": \"info\", \"downwardAPI\": {\"items\": ["
      "     {\"path\": \"labels\", \"fieldRef\": {\"fieldPath\": \"metadata.labels\"}},"
      "     {\"path\": \"name\", \"fieldRef\": {\"fieldPath\": \"metadata.name\"}},"
      "     {\"path\": \"mem\", \"resourceFieldRef\": {\"containerName\": \"c\","
      "      \"resource\": \"limits.memory\", \"divisor\": \"1Mi\"}}]}}]}}",
      hostpath);
  json_error_t jerr;
  json_t *pod = json_loads(text, 0, &jerr);
  if (pod == NULL)
    fprintf(stderr, "test pod: %s\n", jerr.text);
  return pod;
}

TEST(pod_disk_volumes_setup_update_teardown)
{
  char *dir = temp_dir();
  cleanup_free char *host = xasprintf("%s/host/data", dir);
  cleanup_free char *pod_dir = xasprintf("%s/pod", dir);
  json_t *pod = test_pod(host);
  CHECK(pod != NULL);
  json_t *store = json_pack("{s:{s:{s:{s:s, s:s}}}, s:{}}", "configmaps", "ns1/cfg", "data", "a",
                            "A1", "b", "B1", "secrets");
  struct volume_sources src = sources_for(store);
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  CHECK_INT(volumes_setup(pod, pod_dir, &src, &vols, &err), 0);
  if (err.status)
    fprintf(stderr, "%s\n", err.message);
  CHECK_INT(vols.len, 5);
  struct stat st;
  CHECK(stat(host, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
  cleanup_free char *scratch = xasprintf("%s/volumes/kubernetes.io~empty-dir/scratch", pod_dir);
  CHECK_STR(pod_volumes_find(&vols, "scratch")->path, scratch);
  CHECK_STR(pod_volumes_find(&vols, "host")->path, host);
  const struct pod_volume *cfg = pod_volumes_find(&vols, "cfg");
  CHECK(cfg && cfg->readonly && !cfg->tmpfs);
  cleanup_free char *a = read_text(cfg->path, "conf/a.conf");
  CHECK_STR(a, "A1");
  CHECK_INT(mode_of(cfg->path, "conf/a.conf"), 0600);
  cleanup_free char *b = xasprintf("%s/b", cfg->path);
  CHECK(access(b, F_OK) < 0); /* items select keys */
  const struct pod_volume *opt = pod_volumes_find(&vols, "opt");
  cleanup_free char *optdata = link_of(opt->path, "..data");
  CHECK(optdata != NULL); /* an empty but published volume */
  const struct pod_volume *info = pod_volumes_find(&vols, "info");
  cleanup_free char *labels = read_text(info->path, "labels");
  CHECK_STR(labels, "app=\"web\"\ntier=\"front\"");
  cleanup_free char *name = read_text(info->path, "name");
  CHECK_STR(name, "web");
  cleanup_free char *mem = read_text(info->path, "mem");
  CHECK_STR(mem, "64");
  CHECK_INT(mode_of(info->path, "name"), 0644);

  /* nothing changed: no update */
  CHECK_INT(volumes_update(pod, pod_dir, &src, &vols, &err), 0);
  /* the ConfigMap and a label change */
  json_object_set_new(
      json_object_get(json_object_get(json_object_get(store, "configmaps"), "ns1/cfg"), "data"),
      "a", json_string("A2"));
  json_object_set_new(json_object_get(json_object_get(pod, "metadata"), "labels"), "tier",
                      json_string("back"));
  CHECK_INT(volumes_update(pod, pod_dir, &src, &vols, &err), 1);
  cleanup_free char *a2 = read_text(cfg->path, "conf/a.conf");
  CHECK_STR(a2, "A2");
  cleanup_free char *labels2 = read_text(info->path, "labels");
  CHECK_STR(labels2, "app=\"web\"\ntier=\"back\"");
  /* the ConfigMap disappears: an error, the old content stays */
  json_object_del(json_object_get(store, "configmaps"), "ns1/cfg");
  CHECK_INT(volumes_update(pod, pod_dir, &src, &vols, &err), -1);
  CHECK_STR(err.message,
            "MountVolume.SetUp failed for volume \"cfg\" : configmap \"cfg\" not found");
  k8c_err_clear(&err);
  cleanup_free char *a3 = read_text(cfg->path, "conf/a.conf");
  CHECK_STR(a3, "A2");

  /* teardown removes the pod's volumes, twice is fine, the hostPath stays */
  cleanup_free char *keep = xasprintf("%s/keep", host);
  CHECK_INT(fs_write_file(keep, "k", 1, 0644, &err), 0);
  CHECK_INT(volumes_teardown(pod_dir, &err), 0);
  CHECK_INT(volumes_teardown(pod_dir, &err), 0);
  cleanup_free char *vroot = xasprintf("%s/volumes", pod_dir);
  CHECK(access(vroot, F_OK) < 0);
  CHECK(access(keep, F_OK) == 0);
  pod_volumes_clear(&vols);
  json_decref(pod);
  json_decref(store);
  remove_dir(dir);
}

TEST(missing_sources_and_unsupported_kinds)
{
  char *dir = temp_dir();
  json_t *store = json_pack("{s:{}, s:{}}", "configmaps", "secrets");
  struct volume_sources src = sources_for(store);
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  static const struct {
    const char *volume, *message;
  } cases[] = {
      {"{\"name\":\"c\",\"configMap\":{\"name\":\"nope\"}}",
       "MountVolume.SetUp failed for volume \"c\" : configmap \"nope\" not found"},
      {"{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}}",
       "MountVolume.SetUp failed for volume \"d\" : persistentvolumeclaim \"data\" not found"},
      {"{\"name\":\"n\",\"nfs\":{\"server\":\"s\",\"path\":\"/\"}}",
       "MountVolume.SetUp failed for volume \"n\" : volume type nfs is not supported on this node"},
      {"{\"name\":\"h\",\"hostPath\":{\"path\":\"/proc/self/status\",\"type\":\"Directory\"}}",
       "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: "
       "/proc/self/status is not a directory"},
      {"{\"name\":\"h\",\"hostPath\":{\"path\":\"/tmp\",\"type\":\"File\"}}",
       "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: /tmp is not a "
       "file"},
      {"{\"name\":\"h\",\"hostPath\":{\"path\":\"/tmp\",\"type\":\"Socket\"}}",
       "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: /tmp is not a "
       "socket file"},
      {"{\"name\":\"h\",\"hostPath\":{\"path\":\"/dev/null\",\"type\":\"BlockDevice\"}}",
       "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: /dev/null is not "
       "a block device"},
      {"{\"name\":\"h\",\"hostPath\":{\"path\":\"/tmp\",\"type\":\"CharDevice\"}}",
       "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: /tmp is not a "
       "character device"},
      {"{\"name\":\"h\",\"hostPath\":{\"path\":\"/tmp\",\"type\":\"Weird\"}}",
       "MountVolume.SetUp failed for volume \"h\" : Weird is an invalid volume type"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *pod = json_pack("{s:{s:s}, s:{s:[o]}}", "metadata", "name", "p", "spec", "volumes",
                            json_loads(cases[i].volume, 0, NULL));
    CHECK_INT(volumes_setup(pod, dir, &src, &vols, &err), -1);
    CHECK_STR(err.message, cases[i].message);
    k8c_err_clear(&err);
    json_decref(pod);
  }
  /* hostPath types that pass */
  CHECK_INT(host_path_check_type("/dev/null", "CharDevice", &err), 0);
  CHECK_INT(host_path_check_type("/proc/self/status", "File", &err), 0);
  cleanup_free char *file = xasprintf("%s/made/f", dir);
  CHECK_INT(host_path_check_type(file, "File", &err), -1);
  k8c_err_clear(&err);
  cleanup_free char *made = xasprintf("%s/made", dir);
  CHECK_INT(host_path_check_type(made, "DirectoryOrCreate", &err), 0);
  CHECK_INT(host_path_check_type(file, "FileOrCreate", &err), 0);
  CHECK_INT(mode_of(dir, "made/f"), 0644);
  CHECK_INT(mode_of(dir, "made"), 0755);
  CHECK_INT(volumes_teardown(dir, &err), 0);
  json_decref(store);
  remove_dir(dir);
}

/* ---------- container mounts ---------- */

TEST(container_mounts_subpaths_and_readonly)
{
  char *dir = temp_dir();
  cleanup_free char *pod_dir = xasprintf("%s/pod", dir);
  json_t *store = json_pack("{s:{s:{s:{s:s}}}, s:{}}", "configmaps", "default/cfg", "data", "k",
                            "v", "secrets");
  struct volume_sources src = sources_for(store);
  json_t *pod =
      json_pack("{s:{s:s}, s:{s:[{s:s, s:{}}, {s:s, s:{s:s}}]}}", "metadata", "name", "p", "spec",
                "volumes", "name", "data", "emptyDir", "name", "cfg", "configMap", "name", "cfg");
  struct pod_volumes vols = {0};
  k8c_err err = {0};
  CHECK_INT(volumes_setup(pod, pod_dir, &src, &vols, &err), 0);
  const char *data = pod_volumes_find(&vols, "data")->path;
  const char *cfg = pod_volumes_find(&vols, "cfg")->path;
  json_t *container = json_pack(
      "{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s, s:b}, {s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "name", "c",
      "volumeMounts", "name", "data", "mountPath", "/data", "name", "data", "mountPath", "/logs",
      "subPath", "logs/c", "readOnly", 1, "name", "data", "mountPath", "/per-pod", "subPathExpr",
      "pods/$(POD)", "name", "cfg", "mountPath", "/etc/k", "subPath", "k");
  struct env_var vars[] = {{"POD", "p"}};
  struct env_list env = {vars, 1};
  struct mount_spec *mounts = NULL;
  size_t n = 0;
  CHECK_INT(volumes_mounts_for_container(pod, container, &vols, &env, &mounts, &n, &err), 0);
  CHECK_INT(n, 4);
  CHECK_STR(mounts[0].source, data);
  CHECK_STR(mounts[0].destination, "/data");
  CHECK(!mounts[0].readonly && mounts[0].kind == MOUNT_BIND);
  cleanup_free char *logs = xasprintf("%s/logs/c", data);
  CHECK_STR(mounts[1].source, logs);
  CHECK(mounts[1].readonly);
  struct stat st;
  CHECK(stat(logs, &st) == 0 && S_ISDIR(st.st_mode));
  cleanup_free char *per_pod = xasprintf("%s/pods/p", data);
  CHECK_STR(mounts[2].source, per_pod);
  /* a configMap key through its links resolves to the file of the current version */
  cleanup_free char *version = link_of(cfg, "..data");
  cleanup_free char *key = xasprintf("%s/%s/k", cfg, version);
  CHECK_STR(mounts[3].source, key);
  CHECK(mounts[3].readonly);
  volumes_mounts_free(mounts, n);

  static const struct {
    const char *mount, *message;
  } bad[] = {
      {"{\"name\":\"data\",\"mountPath\":\"/x\",\"subPath\":\"../../etc\"}",
       "failed to prepare subPath for volumeMount \"data\" of container \"c\": subPath ../../etc: "
       "must not contain '..'"},
      {"{\"name\":\"data\",\"mountPath\":\"/x\",\"subPathExpr\":\"$(NOPE)/$(ALSO)\"}",
       "failed to prepare subPath for volumeMount \"data\" of container \"c\": missing value for "
       "ALSO, NOPE"},
      {"{\"name\":\"data\",\"mountPath\":\"/x\",\"subPathExpr\":\"$(UP)\"}",
       "failed to prepare subPath for volumeMount \"data\" of container \"c\": subPath ..: must "
       "not contain '..'"},
      {"{\"name\":\"gone\",\"mountPath\":\"/x\"}",
       "cannot find volume \"gone\" to mount into container \"c\""},
  };
  struct env_var up_vars[] = {{"UP", ".."}};
  struct env_list up_env = {up_vars, 1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *c =
        json_pack("{s:s, s:[o]}", "name", "c", "volumeMounts", json_loads(bad[i].mount, 0, NULL));
    CHECK_INT(volumes_mounts_for_container(pod, c, &vols, &up_env, &mounts, &n, &err), -1);
    CHECK_STR(err.message, bad[i].message);
    k8c_err_clear(&err);
    json_decref(c);
  }
  /* a symlink planted in the volume that leads out is refused, and nothing is created */
  cleanup_free char *evil = xasprintf("%s/evil", data);
  CHECK_INT(symlink("/", evil), 0);
  json_t *c = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "c", "volumeMounts", "name", "data",
                        "mountPath", "/x", "subPath", "evil/tmp/k8c-volunit-escape");
  CHECK_INT(volumes_mounts_for_container(pod, c, &vols, NULL, &mounts, &n, &err), -1);
  CHECK(strstr(err.message, "not within volume path") != NULL);
  CHECK(access("/tmp/k8c-volunit-escape", F_OK) < 0);
  k8c_err_clear(&err);
  /* a missing subPath in a configMap volume is not created */
  json_t *c2 = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "c", "volumeMounts", "name", "cfg",
                         "mountPath", "/x", "subPath", "nokey");
  CHECK_INT(volumes_mounts_for_container(pod, c2, &vols, NULL, &mounts, &n, &err), -1);
  CHECK_INT(err.status, 404);
  k8c_err_clear(&err);
  CHECK_INT(volumes_teardown(pod_dir, &err), 0);
  pod_volumes_clear(&vols);
  json_decref(c);
  json_decref(c2);
  json_decref(container);
  json_decref(pod);
  json_decref(store);
  remove_dir(dir);
}

TEST_MAIN()
