/* container_spec.c — PodSpec container → runtime container_spec, as the kubelet and CRI
 * runtime do it between them: the command/args/Entrypoint/Cmd rules with $(VAR)
 * expansion, image env under the container's, user from the securityContext else the
 * image's USER, requests/limits → cgroup numbers. Pure (no I/O). */
#include "kubelet/container_spec.h"

#include "apimachinery/quantity.h"
#include "kubelet/podstatus.h"
#include "lib/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
strv_free(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

/* Appends owned to the NULL-terminated *v of length *n. */
static void
strv_push(char ***v, size_t *n, char *owned)
{
  *v = xrealloc(*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = owned;
  (*v)[*n] = NULL;
}

uint64_t
container_cpu_shares(int64_t request_milli)
{
  if (request_milli <= 0)
    return 2;
  uint64_t shares = (uint64_t)request_milli * 1024 / 1000;
  return shares < 2 ? 2 : shares;
}

int64_t
container_cpu_quota(int64_t limit_milli)
{
  if (limit_milli <= 0)
    return 0;
  int64_t quota = limit_milli * 100;
  return quota < 1000 ? 1000 : quota;
}

/* A resource of requests/limits: -1 when absent or unparsable. */
static int64_t
resource(const json_t *container, const char *which, const char *name, bool milli)
{
  const char *s = json_string_value(
      json_object_get(json_object_get(json_object_get(container, "resources"), which), name));
  if (s == NULL)
    return -1;
  quantity q;
  k8c_err err = {0};
  if (quantity_parse(s, &q, &err) < 0) {
    k8c_err_clear(&err);
    return -1;
  }
  return milli ? quantity_milli_value(&q) : quantity_value(&q);
}

/* A field of the container's securityContext, else the pod's. */
static const json_t *
security_field(const json_t *pod, const json_t *container, const char *field)
{
  const json_t *v = json_object_get(json_object_get(container, "securityContext"), field);
  if (v)
    return v;
  return json_object_get(json_object_get(json_object_get(pod, "spec"), "securityContext"), field);
}

/* The line of a passwd/group text whose field `key_index` equals key; copies its fields
 * into f (up to 4). */
static bool
find_entry(const char *text, const char *key, int key_index, char f[4][64])
{
  if (text == NULL)
    return false;
  const char *line = text;
  while (*line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[512];
    if (len < sizeof buf) {
      memcpy(buf, line, len);
      buf[len] = '\0';
      memset(f, 0, 4 * 64);
      char *p = buf;
      for (int i = 0; i < 4; i++) {
        char *colon = strchr(p, ':');
        size_t fl = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(f[i], 64, "%.*s", (int)(fl < 63 ? fl : 63), p);
        if (colon == NULL)
          break;
        p = colon + 1;
      }
      if (strcmp(f[key_index], key) == 0)
        return true;
    }
    line = end ? end + 1 : line + len;
  }
  return false;
}

static bool
parse_id(const char *s, uint32_t *out)
{
  if (s == NULL || *s == '\0')
    return false;
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end != '\0' || v > UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

int
container_resolve_user(const char *user, const char *passwd, const char *group, uint32_t *uid,
                       uint32_t *gid, k8c_err *err)
{
  *uid = 0;
  *gid = 0;
  if (user == NULL || *user == '\0')
    return 0;
  char u[128], g[128] = "";
  const char *colon = strchr(user, ':');
  snprintf(u, sizeof u, "%.*s", (int)(colon ? colon - user : (long)strlen(user)), user);
  if (colon)
    snprintf(g, sizeof g, "%s", colon + 1);
  char f[4][64];
  if (parse_id(u, uid)) {
    /* primary group of a numeric uid from passwd when it is listed */
    char key[16];
    snprintf(key, sizeof key, "%u", *uid);
    if (find_entry(passwd, key, 2, f))
      (void)parse_id(f[3], gid);
  } else if (find_entry(passwd, u, 0, f) && parse_id(f[2], uid)) {
    (void)parse_id(f[3], gid);
  } else {
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "unable to find user %s: no matching entries in passwd file", u);
  }
  if (g[0]) {
    if (!parse_id(g, gid)) {
      if (!find_entry(group, g, 0, f) || !parse_id(f[2], gid))
        return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                         "unable to find group %s: no matching entries in group file", g);
    }
  }
  return 0;
}

char *
container_pod_log_dir(const char *pod_log_dir, const json_t *pod)
{
  const json_t *meta = json_object_get(pod, "metadata");
  return xasprintf("%s/%s_%s_%s", pod_log_dir,
                   json_string_value(json_object_get(meta, "namespace")) ?: "default",
                   json_string_value(json_object_get(meta, "name")) ?: "",
                   json_string_value(json_object_get(meta, "uid")) ?: "");
}

/* argv: command (else Entrypoint) + args (else Cmd when command is unset). */
static int
build_argv(const struct container_spec_input *in, struct built_container *b, k8c_err *err)
{
  const json_t *command = json_object_get(in->container, "command");
  const json_t *args = json_object_get(in->container, "args");
  size_t n = 0;
  size_t i;
  const json_t *v;
  if (json_array_size(command) > 0) {
    json_array_foreach (command, i, v)
      strv_push(&b->argv, &n, env_expand(json_string_value(v) ?: "", in->env));
  } else {
    for (size_t k = 0; in->image && in->image->entrypoint && in->image->entrypoint[k]; k++)
      strv_push(&b->argv, &n, xstrdup(in->image->entrypoint[k]));
  }
  if (json_array_size(args) > 0) {
    json_array_foreach (args, i, v)
      strv_push(&b->argv, &n, env_expand(json_string_value(v) ?: "", in->env));
  } else if (json_array_size(command) == 0) {
    for (size_t k = 0; in->image && in->image->cmd && in->image->cmd[k]; k++)
      strv_push(&b->argv, &n, xstrdup(in->image->cmd[k]));
  }
  if (n == 0)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "no command specified");
  return 0;
}

