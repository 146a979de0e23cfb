/* images_test.c — the image service's pure parts: reference normalisation, registries.yaml
 * and endpoint choice, WWW-Authenticate parsing, index platform selection, and layer
 * unpacking (whiteouts, opaque dirs, hard links, path traversal, gzip/zstd, diff digests)
 * over small tars crafted here with libarchive. */
#include "kubelet/images/auth.h"
#include "kubelet/images/images_internal.h"
#include "kubelet/images/manifest.h"
#include "kubelet/images/reference.h"
#include "kubelet/images/registries.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "testlib.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- references ---- */

static void
check_ref(const char *text, const char *canonical)
{
  struct image_ref ref;
  k8c_err err = {0};
  int rc = image_ref_parse(text, &ref, &err);
  if (rc != 0) {
    testlib_fail(__FILE__, __LINE__, "parsing \"%s\": %s", text, err.message);
    k8c_err_clear(&err);
    return;
  }
  char *s = image_ref_string(&ref);
  if (strcmp(s, canonical) != 0)
    testlib_fail(__FILE__, __LINE__, "\"%s\" → \"%s\", expected \"%s\"", text, s, canonical);
  free(s);
  image_ref_free(&ref);
}

static void
check_ref_invalid(const char *text)
{
  struct image_ref ref;
  k8c_err err = {0};
  if (image_ref_parse(text, &ref, &err) == 0) {
    testlib_fail(__FILE__, __LINE__, "\"%s\" parsed but should be invalid", text);
    image_ref_free(&ref);
    return;
  }
  if (err.status != 400 || strstr(err.message, "invalid reference format") == NULL)
    testlib_fail(__FILE__, __LINE__, "\"%s\": unexpected error %d %s", text, err.status,
                 err.message);
  k8c_err_clear(&err);
}

TEST(reference_normalisation)
{
  check_ref("busybox", "docker.io/library/busybox:latest");
  check_ref("busybox:1.36", "docker.io/library/busybox:1.36");
  check_ref("library/busybox", "docker.io/library/busybox:latest");
  check_ref("docker.io/busybox", "docker.io/library/busybox:latest");
  check_ref("index.docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25");
  check_ref("rancher/k3s:v1.30", "docker.io/rancher/k3s:v1.30");
  check_ref("ghcr.io/owner/app", "ghcr.io/owner/app:latest");
  check_ref("localhost/foo", "localhost/foo:latest");
  check_ref("localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1");
  check_ref("127.0.0.1:5000/a/b@sha256:" HEX64, "127.0.0.1:5000/a/b@sha256:" HEX64);
  check_ref("host:5000/a:tag@sha256:" HEX64, "host:5000/a:tag@sha256:" HEX64);
  check_ref("[::1]:5000/x/y:z", "[::1]:5000/x/y:z");
  check_ref("a.b-c/d__e/f-g.h_i:Tag_1.0-x", "a.b-c/d__e/f-g.h_i:Tag_1.0-x");
  check_ref("Registry/x", "Registry/x:latest"); /* upper case marks a domain, as Docker */
}

TEST(reference_parts)
{
  struct image_ref ref;
  k8c_err err = {0};
  CHECK_INT(image_ref_parse("busybox@sha256:" HEX64, &ref, &err), 0);
  CHECK_STR(ref.domain, "docker.io");
  CHECK_STR(ref.path, "library/busybox");
  CHECK(ref.tag == NULL);
  CHECK_STR(ref.digest, "sha256:" HEX64);
  CHECK_STR(image_ref_manifest_ref(&ref), "sha256:" HEX64);
  char *repo = image_ref_repository(&ref);
  CHECK_STR(repo, "docker.io/library/busybox");
  free(repo);
  image_ref_free(&ref);
  CHECK_INT(image_ref_parse("localhost:5000/app", &ref, &err), 0);
  CHECK_STR(ref.domain, "localhost:5000");
  CHECK_STR(ref.tag, "latest");
  CHECK_STR(image_ref_manifest_ref(&ref), "latest");
  image_ref_free(&ref);
}

