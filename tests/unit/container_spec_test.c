/* container_spec_test.c — PodSpec container → runtime container_spec: argv rules
 * (command/args vs Entrypoint/Cmd, $(VAR) expansion), env merging, working dir, user
 * resolution and runAsNonRoot, resources, security settings, log path, and the kubelet's
 * container id round trip. */
#include "kubelet/container_spec.h"
#include "kubelet/kubelet_internal.h"
#include "lib/mem.h"
#include "testlib.h"

#include <string.h>

static json_t *
pod_of(const char *container_json, const char *pod_security)
{
  cleanup_free char *text =
      xasprintf("{\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\",\"uid\":\"u-1\"},"
                "\"spec\":{\"securityContext\":%s,\"containers\":[%s]},\"status\":{\"qosClass\":"
                "\"Burstable\"}}",
                pod_security ? pod_security : "{}", container_json);
  json_error_t e;
  json_t *pod = json_loads(text, 0, &e);
  if (pod == NULL) {
    fprintf(stderr, "bad test JSON: %s\n", e.text);
    abort();
  }
  return pod;
}

static char *entry[] = {"/docker-entrypoint.sh", NULL};
static char *cmd[] = {"nginx", "-g", "daemon off;", NULL};
static char *img_env[] = {"PATH=/usr/bin:/bin", "NGINX_VERSION=1.27", NULL};

static struct image_info
image(const char *user)
{
  return (struct image_info){
      .entrypoint = entry, .cmd = cmd, .env = img_env, .working_dir = "/srv", .user = (char *)user};
}

static const char *passwd = "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102::/:/bin/false\n";
static const char *group = "root:x:0:\nweb:x:300:\n";

/* Builds with a resolved env of GREETING=hi; oom_floor > -1000: a node that cannot lower
 * oom_score_adj below it. */
static int
build_on(json_t *pod, const struct image_info *img, int oom_floor, struct built_container *b,
         k8c_err *err)
{
  struct env_var vars[] = {{"GREETING", "hi"}, {"NGINX_VERSION", "custom"}};
  struct env_list env = {.vars = vars, .len = 2};
  struct container_spec_input in = {
      .pod = pod,
      .container = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
      .image = img,
      .env = &env,
      .passwd = passwd,
      .group = group,
      .id = "u-1_c_2",
      .pod_log_dir = "/var/log/pods",
      .restart_count = 2,
      .pids_limit = 512,
      .memory_capacity = 8LL << 30,
      .clamp_oom_score_adj = oom_floor > -1000,
      .oom_score_adj_floor = oom_floor,
  };
  return container_spec_build(&in, b, err);
}

static int
build(json_t *pod, const struct image_info *img, struct built_container *b, k8c_err *err)
{
  return build_on(pod, img, -1000, b, err);
}

TEST(guaranteed_oom_score_adj_clamped_where_it_cannot_be_lowered)
{
  cleanup_json json_t *pod =
      pod_of("{\"name\":\"c\",\"image\":\"nginx\",\"resources\":{\"limits\":{\"cpu\":\"1\","
             "\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}",
             NULL);
  json_object_set_new(json_object_get(pod, "status"), "qosClass", json_string("Guaranteed"));
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  CHECK_INT(b.spec.oom_score_adj, -997); /* upstream's value for Guaranteed pods */
  built_container_free(&b);
  CHECK_INT(build_on(pod, &img, 0, &b, &err), 0);
  CHECK_INT(b.spec.oom_score_adj, 0); /* without CAP_SYS_RESOURCE: as low as the node can */
  built_container_free(&b);
}

static char *
joined(char **v)
{
  char *s = xstrdup("");
  for (size_t i = 0; v && v[i]; i++) {
    char *n = xasprintf("%s%s%s", s, i ? "|" : "", v[i]);
    free(s);
    s = n;
  }
  return s;
}

TEST(argv_from_image_when_no_command)
{
  cleanup_json json_t *pod = pod_of("{\"name\":\"c\",\"image\":\"nginx\"}", NULL);
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  cleanup_free char *argv = joined(b.argv);
  CHECK_STR(argv, "/docker-entrypoint.sh|nginx|-g|daemon off;");
  CHECK_STR(b.spec.cwd, "/srv");
  CHECK_STR(b.spec.log_path, "/var/log/pods/prod_web_u-1/c/2.log");
  built_container_free(&b);
}

TEST(args_replace_cmd_keep_entrypoint_and_expand)
{
  cleanup_json json_t *pod =
      pod_of("{\"name\":\"c\",\"args\":[\"say\",\"$(GREETING)\",\"$$(GREETING)\",\"$(NOPE)\"],"
             "\"workingDir\":\"/w\"}",
             NULL);
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  cleanup_free char *argv = joined(b.argv);
  CHECK_STR(argv, "/docker-entrypoint.sh|say|hi|$(GREETING)|$(NOPE)");
  CHECK_STR(b.spec.cwd, "/w");
  built_container_free(&b);
}

TEST(command_drops_entrypoint_and_cmd)
{
  cleanup_json json_t *pod =
      pod_of("{\"name\":\"c\",\"command\":[\"sh\",\"-c\",\"echo $(GREETING)\"]}", NULL);
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  cleanup_free char *argv = joined(b.argv);
  CHECK_STR(argv, "sh|-c|echo hi");
  built_container_free(&b);
}

