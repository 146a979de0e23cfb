/* podspec.c — PodSpec defaults and validation shared by Pod and every workload template.
 * Defaults mirror upstream's core/v1 SetDefaults_* for the nested types; validation covers
 * the mistakes users make most, with upstream's field paths and wording. */
#include "registry/core/podspec.h"

#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy_util.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_FILE_MODE 420 /* 0644 */

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
static const char *const dns_policies[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default",
                                           "None", NULL};
static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const port_protocols[] = {"SCTP", "TCP", "UDP", NULL};
static const char *const termination_message_policies[] = {"File", "FallbackToLogsOnError", NULL};

/* ================================ defaults ======================================== */

/* Always when the tag is "latest" or missing (and there is no digest), else IfNotPresent. */
static const char *
default_pull_policy(const char *image)
{
  if (image == NULL || strchr(image, '@') != NULL)
    return "IfNotPresent";
  const char *slash = strrchr(image, '/');
  const char *last = slash ? slash + 1 : image;
  const char *colon = strchr(last, ':');
  if (colon == NULL || strcmp(colon + 1, "latest") == 0)
    return "Always";
  return "IfNotPresent";
}

static void
http_get_defaults(json_t *http_get)
{
  if (!json_is_object(http_get))
    return;
  obj_default_str(http_get, "path", "/");
  obj_default_str(http_get, "scheme", "HTTP");
}

static void
handler_defaults(json_t *handler)
{
  http_get_defaults(json_object_get(handler, "httpGet"));
}

static void
probe_defaults(json_t *probe)
{
  if (!json_is_object(probe))
    return;
  obj_default_int(probe, "timeoutSeconds", 1);
  obj_default_int(probe, "periodSeconds", 10);
  obj_default_int(probe, "successThreshold", 1);
  obj_default_int(probe, "failureThreshold", 3);
  handler_defaults(probe);
}

static void
field_ref_defaults(json_t *holder)
{
  json_t *field_ref = json_object_get(holder, "fieldRef");
  if (json_is_object(field_ref))
    obj_default_str(field_ref, "apiVersion", "v1");
  json_t *resource_ref = json_object_get(holder, "resourceFieldRef");
  if (json_is_object(resource_ref))
    obj_default_str(resource_ref, "divisor", "0");
}

static void
container_defaults(json_t *c, bool host_network)
{
  if (!json_is_object(c))
    return;
  obj_default_str(c, "terminationMessagePath", "/dev/termination-log");
  obj_default_str(c, "terminationMessagePolicy", "File");
  obj_default_str(c, "imagePullPolicy", default_pull_policy(obj_str(c, "image")));
  obj_ensure(c, "resources");
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get(c, "ports"), i, v) {
    obj_default_str(v, "protocol", "TCP");
    if (host_network && obj_unset(v, "hostPort") && json_object_get(v, "containerPort"))
      json_object_set(v, "hostPort", json_object_get(v, "containerPort"));
  }
  json_array_foreach (json_object_get(c, "env"), i, v) {
    field_ref_defaults(json_object_get(v, "valueFrom"));
  }
  probe_defaults(json_object_get(c, "livenessProbe"));
  probe_defaults(json_object_get(c, "readinessProbe"));
  probe_defaults(json_object_get(c, "startupProbe"));
  json_t *lifecycle = json_object_get(c, "lifecycle");
  handler_defaults(json_object_get(lifecycle, "postStart"));
  handler_defaults(json_object_get(lifecycle, "preStop"));
}

static void
items_defaults(json_t *source)
{
  size_t i;
  json_t *item;
  json_array_foreach (json_object_get(source, "items"), i, item) {
    field_ref_defaults(item);
  }
}

static void
volume_defaults(json_t *volume)
{
  if (!json_is_object(volume))
    return;
  if (json_object_size(volume) == 1 && json_object_get(volume, "name")) {
    json_object_set_new(volume, "emptyDir", json_object());
    return;
  }
  static const char *const mode_sources[] = {"configMap", "secret", "downwardAPI", "projected",
                                             NULL};
  for (const char *const *s = mode_sources; *s; s++) {
    json_t *src = json_object_get(volume, *s);
    if (json_is_object(src))
      obj_default_int(src, "defaultMode", DEFAULT_FILE_MODE);
  }
  items_defaults(json_object_get(volume, "downwardAPI"));
  json_t *host_path = json_object_get(volume, "hostPath");
  if (json_is_object(host_path))
    obj_default_str(host_path, "type", "");
  json_t *projected = json_object_get(volume, "projected");
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get(projected, "sources"), i, p) {
    items_defaults(json_object_get(p, "downwardAPI"));
    json_t *token = json_object_get(p, "serviceAccountToken");
    if (json_is_object(token))
      obj_default_int(token, "expirationSeconds", 3600);
  }
}