TEST(reference_invalid)
{
  check_ref_invalid("");
  check_ref_invalid("BusyBox");
  check_ref_invalid("busybox:");
  check_ref_invalid("busybox@sha256:abc");
  check_ref_invalid("busybox@md5:" HEX64);
  check_ref_invalid(":tag");
  check_ref_invalid("a//b");
  check_ref_invalid("-a");
  check_ref_invalid("a-/b");
  check_ref_invalid("busybox:-bad");
  check_ref_invalid("busybox:.bad");
  check_ref_invalid("host:port/x");
  check_ref_invalid("host:/x");
  check_ref_invalid("a b");
  check_ref_invalid("x/y:t@");
  char long_tag[200];
  memset(long_tag, 'a', sizeof(long_tag));
  memcpy(long_tag, "busybox:", 8);
  long_tag[199] = '\0';
  check_ref_invalid(long_tag);
  char long_name[300];
  memset(long_name, 'a', sizeof(long_name));
  long_name[299] = '\0';
  check_ref_invalid(long_name);
}

/* ---- registries.yaml ---- */

static struct registries_config *
parse_registries(const char *text)
{
  k8c_err err = {0};
  struct registries_config *cfg = registries_parse(text, strlen(text), &err);
  if (cfg == NULL)
    testlib_fail(__FILE__, __LINE__, "registries: %s", err.message);
  k8c_err_clear(&err);
  return cfg;
}

static void
endpoints_for(const struct registries_config *cfg, const char *image, bool include_default,
              const char *expected)
{
  struct image_ref ref;
  k8c_err err = {0};
  if (image_ref_parse(image, &ref, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "%s", err.message);
    return;
  }
  struct registry_endpoint *eps = NULL;
  size_t n = 0;
  if (registries_endpoints(cfg, &ref, include_default, &eps, &n, &err) < 0) {
    testlib_fail(__FILE__, __LINE__, "%s", err.message);
    image_ref_free(&ref);
    return;
  }
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < n; i++)
    buf_printf(&b, "%s%s %s%s", i ? " | " : "", eps[i].api_base, eps[i].repository,
               eps[i].config ? (eps[i].config->basic_auth ? " (auth)" : " (cfg)") : "");
  if (strcmp(buf_cstr(&b), expected) != 0)
    testlib_fail(__FILE__, __LINE__, "endpoints for %s:\n  got      %s\n  expected %s", image,
                 buf_cstr(&b), expected);
  buf_free(&b);
  registry_endpoints_free(eps, n);
  image_ref_free(&ref);
}

TEST(registries_mirrors_and_defaults)
{
  struct registries_config *cfg =
      parse_registries("mirrors:\n"
                       "  docker.io:\n"
                       "    endpoint:\n"
                       "      - \"http://127.0.0.1:5000\"\n"
                       "      - \"https://mirror.example.com/prefix/\"\n"
                       "  registry.example.com:\n"
                       "    endpoint: [\"https://registry.example.com:8443/v2\"]\n"
                       "    rewrite:\n"
                       "      \"^team/(.*)\": \"mirrored/team/$1\"\n"
                       "configs:\n"
                       "  mirror.example.com:\n"
                       "    auth:\n"
                       "      username: user\n"
                       "      password: pass\n"
                       "  \"registry.example.com:8443\":\n"
                       "    tls:\n"
                       "      insecure_skip_verify: true\n"
                       "      ca_file: /etc/ca.pem\n");
  if (cfg == NULL)
    return;
  CHECK_INT(cfg->n_mirrors, 2);
  CHECK_INT(cfg->n_configs, 2);
  const struct registry_host_config *c = registries_host_config(cfg, "mirror.example.com");
  CHECK(c != NULL && c->basic_auth != NULL);
  if (c && c->basic_auth)
    CHECK_STR(c->basic_auth, "dXNlcjpwYXNz"); /* base64("user:pass") */
  c = registries_host_config(cfg, "registry.example.com:8443");
  CHECK(c != NULL && c->insecure_skip_verify);
  if (c)
    CHECK_STR(c->ca_file, "/etc/ca.pem");
  CHECK(registries_host_config(cfg, "other.example.com") == NULL);
  endpoints_for(cfg, "busybox", true,
                "http://127.0.0.1:5000/v2 library/busybox | "
                "https://mirror.example.com/prefix/v2 library/busybox (auth) | "
                "https://registry-1.docker.io/v2 library/busybox");
  endpoints_for(cfg, "busybox", false,
                "http://127.0.0.1:5000/v2 library/busybox | "
                "https://mirror.example.com/prefix/v2 library/busybox (auth)");
  endpoints_for(cfg, "registry.example.com/team/app:v1", false,
                "https://registry.example.com:8443/v2 mirrored/team/app (cfg)");
  endpoints_for(cfg, "registry.example.com/other/app:v1", false,
                "https://registry.example.com:8443/v2 other/app (cfg)");
  /* no mirror: the registry itself; loopback over plain HTTP without configuration */
  endpoints_for(cfg, "ghcr.io/o/a", true, "https://ghcr.io/v2 o/a");
  endpoints_for(cfg, "127.0.0.1:5000/a", true, "http://127.0.0.1:5000/v2 a");
  endpoints_for(cfg, "localhost:5000/a", true, "http://localhost:5000/v2 a");
  endpoints_for(cfg, "[::1]:5000/a", true, "http://[::1]:5000/v2 a");
  endpoints_for(NULL, "quay.io/a/b", true, "https://quay.io/v2 a/b");
  registries_free(cfg);
}