/* env: the image's, overridden by the container's (same name), container's order kept. */
static void
build_env(const struct container_spec_input *in, struct built_container *b)
{
  size_t n = 0;
  for (size_t k = 0; in->image && in->image->env && in->image->env[k]; k++) {
    const char *kv = in->image->env[k];
    const char *eq = strchr(kv, '=');
    size_t nl = eq ? (size_t)(eq - kv) : strlen(kv);
    bool overridden = false;
    for (size_t j = 0; in->env && j < in->env->len; j++)
      if (strlen(in->env->vars[j].name) == nl && strncmp(in->env->vars[j].name, kv, nl) == 0)
        overridden = true;
    if (!overridden)
      strv_push(&b->env, &n, xstrdup(kv));
  }
  for (size_t j = 0; in->env && j < in->env->len; j++)
    strv_push(&b->env, &n, xasprintf("%s=%s", in->env->vars[j].name, in->env->vars[j].value));
  if (b->env == NULL)
    strv_push(&b->env, &n,
              xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
}

static char *
pod_ref(const json_t *pod)
{
  const json_t *meta = json_object_get(pod, "metadata");
  return xasprintf("%s_%s(%s)", json_string_value(json_object_get(meta, "name")) ?: "",
                   json_string_value(json_object_get(meta, "namespace")) ?: "",
                   json_string_value(json_object_get(meta, "uid")) ?: "");
}

static int
build_user(const struct container_spec_input *in, struct built_container *b, k8c_err *err)
{
  const json_t *run_as_user = security_field(in->pod, in->container, "runAsUser");
  const json_t *run_as_group = security_field(in->pod, in->container, "runAsGroup");
  const json_t *non_root = security_field(in->pod, in->container, "runAsNonRoot");
  const char *image_user = in->image ? in->image->user : NULL;
  uint32_t uid = 0, gid = 0;
  const char *cname = json_string_value(json_object_get(in->container, "name")) ?: "";
  if (json_is_integer(run_as_user)) {
    uid = (uint32_t)json_integer_value(run_as_user);
    char key[16];
    char f[4][64];
    snprintf(key, sizeof key, "%u", uid);
    if (find_entry(in->passwd, key, 2, f))
      (void)parse_id(f[3], &gid);
  } else {
    if (json_is_true(non_root) && image_user && *image_user) {
      char u[128];
      const char *colon = strchr(image_user, ':');
      snprintf(u, sizeof u, "%.*s", (int)(colon ? colon - image_user : (long)strlen(image_user)),
               image_user);
      uint32_t dummy;
      if (!parse_id(u, &dummy)) {
        cleanup_free char *ref = pod_ref(in->pod);
        return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                         "container has runAsNonRoot and image has non-numeric user (%s), cannot "
                         "verify user is non-root (pod: \"%s\", container: %s)",
                         u, ref, cname);
      }
    }
    if (container_resolve_user(image_user, in->passwd, in->group, &uid, &gid, err) < 0)
      return -1;
  }
  if (json_is_integer(run_as_group))
    gid = (uint32_t)json_integer_value(run_as_group);
  if (json_is_true(non_root) && uid == 0) {
    cleanup_free char *ref = pod_ref(in->pod);
    if (json_is_integer(run_as_user))
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "container's runAsUser breaks non-root policy (pod: \"%s\", container: %s)",
                       ref, cname);
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "container has runAsNonRoot and image will run as root (pod: \"%s\", "
                     "container: %s)",
                     ref, cname);
  }
  b->spec.uid = uid;
  b->spec.gid = gid;
  const json_t *psc = json_object_get(json_object_get(in->pod, "spec"), "securityContext");
  const json_t *sup = json_object_get(psc, "supplementalGroups");
  const json_t *fs_group = json_object_get(psc, "fsGroup");
  size_t n = 0;
  b->gids = xcalloc(json_array_size(sup) + 2, sizeof *b->gids);
  size_t i;
  const json_t *g;
  json_array_foreach (sup, i, g)
    if (json_is_integer(g))
      b->gids[n++] = (uint32_t)json_integer_value(g);
  if (json_is_integer(fs_group))
    b->gids[n++] = (uint32_t)json_integer_value(fs_group);
  b->spec.additional_gids = b->gids;
  b->spec.n_additional_gids = n;
  return 0;
}