void
podspec_defaults(json_t *spec)
{
  if (!json_is_object(spec))
    return;
  obj_default_str(spec, "dnsPolicy", "ClusterFirst");
  obj_default_str(spec, "restartPolicy", "Always");
  obj_default_new(spec, "securityContext", json_object());
  obj_default_int(spec, "terminationGracePeriodSeconds", 30);
  obj_default_str(spec, "schedulerName", "default-scheduler");
  bool host_network = obj_true(spec, "hostNetwork");
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get(spec, "containers"), i, v) {
    container_defaults(v, host_network);
  }
  json_array_foreach (json_object_get(spec, "initContainers"), i, v) {
    container_defaults(v, host_network);
  }
  json_array_foreach (json_object_get(spec, "volumes"), i, v) {
    volume_defaults(v);
  }
}

void
pod_template_defaults(json_t *template)
{
  if (!json_is_object(template))
    return;
  podspec_defaults(json_object_get(template, "spec"));
}

/* =============================== validation ======================================= */

static int
validate_probe(k8c_err *err, const char *path, const json_t *probe)
{
  if (!json_is_object(probe))
    return 0;
  int n = 0;
  static const char *const handlers[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
  int count = 0;
  for (const char *const *h = handlers; *h; h++)
    count += json_object_get(probe, *h) != NULL;
  if (count == 0) {
    k8c_err_add_cause(err, CAUSE_REQUIRED, path, "Required value: must specify a handler type");
    n++;
  } else if (count > 1) {
    char field[256];
    path_cat(field, sizeof field, path, ".", "httpGet");
    cause_forbidden(err, field, "may not specify more than 1 handler type");
    n++;
  }
  static const char *const nonneg[] = {"initialDelaySeconds", "timeoutSeconds",   "periodSeconds",
                                       "successThreshold",    "failureThreshold", NULL};
  for (const char *const *f = nonneg; *f; f++) {
    json_t *v = json_object_get(probe, *f);
    if (json_is_integer(v) && json_integer_value(v) < 0) { /* the path only for the cause */
      char field[256];
      path_cat(field, sizeof field, path, ".", *f);
      n += validate_nonnegative(err, field, json_integer_value(v));
    }
  }
  json_t *http = json_object_get(probe, "httpGet");
  if (json_is_object(http)) {
    char field[256];
    path_cat(field, sizeof field, path, ".httpGet.port", NULL);
    json_t *port = json_object_get(http, "port");
    if (json_is_integer(port))
      n += validate_port_number(err, field, json_integer_value(port));
    else if (json_is_string(port))
      n += validate_port_name(err, field, json_string_value(port));
    else {
      cause_required(err, field, NULL);
      n++;
    }
    const char *scheme = obj_str(http, "scheme");
    static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
    if (scheme) {
      path_cat(field, sizeof field, path, ".httpGet.scheme", NULL);
      n += validate_one_of(err, field, scheme, schemes);
    }
  }
  return n;
}

static int
validate_resources(k8c_err *err, const char *path, const json_t *resources)
{
  int n = 0;
  static const char *const lists[] = {"limits", "requests", NULL};
  for (const char *const *l = lists; *l; l++) {
    json_t *list = json_object_get(resources, *l);
    if (json_object_size(list) == 0)
      continue;
    char prefix[320], field[320]; /* "<path>.<list>[<key>]", cut as snprintf would */
    path_cat(prefix, sizeof prefix, path, ".", *l);
    for (void *it = json_object_iter(list); it != NULL; it = json_object_iter_next(list, it)) {
      path_cat(field, sizeof field, prefix, "[", json_object_iter_key(it));
      size_t len = strlen(field);
      if (len + 1 < sizeof field) {
        field[len] = ']';
        field[len + 1] = '\0';
      }
      n += validate_quantity(err, field, json_object_iter_value(it));
    }
  }
  return n;
}

/* Whether value is one of allowed: the cause's field path is built only when it is not. */
static bool
is_one_of(const char *value, const char *const *allowed)
{
  for (size_t i = 0; allowed[i]; i++)
    if (strcmp(value, allowed[i]) == 0)
      return true;
  return false;
}

static int
validate_container(k8c_err *err, const char *path, const json_t *c, json_t *seen_names,
                   const json_t *volume_names)
{
  char field[256];
  int n = 0;
  if (!json_is_object(c)) {
    cause_required(err, path, NULL);
    return 1;
  }
  const char *name = obj_str(c, "name");
  path_cat(field, sizeof field, path, ".name", NULL);
  if (name == NULL || *name == '\0') {
    cause_required(err, field, NULL);
    n++;
  } else {
    n += validate_dns1123_label(err, field, name);
    if (json_object_get(seen_names, name)) {
      cleanup_free char *q = go_quote(name);
      cause_duplicate(err, field, q);
      n++;
    }
    json_object_set_new_nocheck(seen_names, name, json_true()); /* a parsed string */
  }
  const char *image = obj_str(c, "image");
  if (image == NULL || *image == '\0') {
    path_cat(field, sizeof field, path, ".image", NULL);
    cause_required(err, field, NULL);
    n++;
  }
  const char *pull = obj_str(c, "imagePullPolicy");
  if (pull && !is_one_of(pull, pull_policies)) {
    path_cat(field, sizeof field, path, ".imagePullPolicy", NULL);
    n += validate_one_of(err, field, pull, pull_policies);
  }
  const char *tmp = obj_str(c, "terminationMessagePolicy");
  if (tmp && !is_one_of(tmp, termination_message_policies)) {
    path_cat(field, sizeof field, path, ".terminationMessagePolicy", NULL);
    n += validate_one_of(err, field, tmp, termination_message_policies);
  }
  size_t i;
  json_t *v;
  json_t *port_names = json_object();
  json_array_foreach (json_object_get(c, "ports"), i, v) {
    const char *pname = obj_str(v, "name");
    if (pname && *pname) {
      path_cat_index(field, sizeof field, path, ".ports[", i, "].name");
      n += validate_port_name(err, field, pname);
      if (json_object_get(port_names, pname)) {
        cleanup_free char *q = go_quote(pname);
        cause_duplicate(err, field, q);
        n++;
      }
      json_object_set_new_nocheck(port_names, pname, json_true());
    }
    path_cat_index(field, sizeof field, path, ".ports[", i, "].containerPort");
    json_t *cp = json_object_get(v, "containerPort");
    if (!json_is_integer(cp)) {
      cause_required(err, field, NULL);
      n++;
    } else {
      n += validate_port_number(err, field, json_integer_value(cp));
    }
    json_t *hp = json_object_get(v, "hostPort");
    if (json_is_integer(hp) && json_integer_value(hp) != 0) {
      path_cat_index(field, sizeof field, path, ".ports[", i, "].hostPort");
      n += validate_port_number(err, field, json_integer_value(hp));
    }
    const char *proto = obj_str(v, "protocol");
    if (proto && !is_one_of(proto, port_protocols)) {
      path_cat_index(field, sizeof field, path, ".ports[", i, "].protocol");
      n += validate_one_of(err, field, proto, port_protocols);
    }
  }
  json_decref(port_names);
  json_array_foreach (json_object_get(c, "env"), i, v) {
    const char *ename = obj_str(v, "name");
    if (ename == NULL || *ename == '\0') {
      path_cat_index(field, sizeof field, path, ".env[", i, "].name");
      cause_required(err, field, NULL);
      n++;
    }
  }
  json_array_foreach (json_object_get(c, "volumeMounts"), i, v) {
    const char *vname = obj_str(v, "name");
    bool missing = vname == NULL || *vname == '\0';
    if (missing || json_object_get(volume_names, vname) == NULL) {
      path_cat_index(field, sizeof field, path, ".volumeMounts[", i, "].name");
      if (missing) {
        cause_required(err, field, NULL);
      } else {
        cleanup_free char *q = go_quote(vname);
        cause_not_found(err, field, q);
      }
      n++;
    }
    const char *mount_path = obj_str(v, "mountPath");
    if (mount_path == NULL || *mount_path == '\0') {
      path_cat_index(field, sizeof field, path, ".volumeMounts[", i, "].mountPath");
      cause_required(err, field, NULL);
      n++;
    }
  }
  static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe", NULL};
  for (const char *const *p = probes; *p; p++) {
    const json_t *probe = json_object_get(c, *p);
    if (!json_is_object(probe))
      continue; /* nothing to check (validate_probe returns 0) */
    path_cat(field, sizeof field, path, ".", *p);
    n += validate_probe(err, field, probe);
  }
  path_cat(field, sizeof field, path, ".resources", NULL);
  n += validate_resources(err, field, json_object_get(c, "resources"));
  return n;
}

/* Volume names (validated), collected into `names`. */
static int
validate_volumes(k8c_err *err, const char *path, const json_t *volumes, json_t *names)
{
  int n = 0;
  size_t i;
  json_t *v;
  json_array_foreach (volumes, i, v) {
    char field[256];
    path_cat_index(field, sizeof field, path, ".volumes[", i, "].name");
    const char *name = obj_str(v, "name");
    if (name == NULL || *name == '\0') {
      cause_required(err, field, NULL);
      n++;
      continue;
    }
    n += validate_dns1123_label(err, field, name);
    if (json_object_get(names, name)) {
      cleanup_free char *q = go_quote(name);
      cause_duplicate(err, field, q);
      n++;
    }
    json_object_set_new_nocheck(names, name, json_true());
    if (json_object_size(v) > 2) {
      path_cat_index(field, sizeof field, path, ".volumes[", i, "]");
      cause_forbidden(err, field, "may not specify more than 1 volume type");
      n++;
    }
  }
  return n;
}

int
podspec_validate(k8c_err *err, const char *path, const json_t *spec)
{
  char field[256];
  int n = 0;
  if (!json_is_object(spec)) {
    cause_required(err, path, NULL);
    return 1;
  }
  json_t *volume_names = json_object();
  n += validate_volumes(err, path, json_object_get(spec, "volumes"), volume_names);

  json_t *seen_names = json_object();
  json_t *containers = json_object_get(spec, "containers");
  size_t i;
  json_t *c;
  if (json_array_size(containers) == 0) {
    path_cat(field, sizeof field, path, ".containers", NULL);
    cause_required(err, field, NULL);
    n++;
  }
  json_array_foreach (containers, i, c) {
    path_cat_index(field, sizeof field, path, ".containers[", i, "]");
    n += validate_container(err, field, c, seen_names, volume_names);
  }
  json_array_foreach (json_object_get(spec, "initContainers"), i, c) {
    path_cat_index(field, sizeof field, path, ".initContainers[", i, "]");
    n += validate_container(err, field, c, seen_names, volume_names);
  }
  json_decref(seen_names);
  json_decref(volume_names);

  const char *restart = obj_str(spec, "restartPolicy");
  if (restart) {
    path_cat(field, sizeof field, path, ".restartPolicy", NULL);
    n += validate_one_of(err, field, restart, restart_policies);
  }
  const char *dns = obj_str(spec, "dnsPolicy");
  if (dns) {
    path_cat(field, sizeof field, path, ".dnsPolicy", NULL);
    n += validate_one_of(err, field, dns, dns_policies);
  }
  json_t *node_selector = json_object_get(spec, "nodeSelector");
  if (node_selector) {
    path_cat(field, sizeof field, path, ".nodeSelector", NULL);
    n += validate_labels(err, field, node_selector);
  }
  const char *sa = obj_str(spec, "serviceAccountName");
  if (sa && *sa) {
    path_cat(field, sizeof field, path, ".serviceAccountName", NULL);
    n += validate_dns1123_subdomain(err, field, sa);
  }
  const char *node_name = obj_str(spec, "nodeName");
  if (node_name && *node_name) {
    path_cat(field, sizeof field, path, ".nodeName", NULL);
    n += validate_dns1123_subdomain(err, field, node_name);
  }
  json_t *grace = json_object_get(spec, "terminationGracePeriodSeconds");
  if (json_is_integer(grace)) {
    path_cat(field, sizeof field, path, ".terminationGracePeriodSeconds", NULL);
    n += validate_nonnegative(err, field, json_integer_value(grace));
  }
  json_t *deadline = json_object_get(spec, "activeDeadlineSeconds");
  if (json_is_integer(deadline) &&
      (json_integer_value(deadline) < 1 || json_integer_value(deadline) > 2147483647)) {
    path_cat(field, sizeof field, path, ".activeDeadlineSeconds", NULL);
    cause_invalid_int(err, field, json_integer_value(deadline),
                      "must be between 1 and 2147483647, inclusive");
    n++;
  }
  return n;
}

int
pod_template_validate(k8c_err *err, const char *path, const json_t *template)
{
  char field[256];
  int n = 0;
  if (!json_is_object(template)) {
    cause_required(err, path, NULL);
    return 1;
  }
  json_t *meta = json_object_get(template, "metadata");
  json_t *labels = json_object_get(meta, "labels");
  if (labels) {
    path_cat(field, sizeof field, path, ".metadata.labels", NULL);
    n += validate_labels(err, field, labels);
  }
  json_t *annotations = json_object_get(meta, "annotations");
  if (annotations) {
    path_cat(field, sizeof field, path, ".metadata.annotations", NULL);
    n += validate_annotations(err, field, annotations);
  }
  path_cat(field, sizeof field, path, ".spec", NULL);
  n += podspec_validate(err, field, json_object_get(template, "spec"));
  return n;
}

/* ================================ printing ======================================== */

static char *
join_container_field(const json_t *spec, const char *key)
{
  buf b;
  buf_init(&b);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get(spec, "containers"), i, c) {
    buf_printf(&b, "%s%s", i ? "," : "", obj_str0(c, key));
  }
  return buf_take(&b);
}

char *
podspec_container_names(const json_t *spec)
{
  return join_container_field(spec, "name");
}

char *
podspec_images(const json_t *spec)
{
  return join_container_field(spec, "image");
}
