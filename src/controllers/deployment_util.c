/* deployment_util.c — small pieces of the Deployment controller (upstream's
 * deployment/util): replica arithmetic, maxSurge/maxUnavailable fenceposts, the
 * pod-template-hash, template comparison ignoring that hash, and the writes every step
 * uses (scale an RS, update the deployment or its status). */
#include "apimachinery/meta.h"
#include "controllers/controller_util.h"
#include "controllers/deployment_internal.h"
#include "lib/mem.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------- replica arithmetic ---------- */

long long
dep_replicas(const json_t *d)
{
  return cu_int(d, "spec.replicas", 1);
}

long long
rs_replicas(const json_t *rs)
{
  return rs ? cu_int(rs, "spec.replicas", 1) : 0;
}

long long
rs_status_int(const json_t *rs, const char *field)
{
  return rs ? cu_int(json_object_get(rs, "status"), field, 0) : 0;
}

bool
dep_is_rolling(const json_t *d)
{
  const char *type = cu_str(d, "spec.strategy.type");
  return type == NULL || strcmp(type, "RollingUpdate") == 0;
}

bool
dep_has_progress_deadline(const json_t *d)
{
  long long v = cu_int(d, "spec.progressDeadlineSeconds", -1);
  return v >= 0 && v != INT32_MAX;
}

void
dep_fenceposts(const json_t *d, long long *surge, long long *unavailable)
{
  *surge = *unavailable = 0;
  if (!dep_is_rolling(d))
    return;
  long long desired = dep_replicas(d);
  const json_t *ru =
      json_object_get(json_object_get(json_object_get(d, "spec"), "strategy"), "rollingUpdate");
  const json_t *ms = json_object_get(ru, "maxSurge");
  const json_t *mu = json_object_get(ru, "maxUnavailable");
  json_t *dflt = json_string("25%");
  if (cu_scaled_int_or_percent(ms ? ms : dflt, desired, true, surge) < 0)
    *surge = 0;
  if (cu_scaled_int_or_percent(mu ? mu : dflt, desired, false, unavailable) < 0)
    *unavailable = 0;
  json_decref(dflt);
  if (*surge == 0 && *unavailable == 0)
    *unavailable = 1;
}

long long
dep_max_surge(const json_t *d)
{
  long long surge, unavailable;
  dep_fenceposts(d, &surge, &unavailable);
  return surge;
}

long long
dep_max_unavailable(const json_t *d)
{
  if (!dep_is_rolling(d) || dep_replicas(d) == 0)
    return 0;
  long long surge, unavailable;
  dep_fenceposts(d, &surge, &unavailable);
  return unavailable > dep_replicas(d) ? dep_replicas(d) : unavailable;
}

long long
dep_sum(json_t *const *rss, size_t n, const char *path)
{
  long long total = 0;
  for (size_t i = 0; i < n; i++)
    if (rss[i])
      total += cu_int(rss[i], path, strcmp(path, "spec.replicas") == 0 ? 1 : 0);
  return total;
}

static int
by_creation(const void *pa, const void *pb)
{
  const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
  time_t ta = cu_parse_time(meta_string(a, "creationTimestamp"));
  time_t tb = cu_parse_time(meta_string(b, "creationTimestamp"));
  if (ta != tb)
    return ta < tb ? -1 : 1;
  return strcmp(meta_name(a) ? meta_name(a) : "", meta_name(b) ? meta_name(b) : "");
}

void
dep_sort_by_creation(json_t **rss, size_t n, bool newest_first)
{
  qsort(rss, n, sizeof *rss, by_creation);
  if (newest_first)
    for (size_t i = 0; i < n / 2; i++) {
      json_t *t = rss[i];
      rss[i] = rss[n - 1 - i];
      rss[n - 1 - i] = t;
    }
}

/* ---------- template hash ---------- */