TEST(registries_wildcard_and_auth_field)
{
  struct registries_config *cfg = parse_registries("mirrors:\n"
                                                   "  \"*\":\n"
                                                   "    endpoint: [\"https://all.example.com\"]\n"
                                                   "configs:\n"
                                                   "  \"*\":\n"
                                                   "    auth: {auth: \"YTpi\"}\n");
  if (cfg == NULL)
    return;
  endpoints_for(cfg, "quay.io/a/b", false, "https://all.example.com/v2 a/b (auth)");
  registries_free(cfg);
}

TEST(registries_empty_and_invalid)
{
  struct registries_config *cfg = parse_registries("");
  CHECK(cfg != NULL && cfg->n_mirrors == 0 && cfg->n_configs == 0);
  registries_free(cfg);
  const char *bad[] = {
      "- a list\n",
      "mirrors: [1, 2]\n",
      "mirrors:\n  docker.io:\n    endpoint: \"http://x\"\n",
      "mirrors:\n  docker.io:\n    endpoint: [\"ftp://x\"]\n",
      "mirrors:\n  docker.io:\n    endpoint: [\"http://\"]\n",
      "mirrors:\n  docker.io:\n    rewrite: {\"(\": \"x\"}\n",
      "configs:\n  h:\n    auth: [1]\n",
      "configs:\n  h:\n    tls: {insecure_skip_verify: [1]}\n",
      "mirrors: {a: [\n",
      NULL,
  };
  for (size_t i = 0; bad[i]; i++) {
    k8c_err err = {0};
    struct registries_config *c = registries_parse(bad[i], strlen(bad[i]), &err);
    if (c != NULL) {
      testlib_fail(__FILE__, __LINE__, "accepted bad registries.yaml #%zu", i);
      registries_free(c);
    }
    CHECK_INT(err.status, 400);
    k8c_err_clear(&err);
  }
  /* a missing file is an empty config */
  k8c_err err = {0};
  cfg = registries_load("/nonexistent/registries.yaml", &err);
  CHECK(cfg != NULL && cfg->n_mirrors == 0);
  registries_free(cfg);
}

TEST(loopback_hosts)
{
  CHECK(registry_host_is_loopback("127.0.0.1:5000"));
  CHECK(registry_host_is_loopback("127.1.2.3"));
  CHECK(registry_host_is_loopback("localhost"));
  CHECK(registry_host_is_loopback("localhost:80"));
  CHECK(registry_host_is_loopback("[::1]:5000"));
  CHECK(!registry_host_is_loopback("128.0.0.1"));
  CHECK(!registry_host_is_loopback("localhost.example.com"));
  CHECK(!registry_host_is_loopback("[::2]:5000"));
}

/* ---- auth and manifests ---- */

