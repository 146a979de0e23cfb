/* table_util.h — what every server-side Table printer shares: upstream's human durations
 * ("5s", "3m20s", "2d3h"), the AGE cell, RFC 3339 parsing and cell appenders.
 * Cells are appended to a JSON array; string arguments are copied. */
#ifndef K8C_REGISTRY_TABLE_UTIL_H
#define K8C_REGISTRY_TABLE_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#define DURATION_LEN 32

/* Column rows used by almost every kind. */
#define COLUMN_NAME                                                                                \
  {                                                                                                \
    "Name", "string", "name", "Name of the object, unique within its namespace.", 0                \
  }
#define COLUMN_AGE                                                                                 \
  {                                                                                                \
    "Age", "string", "", "Time since the object was created (metadata.creationTimestamp).", 0      \
  }
#define COLUMN_CONTAINERS                                                                          \
  {                                                                                                \
    "Containers", "string", "", "Names of each container in the template.", 1                      \
  }
#define COLUMN_IMAGES                                                                              \
  {                                                                                                \
    "Images", "string", "", "Images referenced by each container in the template.", 1              \
  }
#define COLUMN_END                                                                                 \
  {                                                                                                \
    NULL, NULL, NULL, NULL, 0                                                                      \
  }

/* Parses "2024-01-02T03:04:05Z" (fractions and offsets allowed). 0 ok, -1 otherwise. */
int parse_rfc3339(const char *s, time_t *out);

/* upstream's duration.HumanDuration of a number of seconds into out. */
void human_duration(long long seconds, char out[DURATION_LEN]);

/* translateTimestampSince: time since timestamp, or "<unknown>" if absent/invalid. */
void since_timestamp(const char *timestamp, char out[DURATION_LEN]);

void cell_str(json_t *cells, const char *s);
/* Appends s and frees it. */
void cell_take(json_t *cells, char *s);
void cell_int(json_t *cells, long long v);
void cell_bool(json_t *cells, bool v);
/* The Age cell for obj (metadata.creationTimestamp). */
void cell_age(json_t *cells, const json_t *obj);
/* The Name cell (metadata.name). */
void cell_name(json_t *cells, const json_t *obj);
/* The Selector cell for a metav1.LabelSelector as labels.Selector.String() prints it,
 * "<none>" when empty. */
void cell_label_selector(json_t *cells, const json_t *selector);
/* A "k=v,k2=v2" cell of a plain map (sorted keys), or "<none>" if empty. */
void cell_map_selector(json_t *cells, const json_t *map);

/* selector.String() of a metav1.LabelSelector: "app=web,tier in (a,b)"; malloc'd; ""
 * when empty. */
char *label_selector_string(const json_t *selector);

#endif
