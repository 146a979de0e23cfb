/* kubelet_env_test.c — a container's environment as the kubelet builds it: envFrom then
 * env, $(VAR) expansion, fieldRef / resourceFieldRef / ConfigMap and Secret keys, and
 * the kubelet's error words for missing sources. */
#include "kubelet/env.h"
#include "lib/mem.h"
#include "testlib.h"

#include <string.h>

static json_t *
lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
  json_t *objs = ctx;
  cleanup_free char *key = xasprintf("%s/%s/%s", kind, ns, name);
  json_t *o = json_object_get(objs, key);
  return o ? json_incref(o) : NULL;
}

static json_t *
get_cm(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  return lookup(ctx, "cm", ns, name);
}

static json_t *
get_secret(void *ctx, const char *ns, const char *name, k8c_err *err)
{
  return lookup(ctx, "secret", ns, name);
}

static json_t *
objects(void)
{
  return json_pack("{s:{s:{s:s,s:s,s:s}}, s:{s:{s:s,s:s}}}", "cm/shop/cfg", "data", "MODE", "prod",
                   "LEVEL", "3", "bad key", "x", "secret/shop/creds", "data", "PASSWORD",
                   "czNjcjN0" /* s3cr3t */, "USER", "YWRtaW4=" /* admin */);
}

static json_t *
pod(void)
{
  return json_loads("{\"metadata\":{\"name\":\"api-1\",\"namespace\":\"shop\",\"uid\":\"u-1\","
                    "\"labels\":{\"app\":\"api\"},\"annotations\":{\"team\":\"core\"}},"
                    "\"spec\":{\"nodeName\":\"n1\",\"serviceAccountName\":\"default\"},"
                    "\"status\":{\"podIP\":\"10.42.0.5\",\"podIPs\":[{\"ip\":\"10.42.0.5\"}],"
                    "\"hostIP\":\"192.168.1.2\"}}",
                    0, NULL);
}

static int
resolve(const char *container_json, struct env_list *env, k8c_err *err)
{
  cleanup_json json_t *objs = objects();
  cleanup_json json_t *p = pod();
  cleanup_json json_t *c = json_loads(container_json, 0, NULL);
  cleanup_json json_t *alloc = json_pack("{s:s,s:s}", "cpu", "2", "memory", "4Gi");
  struct env_sources src = {
      .ctx = objs, .get_configmap = get_cm, .get_secret = get_secret, .node_allocatable = alloc};
  return env_resolve(p, c, &src, env, err);
}

TEST(env_from_then_env_with_expansion)
{
  struct env_list env = {0};
  k8c_err err = {0};
  CHECK_INT(resolve("{\"envFrom\":[{\"configMapRef\":{\"name\":\"cfg\"}},"
                    "{\"secretRef\":{\"name\":\"creds\"},\"prefix\":\"DB_\"}],"
                    "\"env\":[{\"name\":\"MODE\",\"value\":\"dev\"},"
                    "{\"name\":\"URL\",\"value\":\"$(DB_USER)@$(HOST):$(MISSING)/$$(MODE)\"}]}",
                    &env, &err),
            0);
  CHECK_INT((int)env.len, 5);
  CHECK_STR(env.vars[0].name, "MODE"); /* overwritten by env, keeps its place */
  CHECK_STR(env.vars[0].value, "dev");
  CHECK_STR(env_list_get(&env, "LEVEL"), "3");
  CHECK(env_list_get(&env, "bad key") == NULL);
  CHECK_STR(env_list_get(&env, "DB_PASSWORD"), "s3cr3t");
  CHECK_STR(env_list_get(&env, "URL"), "admin@$(HOST):$(MISSING)/$(MODE)");
  char **strv = env_list_to_strv(&env);
  CHECK_STR(strv[0], "MODE=dev");
  CHECK(strv[5] == NULL);
  env_strv_free(strv);
  env_list_clear(&env);
}