TEST(auth_challenge)
{
  struct auth_challenge c;
  CHECK_INT(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
                                 "docker.io\",scope=\"repository:library/busybox:pull\"",
                                 &c),
            0);
  CHECK_STR(c.scheme, "Bearer");
  CHECK_STR(c.realm, "https://auth.docker.io/token");
  CHECK_STR(c.service, "registry.docker.io");
  CHECK_STR(c.scope, "repository:library/busybox:pull");
  auth_challenge_free(&c);
  CHECK_INT(auth_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
  CHECK_STR(c.scheme, "Basic");
  CHECK_STR(c.realm, "Registry Realm");
  CHECK(c.service == NULL);
  /* Basic without credentials is a clear 401 */
  k8c_err err = {0};
  char *authz = auth_authorize(&c, "a/b", NULL, 1, &err);
  CHECK(authz == NULL);
  CHECK_INT(err.status, 401);
  auth_challenge_free(&c);
  struct registry_host_config cfg = {.basic_auth = (char *)"dXNlcjpwYXNz"};
  CHECK_INT(auth_challenge_parse("basic realm=x", &c), 0);
  authz = auth_authorize(&c, "a/b", &cfg, 1, &err);
  CHECK_STR(authz, "Basic dXNlcjpwYXNz");
  free(authz);
  auth_challenge_free(&c);
  CHECK_INT(auth_challenge_parse("", &c), -1);
  auth_challenge_free(&c);
}

TEST(index_selects_platform)
{
  char text[2048];
  snprintf(
      text, sizeof(text),
      "{\"mediaType\":\"" MEDIA_OCI_INDEX "\",\"manifests\":["
      "{\"digest\":\"sha256:%064d\",\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}},"
      "{\"digest\":\"sha256:" HEX64 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}},"
      "{\"digest\":\"sha256:%064d\",\"platform\":{\"os\":\"windows\",\"architecture\":\"%s\"}}]}",
      1, manifest_native_arch(), 2, manifest_native_arch());
  json_t *index = json_loads(text, 0, NULL);
  CHECK(manifest_is_index(NULL, index));
  k8c_err err = {0};
  char *digest = manifest_index_select(index, &err);
  CHECK_STR(digest, "sha256:" HEX64);
  free(digest);
  json_decref(index);
  index = json_loads("{\"manifests\":[{\"digest\":\"sha256:" HEX64
                     "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"mips\"}}]}",
                     0, NULL);
  CHECK(manifest_index_select(index, &err) == NULL);
  CHECK_INT(err.status, 404);
  CHECK(strstr(err.message, "linux/mips") != NULL);
  k8c_err_clear(&err);
  json_decref(index);
  json_t *manifest = json_loads("{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_OCI_MANIFEST
                                "\",\"config\":{\"digest\":\"sha256:" HEX64 "\",\"size\":2},"
                                "\"layers\":[]}",
                                0, NULL);
  CHECK(!manifest_is_index(MEDIA_OCI_MANIFEST, manifest));
  struct manifest m;
  CHECK_INT(manifest_parse(manifest, &m, &err), 0);
  CHECK_INT(m.n_layers, 0);
  CHECK_INT(m.config.size, 2);
  manifest_free(&m);
  json_decref(manifest);
  manifest = json_loads("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:zz\"},\"layers\":[]}",
                        0, NULL);
  CHECK_INT(manifest_parse(manifest, &m, &err), -1);
  CHECK_INT(err.status, 422);
  k8c_err_clear(&err);
  json_decref(manifest);
}

TEST(image_config_fields)
{
  const char *config =
      "{\"config\":{\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"nginx\",\"-g\","
      "\"daemon off;\"],\"Env\":[\"PATH=/usr/bin\"],\"WorkingDir\":\"/srv\",\"User\":\"101:101\","
      "\"ExposedPorts\":{\"80/tcp\":{}},\"Labels\":{\"a\":\"b\"}},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX64 "\"]}}";
  struct image_info *info = xcalloc(1, sizeof(*info));
  k8c_err err = {0};
  CHECK_INT(image_config_parse(config, strlen(config), info, &err), 0);
  CHECK_STR(info->entrypoint[0], "/docker-entrypoint.sh");
  CHECK_STR(info->cmd[2], "daemon off;");
  CHECK(info->cmd[3] == NULL);
  CHECK_STR(info->env[0], "PATH=/usr/bin");
  CHECK_STR(info->working_dir, "/srv");
  CHECK_STR(info->user, "101:101");
  CHECK_STR(info->exposed_ports[0], "80/tcp");
  CHECK_JSON(info->labels, "{\"a\":\"b\"}");
  CHECK_INT(info->n_layers, 1);
  image_info_free(info);
}

/* ---- layer unpacking ---- */

