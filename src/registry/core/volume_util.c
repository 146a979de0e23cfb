/* volume_util.c — access modes for PV and PVC (see volume_util.h). */
#include "registry/core/volume_util.h"

#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "registry/strategy_util.h"

#include <stdio.h>
#include <string.h>

static const char *const access_modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                           "ReadWriteOncePod", NULL};

int
validate_access_modes(k8c_err *err, const char *field, const json_t *modes)
{
  if (json_array_size(modes) == 0) {
    cause_required(err, field, NULL);
    return 1;
  }
  int n = 0;
  size_t i;
  json_t *m;
  json_array_foreach (modes, i, m) {
    char item[96];
    snprintf(item, sizeof item, "%s", field);
    n += validate_one_of(err, item, json_string_value(m) ?: "", access_modes);
  }
  return n;
}

static bool
has_mode(const json_t *modes, const char *mode)
{
  size_t i;
  json_t *m;
  json_array_foreach (modes, i, m) {
    if (json_string_value(m) && strcmp(json_string_value(m), mode) == 0)
      return true;
  }
  return false;
}

char *
access_modes_string(const json_t *modes)
{
  static const char *const order[][2] = {{"ReadWriteOnce", "RWO"},
                                         {"ReadOnlyMany", "ROX"},
                                         {"ReadWriteMany", "RWX"},
                                         {"ReadWriteOncePod", "RWOP"}};
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (has_mode(modes, order[i][0]))
      buf_printf(&b, "%s%s", b.len ? "," : "", order[i][1]);
  return buf_take(&b);
}