TEST(env_container_overrides_image)
{
  cleanup_json json_t *pod = pod_of("{\"name\":\"c\"}", NULL);
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  cleanup_free char *env = joined(b.env);
  CHECK_STR(env, "PATH=/usr/bin:/bin|GREETING=hi|NGINX_VERSION=custom");
  built_container_free(&b);
}

TEST(user_from_image_name_and_security_context)
{
  cleanup_json json_t *pod = pod_of("{\"name\":\"c\"}", NULL);
  struct image_info img = image("nginx");
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  CHECK_INT(b.spec.uid, 101);
  CHECK_INT(b.spec.gid, 102);
  built_container_free(&b);

  img = image("101:web");
  CHECK_INT(build(pod, &img, &b, &err), 0);
  CHECK_INT(b.spec.uid, 101);
  CHECK_INT(b.spec.gid, 300);
  built_container_free(&b);

  cleanup_json json_t *pod2 =
      pod_of("{\"name\":\"c\",\"securityContext\":{\"runAsUser\":1234}}",
             "{\"runAsUser\":5,\"runAsGroup\":77,\"supplementalGroups\":[10,11],\"fsGroup\":2000}");
  CHECK_INT(build(pod2, &img, &b, &err), 0);
  CHECK_INT(b.spec.uid, 1234);
  CHECK_INT(b.spec.gid, 77);
  CHECK_INT(b.spec.n_additional_gids, 3);
  CHECK_INT(b.spec.additional_gids[2], 2000);
  built_container_free(&b);

  img = image("nobody-here");
  CHECK_INT(build(pod, &img, &b, &err), -1);
  CHECK(strstr(err.message, "unable to find user nobody-here") != NULL);
  k8c_err_clear(&err);
  built_container_free(&b);
}

TEST(run_as_non_root)
{
  cleanup_json json_t *pod = pod_of("{\"name\":\"c\"}", "{\"runAsNonRoot\":true}");
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), -1);
  CHECK_STR(err.message, "container has runAsNonRoot and image will run as root (pod: "
                         "\"web_prod(u-1)\", container: c)");
  k8c_err_clear(&err);
  built_container_free(&b);
  img = image("nginx");
  CHECK_INT(build(pod, &img, &b, &err), -1);
  CHECK(strstr(err.message, "image has non-numeric user (nginx)") != NULL);
  k8c_err_clear(&err);
  built_container_free(&b);
  img = image("101");
  CHECK_INT(build(pod, &img, &b, &err), 0);
  CHECK_INT(b.spec.uid, 101);
  built_container_free(&b);
}

TEST(resources_and_security)
{
  cleanup_json json_t *pod =
      pod_of("{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"50m\",\"memory\":\"64Mi\"},"
             "\"limits\":{\"cpu\":\"200m\",\"memory\":\"128Mi\"}},"
             "\"securityContext\":{\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]},"
             "\"allowPrivilegeEscalation\":false,\"readOnlyRootFilesystem\":true,"
             "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}}",
             NULL);
  struct image_info img = image(NULL);
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), 0);
  CHECK_INT(b.spec.resources.cpu_shares, 51);
  CHECK_INT(b.spec.resources.cpu_quota, 20000);
  CHECK_INT(b.spec.resources.cpu_period, 100000);
  CHECK_INT(b.spec.resources.memory_limit, 128LL << 20);
  CHECK_INT(b.spec.resources.pids_limit, 512);
  CHECK_STR(b.spec.cap_add[0], "NET_ADMIN");
  CHECK_STR(b.spec.cap_drop[0], "ALL");
  CHECK(b.spec.no_new_privileges);
  CHECK(b.spec.readonly_rootfs);
  CHECK(!b.spec.privileged);
  CHECK_INT(b.spec.seccomp, SECCOMP_RUNTIME_DEFAULT);
  CHECK(b.spec.oom_score_adj >= 3 && b.spec.oom_score_adj <= 999);
  built_container_free(&b);
  CHECK_INT(container_cpu_shares(0), 2);
  CHECK_INT(container_cpu_shares(1), 2);
  CHECK_INT(container_cpu_shares(1000), 1024);
  CHECK_INT(container_cpu_quota(0), 0);
  CHECK_INT(container_cpu_quota(5), 1000);
}

TEST(no_command_at_all)
{
  cleanup_json json_t *pod = pod_of("{\"name\":\"c\"}", NULL);
  struct image_info img = {0};
  struct built_container b;
  k8c_err err = {0};
  CHECK_INT(build(pod, &img, &b, &err), -1);
  CHECK_STR(err.message, "no command specified");
  k8c_err_clear(&err);
  built_container_free(&b);
}

TEST(container_id_round_trip)
{
  cleanup_free char *id = podworker_container_id("0b9e-11aa", "web-server", 12);
  CHECK_STR(id, "0b9e-11aa_web-server_12");
  char uid[64], name[128];
  int restart = -1;
  CHECK(podworker_parse_container_id(id, uid, name, &restart));
  CHECK_STR(uid, "0b9e-11aa");
  CHECK_STR(name, "web-server");
  CHECK_INT(restart, 12);
  CHECK(!podworker_parse_container_id("nounderscore", uid, name, &restart));
  CHECK(!podworker_parse_container_id("a_b_x", uid, name, &restart));
}

TEST_MAIN()