struct tar_entry {
  const char *path;
  char type;           /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
  const char *content; /* file content, or link target */
  unsigned mode;
};

static char *
make_tar(const char *dir, const char *name, const struct tar_entry *entries, int filter,
         char uncompressed_digest[DIGEST_STRING_LEN + 1])
{
  char *path = xasprintf("%s/%s", dir, name);
  char *plain = xasprintf("%s/%s.plain", dir, name);
  for (int pass = 0; pass < 2; pass++) {
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (pass == 1 && filter == 'g')
      CHECK_INT(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    if (pass == 1 && filter == 'z')
      CHECK_INT(archive_write_add_filter_zstd(a), ARCHIVE_OK);
    archive_write_open_filename(a, pass == 0 ? plain : path);
    for (const struct tar_entry *e = entries; e->path; e++) {
      struct archive_entry *ae = archive_entry_new();
      archive_entry_set_pathname(ae, e->path);
      archive_entry_set_mtime(ae, 1700000000, 0);
      archive_entry_set_uid(ae, 1000);
      archive_entry_set_gid(ae, 1000);
      switch (e->type) {
      case 'f':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, e->mode ? e->mode : 0644);
        archive_entry_set_size(ae, (la_int64_t)strlen(e->content));
        break;
      case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        archive_entry_set_perm(ae, e->mode ? e->mode : 0755);
        break;
      case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_perm(ae, 0777);
        archive_entry_set_symlink(ae, e->content);
        break;
      case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_hardlink(ae, e->content);
        break;
      }
      archive_write_header(a, ae);
      if (e->type == 'f')
        archive_write_data(a, e->content, strlen(e->content));
      archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
  }
  k8c_err err = {0};
  if (uncompressed_digest)
    digest_file(plain, uncompressed_digest, &err);
  unlink(plain);
  free(plain);
  /* the compressed file really is compressed: check its magic */
  unsigned char magic[4] = {0};
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL && fread(magic, 1, 4, f) == 4);
  if (f)
    fclose(f);
  if (filter == 'g')
    CHECK(magic[0] == 0x1f && magic[1] == 0x8b);
  if (filter == 'z')
    CHECK(magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd);
  return path;
}

