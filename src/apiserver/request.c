/* request.c — turns a request path into a request_info, following upstream's
 * RequestInfoFactory rules (/api/v1/namespaces/NS/RESOURCE/NAME/SUB, cluster-scoped
 * forms, the legacy /watch/ prefix). */
#include "apiserver/request.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#define MAX_PARTS 10
#define MAX_PART_LEN 255

/* One path segment, pointing into the path being parsed. */
struct segment {
  const char *p;
  size_t len;
};

static int
split_path(const char *path, struct segment parts[MAX_PARTS], int *count)
{
  *count = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    if (!*p)
      break;
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (*count >= MAX_PARTS || n > MAX_PART_LEN)
      return -1;
    parts[*count] = (struct segment){p, n};
    (*count)++;
    p += n;
  }
  return 0;
}

static bool
segment_is(struct segment s, const char *word)
{
  return strncmp(s.p, word, s.len) == 0 && word[s.len] == 0;
}

/* Copies s into dst (cap bytes), cut to fit like snprintf would. */
static void
segment_copy(char *dst, size_t cap, struct segment s)
{
  size_t n = s.len < cap ? s.len : cap - 1;
  memcpy(dst, s.p, n);
  dst[n] = 0;
}

int
request_info_parse(const char *method, const char *path, bool watch_param,
                   struct request_info *info, k8c_err *err)
{
  memset(info, 0, sizeof *info);
  struct segment parts[MAX_PARTS];
  int n = 0;
  if (split_path(path, parts, &n) < 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
  int i = 0;
  if (n >= 2 && segment_is(parts[0], "api")) {
    segment_copy(info->version, sizeof info->version, parts[1]);
    i = 2;
  } else if (n >= 3 && segment_is(parts[0], "apis")) {
    segment_copy(info->group, sizeof info->group, parts[1]);
    segment_copy(info->version, sizeof info->version, parts[2]);
    i = 3;
  } else {
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
  }
  bool legacy_watch = false;
  if (i < n && segment_is(parts[i], "watch")) {
    legacy_watch = true;
    i++;
  }
  int rest = n - i;
  if (rest <= 0)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
  info->is_resource = true;
  /* namespaces/NAME/status and namespaces/NAME/finalize are the Namespace's own
   * subresources, not a resource "status" in namespace NAME (as upstream resolves it). */
  bool namespace_subresource =
      segment_is(parts[i], "namespaces") && rest == 3 &&
      (segment_is(parts[i + 2], "status") || segment_is(parts[i + 2], "finalize"));
  if (segment_is(parts[i], "namespaces") && rest >= 3 && !namespace_subresource) {
    segment_copy(info->namespace_, sizeof info->namespace_, parts[i + 1]);
    i += 2;
  }
  rest = n - i;
  segment_copy(info->resource, sizeof info->resource, parts[i]);
  if (rest >= 2)
    segment_copy(info->name, sizeof info->name, parts[i + 1]);
  if (rest >= 3)
    segment_copy(info->subresource, sizeof info->subresource, parts[i + 2]);
  if (rest > 3)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
  info->res = api_resource_find(info->group, info->version, info->resource);
  if (info->res == NULL)
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");

  bool has_name = info->name[0] != 0;
  if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
    if (legacy_watch || watch_param)
      info->verb = VERB_WATCH;
    else
      info->verb = has_name ? VERB_GET : VERB_LIST;
  } else if (strcmp(method, "POST") == 0) {
    info->verb = VERB_CREATE;
  } else if (strcmp(method, "PUT") == 0) {
    info->verb = VERB_UPDATE;
  } else if (strcmp(method, "PATCH") == 0) {
    info->verb = VERB_PATCH;
  } else if (strcmp(method, "DELETE") == 0) {
    info->verb = has_name ? VERB_DELETE : VERB_DELETECOLLECTION;
  } else {
    return k8c_error(err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
                     "the server does not allow this method on the requested resource");
  }
  if (!has_name && (info->verb == VERB_UPDATE || info->verb == VERB_PATCH))
    return k8c_error(err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
                     "the server does not allow this method on the requested resource");
  if (info->verb == VERB_CREATE && has_name && !info->subresource[0])
    return k8c_error(err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
                     "the server does not allow this method on the requested resource");
  if (info->subresource[0]) {
    bool binding = strcmp(info->subresource, "binding") == 0 && info->res->group[0] == 0 &&
                   strcmp(info->res->plural, "pods") == 0;
    bool token = strcmp(info->subresource, "token") == 0 && info->res->group[0] == 0 &&
                 strcmp(info->res->plural, "serviceaccounts") == 0;
    bool finalize = strcmp(info->subresource, "finalize") == 0 && info->res->group[0] == 0 &&
                    strcmp(info->res->plural, "namespaces") == 0;
    /* pods/log, exec, attach, portforward: proxied to the kubelet (nodeproxy.c) */
    bool pod_stream =
        info->res->group[0] == 0 && strcmp(info->res->plural, "pods") == 0 &&
        (strcmp(info->subresource, "log") == 0 || strcmp(info->subresource, "exec") == 0 ||
         strcmp(info->subresource, "attach") == 0 || strcmp(info->subresource, "portforward") == 0);
    bool ok = (strcmp(info->subresource, "status") == 0 && info->res->has_status) ||
              (strcmp(info->subresource, "scale") == 0 && info->res->has_scale) || binding ||
              finalize || pod_stream || token;
    if (!ok)
      return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                       "the server could not find the requested resource");
    if ((binding || token) && info->verb != VERB_CREATE)
      return k8c_error(err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
                       "the server does not allow this method on the requested resource");
    if (binding || token)
      return 0;
    if (pod_stream && (info->verb == VERB_GET || info->verb == VERB_CREATE))
      return 0; /* logs are read with GET; streams upgrade a GET or POST */
    if (finalize && info->verb != VERB_UPDATE)
      return k8c_error(err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
                       "the server does not allow this method on the requested resource");
    if (info->verb != VERB_GET && info->verb != VERB_UPDATE && info->verb != VERB_PATCH)
      return k8c_error(err, 405, K8C_REASON_METHOD_NOT_ALLOWED,
                       "the server does not allow this method on the requested resource");
  }
  if (!info->res->namespaced && info->namespace_[0])
    return k8c_error(err, 404, K8C_REASON_NOT_FOUND,
                     "the server could not find the requested resource");
  return 0;
}

