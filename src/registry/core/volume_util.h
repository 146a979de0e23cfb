/* volume_util.h — what PersistentVolume and PersistentVolumeClaim share: access-mode
 * validation and the "RWO,ROX" access-mode abbreviation kubectl prints. */
#ifndef K8C_REGISTRY_CORE_VOLUME_UTIL_H
#define K8C_REGISTRY_CORE_VOLUME_UTIL_H

#include "lib/err.h"

#include <jansson.h>

/* Required, each one of the four modes. Returns problems found. */
int validate_access_modes(k8c_err *err, const char *field, const json_t *modes);
/* "RWO,ROX,RWX,RWOP" subset in that order; malloc'd ("" if none). */
char *access_modes_string(const json_t *modes);

#endif