static char **
string_list(const json_t *arr)
{
  char **v = NULL;
  size_t n = 0;
  size_t i;
  const json_t *s;
  json_array_foreach (arr, i, s)
    if (json_is_string(s))
      strv_push(&v, &n, xstrdup(json_string_value(s)));
  return v;
}

static void
build_security(const struct container_spec_input *in, struct built_container *b)
{
  const json_t *sc = json_object_get(in->container, "securityContext");
  const json_t *caps = json_object_get(sc, "capabilities");
  b->cap_add = string_list(json_object_get(caps, "add"));
  b->cap_drop = string_list(json_object_get(caps, "drop"));
  b->spec.cap_add = (const char *const *)b->cap_add;
  b->spec.cap_drop = (const char *const *)b->cap_drop;
  b->spec.privileged = json_is_true(json_object_get(sc, "privileged"));
  b->spec.no_new_privileges = json_is_false(json_object_get(sc, "allowPrivilegeEscalation"));
  b->spec.readonly_rootfs = json_is_true(json_object_get(sc, "readOnlyRootFilesystem"));
  const char *seccomp = json_string_value(
      json_object_get(security_field(in->pod, in->container, "seccompProfile"), "type"));
  b->spec.seccomp = seccomp && strcmp(seccomp, "RuntimeDefault") == 0 && !b->spec.privileged
                        ? SECCOMP_RUNTIME_DEFAULT
                        : SECCOMP_UNCONFINED;
}

static void
build_resources(const struct container_spec_input *in, struct built_container *b)
{
  int64_t cpu_req = resource(in->container, "requests", "cpu", true);
  int64_t cpu_lim = resource(in->container, "limits", "cpu", true);
  int64_t mem_lim = resource(in->container, "limits", "memory", false);
  if (cpu_req < 0 && cpu_lim > 0)
    cpu_req = cpu_lim;
  b->spec.resources.cpu_shares = container_cpu_shares(cpu_req);
  b->spec.resources.cpu_quota = container_cpu_quota(cpu_lim);
  b->spec.resources.cpu_period = b->spec.resources.cpu_quota ? 100000 : 0;
  b->spec.resources.memory_limit = mem_lim > 0 ? mem_lim : 0;
  b->spec.resources.pids_limit = in->pids_limit > 0 ? in->pids_limit : 0;
}

int
container_spec_build(const struct container_spec_input *in, struct built_container *b, k8c_err *err)
{
  memset(b, 0, sizeof *b);
  if (build_argv(in, b, err) < 0 || build_user(in, b, err) < 0)
    return -1;
  build_env(in, b);
  const char *wd = json_string_value(json_object_get(in->container, "workingDir"));
  if (wd == NULL || *wd == '\0')
    wd = in->image && in->image->working_dir && *in->image->working_dir ? in->image->working_dir
                                                                        : "/";
  b->cwd = xstrdup(wd);
  build_security(in, b);
  build_resources(in, b);
  const char *name = json_string_value(json_object_get(in->container, "name")) ?: "";
  cleanup_free char *dir = container_pod_log_dir(in->pod_log_dir ?: "/var/log/pods", in->pod);
  b->log_path = xasprintf("%s/%s/%d.log", dir, name, in->restart_count);
  struct container_spec *s = &b->spec;
  s->id = in->id;
  s->name = name;
  s->sandbox = in->sandbox;
  s->argv = (const char *const *)b->argv;
  s->env = (const char *const *)b->env;
  s->cwd = b->cwd;
  s->lowerdirs = in->lowerdirs;
  s->mounts = in->mounts;
  s->n_mounts = in->n_mounts;
  s->oom_score_adj = podstatus_oom_score_adj(in->pod, in->container, in->memory_capacity);
  if (in->clamp_oom_score_adj && s->oom_score_adj < in->oom_score_adj_floor)
    s->oom_score_adj = in->oom_score_adj_floor;
  s->tty = json_is_true(json_object_get(in->container, "tty"));
  s->stdin_open = json_is_true(json_object_get(in->container, "stdin"));
  s->stdin_once = json_is_true(json_object_get(in->container, "stdinOnce"));
  s->log_path = b->log_path;
  return 0;
}

void
built_container_free(struct built_container *b)
{
  strv_free(b->argv);
  strv_free(b->env);
  strv_free(b->cap_add);
  strv_free(b->cap_drop);
  free(b->cwd);
  free(b->gids);
  free(b->log_path);
  memset(b, 0, sizeof *b);
}
