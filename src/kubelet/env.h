/* env.h — a container's environment as the kubelet builds it: envFrom sources first
 * (later ones win, with their prefix), then env entries in order, each value expanded
 * with $(VAR) against what is defined so far; valueFrom reads the pod's own fields
 * (fieldRef), its resources (resourceFieldRef) and ConfigMap/Secret keys. Also the
 * $(VAR) expansion the kubelet applies to command and args. */
#ifndef K8C_KUBELET_ENV_H
#define K8C_KUBELET_ENV_H

#include "lib/err.h"

#include <jansson.h>
#include <stddef.h>

/* Where valueFrom and envFrom look things up. The getters return a new reference or
 * NULL when the object does not exist (they may fill err for other failures and
 * return NULL; then resolution fails with that error). */
struct env_sources {
  void *ctx;
  json_t *(*get_configmap)(void *ctx, const char *ns, const char *name, k8c_err *err);
  json_t *(*get_secret)(void *ctx, const char *ns, const char *name, k8c_err *err);
  /* The node's allocatable (a ResourceList), standing in for unset limits in
   * resourceFieldRef, as the kubelet does. May be NULL. Borrowed. */
  const json_t *node_allocatable;
};

/* One resolved variable. */
struct env_var {
  char *name;
  char *value;
};

/* The resolved environment of one container, in the order the runtime receives it. */
struct env_list {
  struct env_var *vars;
  size_t len;
};

/* Resolves container's environment (container is an element of pod.spec.containers or
 * initContainers). On failure returns -1 with err's message as the kubelet words it
 * (e.g. `configmap "cfg" not found`, `couldn't find key k in Secret default/s`): the pod
 * worker reports it as CreateContainerConfigError. out is filled on success and must be
 * released with env_list_clear. */
int env_resolve(const json_t *pod, const json_t *container, const struct env_sources *src,
                struct env_list *out, k8c_err *err);
void env_list_clear(struct env_list *env);

/* One fieldRef ({fieldPath}) or resourceFieldRef ({resource, divisor}) value as env
 * renders it, shared with the downwardAPI volume. *out is a new string the caller frees;
 * an unsupported path or resource is a 422 error. */
int env_field_ref_value(const json_t *pod, const json_t *ref, char **out, k8c_err *err);
int env_resource_ref_value(const json_t *container, const json_t *ref,
                           const struct env_sources *src, char **out, k8c_err *err);

/* The value of a defined variable, or NULL. Borrowed from env. */
const char *env_list_get(const struct env_list *env, const char *name);

/* Expands $(NAME) references in s from env (upstream's expansion rules: `$$` is a
 * literal `$`, an undefined or unterminated reference stays as written). Caller frees. */
char *env_expand(const char *s, const struct env_list *env);

/* "NAME=value" strings, NULL-terminated, for execve or an OCI process. Caller frees each
 * string and the array (env_strv_free). */
char **env_list_to_strv(const struct env_list *env);
void env_strv_free(char **strv);

#endif