TEST(value_from_fields_and_resources)
{
  struct env_list env = {0};
  k8c_err err = {0};
  CHECK_INT(
      resolve(
          "{\"resources\":{\"limits\":{\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"250m\"}},"
          "\"env\":["
          "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
          "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
          "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
          "{\"name\":\"IPS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIPs\"}}},"
          "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}"
          "}},"
          "{\"name\":\"TEAM\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.annotations['"
          "team']\"}}},"
          "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
          "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\","
          "\"divisor\":\"1Mi\"}}},"
          "{\"name\":\"CPU_REQ_M\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"requests."
          "cpu\",\"divisor\":\"1m\"}}},"
          "{\"name\":\"CPU_REQ\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"requests."
          "cpu\"}}},"
          "{\"name\":\"CPU_LIM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}"
          "},"
          "{\"name\":\"PASS\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"creds\",\"key\":"
          "\"PASSWORD\"}}},"
          "{\"name\":\"OPT\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"nope\","
          "\"optional\":true}}}"
          "]}",
          &env, &err),
      0);
  CHECK_STR(env_list_get(&env, "POD"), "api-1");
  CHECK_STR(env_list_get(&env, "NS"), "shop");
  CHECK_STR(env_list_get(&env, "IP"), "10.42.0.5");
  CHECK_STR(env_list_get(&env, "IPS"), "10.42.0.5");
  CHECK_STR(env_list_get(&env, "APP"), "api");
  CHECK_STR(env_list_get(&env, "TEAM"), "core");
  CHECK_STR(env_list_get(&env, "NODE"), "n1");
  CHECK_STR(env_list_get(&env, "MEM"), "512");
  CHECK_STR(env_list_get(&env, "CPU_REQ_M"), "250");
  CHECK_STR(env_list_get(&env, "CPU_REQ"), "1"); /* 250m rounds up to one core */
  CHECK_STR(env_list_get(&env, "CPU_LIM"), "2"); /* no limit: the node's allocatable */
  CHECK_STR(env_list_get(&env, "PASS"), "s3cr3t");
  CHECK(env_list_get(&env, "OPT") == NULL);
  env_list_clear(&env);
}

TEST(missing_sources_in_the_kubelets_words)
{
  struct env_list env = {0};
  k8c_err err = {0};
  CHECK_INT(resolve("{\"envFrom\":[{\"configMapRef\":{\"name\":\"nope\"}}]}", &env, &err), -1);
  CHECK_STR(err.message, "configmap \"nope\" not found");
  k8c_err_clear(&err);
  CHECK_INT(resolve("{\"envFrom\":[{\"configMapRef\":{\"name\":\"nope\",\"optional\":true}}]}",
                    &env, &err),
            0);
  env_list_clear(&env);
  CHECK_INT(resolve("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"creds\","
                    "\"key\":\"TOKEN\"}}}]}",
                    &env, &err),
            -1);
  CHECK_STR(err.message, "couldn't find key TOKEN in Secret shop/creds");
  k8c_err_clear(&err);
  CHECK_INT(resolve("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"gone\","
                    "\"key\":\"K\"}}}]}",
                    &env, &err),
            -1);
  CHECK_STR(err.message, "secret \"gone\" not found");
  k8c_err_clear(&err);
}

TEST(expansion_rules)
{
  struct env_list env = {0};
  k8c_err err = {0};
  CHECK_INT(resolve("{\"env\":[{\"name\":\"A\",\"value\":\"x\"}]}", &env, &err), 0);
  static const char *const cases[][2] = {
      {"$(A)", "x"},  {"$$(A)", "$(A)"}, {"$(B)", "$(B)"}, {"a$b", "a$b"},
      {"$(A", "$(A"}, {"$", "$"},        {"$()", "$()"},   {"$(A)$(A)-$$", "xx-$"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cleanup_free char *got = env_expand(cases[i][0], &env);
    CHECK_STR(got, cases[i][1]);
  }
  env_list_clear(&env);
}

TEST_MAIN()
