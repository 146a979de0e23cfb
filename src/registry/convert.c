/* convert.c — core/v1 Event <-> events.k8s.io/v1 Event, field by field as upstream's
 * conversion: involvedObject/regarding, message/note, source/deprecatedSource,
 * firstTimestamp/deprecatedFirstTimestamp, lastTimestamp/deprecatedLastTimestamp,
 * count/deprecatedCount, reportingComponent/reportingController. */
#include "registry/convert.h"

#include "apimachinery/json_encode.h"

#include "lib/mem.h"

#include <string.h>

/* Pairs of (core field, events.k8s.io field). */
static const char *const event_renames[][2] = {
    {"involvedObject", "regarding"},
    {"message", "note"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
    {"reportingComponent", "reportingController"},
    {NULL, NULL},
};

bool
convert_needed(const struct api_resource *res)
{
  return res && strcmp(res->group, "events.k8s.io") == 0 && strcmp(res->plural, "events") == 0;
}

static json_t *
rename_fields(const json_t *obj, int from, int to, const char *api_version)
{
  json_t *out = json_object();
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)obj, k, v) {
    const char *name = k;
    for (int i = 0; event_renames[i][0]; i++)
      if (strcmp(k, event_renames[i][from]) == 0)
        name = event_renames[i][to];
    if (strcmp(k, "apiVersion") == 0)
      json_object_set_new(out, k, json_string(api_version));
    else
      json_object_set(out, name, v);
  }
  return out;
}

json_t *
convert_to_storage(const struct api_resource *res, const json_t *obj)
{
  if (!convert_needed(res) || !json_is_object(obj))
    return json_incref((json_t *)obj);
  return rename_fields(obj, 1, 0, "v1");
}

json_t *
convert_from_storage(const struct api_resource *res, const json_t *obj)
{
  if (!convert_needed(res) || !json_is_object(obj))
    return json_incref((json_t *)obj);
  return rename_fields(obj, 0, 1, "events.k8s.io/v1");
}

char *
convert_text_from_storage(const struct api_resource *res, const char *json, size_t len,
                          size_t *out_len)
{
  json_error_t jerr;
  json_t *obj = json_loadb(json, len, 0, &jerr);
  if (obj == NULL)
    return NULL;
  json_t *served = convert_from_storage(res, obj);
  json_decref(obj);
  size_t text_len = 0;
  char *text = json_encode_compact(served, &text_len);
  json_decref(served);
  if (text && out_len)
    *out_len = text_len;
  return text;
}
