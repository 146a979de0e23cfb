/* managed_fields.h — metadata.managedFields decoded into a list of (manager identity,
 * field set) pairs and encoded back, keeping each entry's time unless its set changed.
 *
 * An entry's identity is upstream's: manager + operation + subresource, plus apiVersion
 * for Update entries (an applier keeps one entry whatever version it applies with). */
#ifndef K8C_REGISTRY_MANAGED_FIELDS_H
#define K8C_REGISTRY_MANAGED_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct managed_entry {
  char *manager;     /* owned */
  char *operation;   /* owned: "Apply" or "Update" */
  char *api_version; /* owned; may be "" */
  char *subresource; /* owned; "" for the main resource */
  char *time;        /* owned; NULL if the entry had none */
  json_t *set;       /* owned FieldsV1 tree, modified in place by apply */
  json_t *original;  /* owned copy of the set as decoded, NULL for a new entry */
  bool touched;      /* the operation changed the object through this entry: new time */
};

struct managed_fields {
  struct managed_entry *entries; /* owned */
  size_t count;
  size_t cap;
};

/* Decodes the managedFields array (may be NULL or not an array: no entries). Entries
 * that are not FieldsV1 objects are skipped. */
void managed_fields_decode(struct managed_fields *mf, const json_t *array);

/* The entry with this identity; created with an empty set when `create` and missing. */
struct managed_entry *managed_fields_find(struct managed_fields *mf, const char *manager,
                                          const char *operation, const char *api_version,
                                          const char *subresource, bool create);

/* Drops entries whose set is empty. */
void managed_fields_drop_empty(struct managed_fields *mf);

/* A new managedFields array (caller owns), sorted like upstream (operation, time,
 * manager, apiVersion, subresource). Touched and new entries get `now`; the others keep their time.
 */
json_t *managed_fields_encode(const struct managed_fields *mf, const char *now);

void managed_fields_free(struct managed_fields *mf);

/* "manager" for Apply entries, "manager" using apiVersion for Update entries, as
 * upstream names managers in conflict messages. Caller frees. */
char *managed_entry_label(const struct managed_entry *entry);

#endif
