/* event.h — the Event table and field selectors, shared by the core/v1 Event strategy and
 * the events.k8s.io/v1 view of the same stored objects (which names fields differently:
 * regarding/note/deprecated*; both shapes are read). */
#ifndef K8C_REGISTRY_CORE_EVENT_H
#define K8C_REGISTRY_CORE_EVENT_H

#include "registry/strategy.h"

extern const struct table_column event_columns[];
extern const char *const event_supported_fields[];
void event_selectable_fields(const json_t *obj, json_t *fields);
void event_table_cells(const json_t *obj, json_t *cells);

#endif