static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint32_t
fnv32a(uint32_t h, const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

char *
dep_template_hash(const json_t *tpl, const json_t *collision_count)
{
  cleanup_free char *text = json_dumps(tpl, JSON_SORT_KEYS | JSON_COMPACT);
  uint32_t h = 2166136261u;
  if (text)
    h = fnv32a(h, (const unsigned char *)text, strlen(text));
  if (json_is_integer(collision_count)) {
    uint32_t cc = (uint32_t)json_integer_value(collision_count);
    unsigned char bytes[4] = {cc & 0xff, (cc >> 8) & 0xff, (cc >> 16) & 0xff, cc >> 24};
    h = fnv32a(h, bytes, sizeof bytes);
  }
  char digits[16];
  snprintf(digits, sizeof digits, "%u", h);
  for (char *p = digits; *p; p++)
    *p = safe_alphabet[(unsigned char)*p % (sizeof safe_alphabet - 1)];
  return xstrdup(digits);
}

static json_t *
template_without_hash(const json_t *tpl)
{
  json_t *copy = tpl ? json_deep_copy(tpl) : json_object();
  json_t *labels = json_object_get(json_object_get(copy, "metadata"), "labels");
  json_object_del(labels, DEP_LABEL_HASH);
  return copy;
}

bool
dep_templates_equal(const json_t *a, const json_t *b)
{
  cleanup_json json_t *ca = template_without_hash(a);
  cleanup_json json_t *cb = template_without_hash(b);
  return json_equal(ca, cb);
}

long long
dep_revision(const json_t *obj)
{
  const char *v = json_string_value(json_object_get(meta_annotations(obj), DEP_ANN_REVISION));
  if (v == NULL)
    return 0;
  char *end = NULL;
  long long r = strtoll(v, &end, 10);
  return end == v || *end ? 0 : r;
}

/* ---------- writes ---------- */

static bool
set_annotation(json_t *obj, const char *key, const char *value)
{
  json_t *meta = meta_get(obj);
  json_t *ann = json_object_get(meta, "annotations");
  if (!json_is_object(ann)) {
    ann = json_object();
    json_object_set_new(meta, "annotations", ann);
  }
  const char *old = json_string_value(json_object_get(ann, key));
  if (old && strcmp(old, value) == 0)
    return false;
  json_object_set_new(ann, key, json_string(value));
  return true;
}

int
dep_scale_rs(struct dsync *s, json_t **slot, long long new_scale, bool *scaled, k8c_err *err)
{
  *scaled = false;
  json_t *rs = *slot;
  long long old_scale = rs_replicas(rs);
  long long desired = dep_replicas(s->d);
  cleanup_json json_t *copy = json_deep_copy(rs);
  char desired_s[32], max_s[32];
  snprintf(desired_s, sizeof desired_s, "%lld", desired);
  snprintf(max_s, sizeof max_s, "%lld", desired + dep_max_surge(s->d));
  bool ann_changed = set_annotation(copy, DEP_ANN_DESIRED_REPLICAS, desired_s);
  ann_changed |= set_annotation(copy, DEP_ANN_MAX_REPLICAS, max_s);
  bool size_changed = old_scale != new_scale;
  if (!size_changed && !ann_changed)
    return 0;
  json_object_set_new(json_object_get(copy, "spec"), "replicas", json_integer(new_scale));
  json_t *updated = NULL;
  if (client_update(s->dc->client, s->dc->rs_res, meta_namespace(rs), meta_name(rs), copy, NULL,
                    &updated, err) < 0)
    return -1;
  json_decref(*slot);
  *slot = updated;
  if (size_changed) {
    *scaled = true;
    event_record(s->dc->rec, s->d, "Normal", "ScalingReplicaSet",
                 "Scaled %s replica set %s from %lld to %lld",
                 old_scale < new_scale ? "up" : "down", meta_name(updated), old_scale, new_scale);
  }
  return 0;
}

int
dep_update(struct dsync *s, k8c_err *err)
{
  json_t *updated = NULL;
  if (client_update(s->dc->client, s->dc->dep_res, meta_namespace(s->d), meta_name(s->d), s->d,
                    NULL, &updated, err) < 0)
    return -1;
  json_decref(s->d);
  s->d = updated;
  return 0;
}

int
dep_write_status(struct dsync *s, json_t *status, k8c_err *err)
{
  json_object_set(s->d, "status", status);
  json_t *updated = NULL;
  if (client_update_status(s->dc->client, s->dc->dep_res, meta_namespace(s->d), meta_name(s->d),
                           s->d, NULL, &updated, err) < 0)
    return -1;
  json_decref(s->d);
  s->d = updated;
  return 0;
}