const char *
request_query(const struct api_request *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
request_header(const struct api_request *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
api_verb_name(enum api_verb v)
{
  static const char *const names[] = {"",       "get",   "list",   "watch",           "create",
                                      "update", "patch", "delete", "deletecollection"};
  return names[v];
}

/* Length of the UTF-8 character starting at s (at most avail bytes), or 0 if the bytes
 * there are not one well-formed character. */
static size_t
utf8_char_len(const unsigned char *s, size_t avail)
{
  size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
  if (n == 0 || n > avail)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

void
request_manager_from_user_agent(const char *user_agent, char out[REQUEST_FIELD_MANAGER_MAX + 1])
{
  size_t used = 0;
  const unsigned char *p = (const unsigned char *)(user_agent ? user_agent : "");
  size_t left = strcspn((const char *)p, "/");
  while (left > 0) {
    size_t n = p[0] < 0x80 ? 1 : utf8_char_len(p, left);
    bool keep = p[0] < 0x80 ? p[0] >= 0x20 && p[0] != 0x7f : n > 0;
    if (n == 0)
      n = 1; /* a stray byte: skipped */
    if (keep) {
      if (used + n > REQUEST_FIELD_MANAGER_MAX)
        break;
      memcpy(out + used, p, n);
      used += n;
    }
    p += n;
    left -= n;
  }
  out[used] = '\0';
}