static char *
temp_dir(void)
{
  char *dir = xstrdup("/tmp/k8c-images-test.XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  return dir;
}

static void
unpack_layer_with(int filter)
{
  cleanup_free char *dir = temp_dir();
  const struct tar_entry entries[] = {
      {"./", 'd', NULL, 0755},
      {"etc/", 'd', NULL, 0755},
      {"etc/hostname", 'f', "node\n", 0600},
      {"etc/.wh.motd", 'f', "", 0},
      {"var/", 'd', NULL, 0755},
      {"var/cache/", 'd', NULL, 0700},
      {"var/cache/.wh..wh..opq", 'f', "", 0},
      {"var/cache/fresh", 'f', "new", 0},
      {"bin/", 'd', NULL, 0755},
      {"bin/busybox", 'f', "#!binary", 0755},
      {"bin/sh", 'l', "busybox", 0},
      {"bin/hard", 'h', "bin/busybox", 0},
      {"/abs/file", 'f', "absolute paths stay inside", 0},
      {NULL, 0, NULL, 0},
  };
  char want[DIGEST_STRING_LEN + 1];
  cleanup_free char *tar = make_tar(dir, "layer.tar", entries, filter, want);
  cleanup_free char *dest = xasprintf("%s/out", dir);
  mkdir(dest, 0755);
  k8c_err err = {0};
  char got[DIGEST_STRING_LEN + 1] = "";
  int rc = layer_unpack(tar, dest, got, &err);
  CHECK_INT(rc, 0);
  if (rc != 0)
    fprintf(stderr, "layer_unpack: %s\n", err.message);
  CHECK_STR(got, want);
  struct stat st;
  cleanup_free char *hostname = xasprintf("%s/etc/hostname", dest);
  CHECK(stat(hostname, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_uid == 1000);
  cleanup_free char *motd = xasprintf("%s/etc/motd", dest);
  CHECK(lstat(motd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  cleanup_free char *wh = xasprintf("%s/etc/.wh.motd", dest);
  CHECK(lstat(wh, &st) != 0);
  cleanup_free char *cache = xasprintf("%s/var/cache", dest);
  char value[8] = "";
  CHECK_INT(lgetxattr(cache, "trusted.overlay.opaque", value, sizeof(value)), 1);
  CHECK(value[0] == 'y');
  cleanup_free char *opq = xasprintf("%s/var/cache/.wh..wh..opq", dest);
  CHECK(lstat(opq, &st) != 0);
  cleanup_free char *fresh = xasprintf("%s/var/cache/fresh", dest);
  CHECK(stat(fresh, &st) == 0);
  cleanup_free char *sh = xasprintf("%s/bin/sh", dest);
  char target[64] = "";
  CHECK(readlink(sh, target, sizeof(target) - 1) == 7);
  CHECK_STR(target, "busybox");
  cleanup_free char *hard = xasprintf("%s/bin/hard", dest);
  cleanup_free char *bb = xasprintf("%s/bin/busybox", dest);
  struct stat st2;
  CHECK(stat(hard, &st) == 0 && stat(bb, &st2) == 0 && st.st_ino == st2.st_ino);
  CHECK((st2.st_mode & 0777) == 0755);
  cleanup_free char *abs = xasprintf("%s/abs/file", dest);
  CHECK(stat(abs, &st) == 0);
  remove_tree(dir);
}

TEST(unpack_plain_tar)
{
  unpack_layer_with(0);
}

TEST(unpack_gzip_layer)
{
  unpack_layer_with('g');
}

TEST(unpack_zstd_layer)
{
  unpack_layer_with('z');
}

static void
expect_refused(const struct tar_entry *entries, const char *message_part)
{
  cleanup_free char *dir = temp_dir();
  cleanup_free char *tar = make_tar(dir, "evil.tar", entries, 0, NULL);
  cleanup_free char *dest = xasprintf("%s/out/root", dir);
  k8c_err err = {0};
  mkdir_p(dest, 0755, &err);
  CHECK_INT(layer_unpack(tar, dest, NULL, &err), -1);
  CHECK_INT(err.status, 422);
  if (strstr(err.message, message_part) == NULL)
    testlib_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err.message, message_part);
  k8c_err_clear(&err);
  /* nothing landed next to the root */
  cleanup_free char *outside = xasprintf("%s/out/escaped", dir);
  struct stat st;
  CHECK(lstat(outside, &st) != 0);
  cleanup_free char *outside2 = xasprintf("%s/escaped", dir);
  CHECK(lstat(outside2, &st) != 0);
  remove_tree(dir);
}

TEST(unpack_refuses_traversal)
{
  const struct tar_entry dotdot[] = {{"../escaped", 'f', "x", 0}, {NULL, 0, NULL, 0}};
  expect_refused(dotdot, "escapes the root");
  const struct tar_entry deep[] = {{"a/../../escaped", 'f', "x", 0}, {NULL, 0, NULL, 0}};
  expect_refused(deep, "escapes the root");
  const struct tar_entry hard[] = {{"link", 'h', "../../escaped", 0}, {NULL, 0, NULL, 0}};
  expect_refused(hard, "escapes the root");
  /* a symlink to the outside, then a file through it */
  const struct tar_entry through[] = {
      {"up", 'l', "..", 0}, {"up/escaped", 'f', "x", 0}, {NULL, 0, NULL, 0}};
  expect_refused(through, "unpacking up/escaped");
  const struct tar_entry wh_through[] = {
      {"up", 'l', "..", 0}, {"up/.wh.escaped", 'f', "", 0}, {NULL, 0, NULL, 0}};
  expect_refused(wh_through, "not a directory");
}

TEST(unpack_rejects_garbage)
{
  cleanup_free char *dir = temp_dir();
  cleanup_free char *path = xasprintf("%s/garbage", dir);
  FILE *f = fopen(path, "w");
  for (int i = 0; i < 2000; i++)
    fputc((i * 7919) & 0xff, f);
  fclose(f);
  cleanup_free char *dest = xasprintf("%s/out", dir);
  mkdir(dest, 0755);
  k8c_err err = {0};
  CHECK_INT(layer_unpack(path, dest, NULL, &err), -1);
  CHECK_INT(err.status, 422);
  k8c_err_clear(&err);
  remove_tree(dir);
}

TEST_MAIN()
