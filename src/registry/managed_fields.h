/* managed_fields.h — metadata.managedFields decoded into a list of (manager identity,
 * field set) pairs and encoded back, keeping each entry's time unless its set changed.
 *
 * An entry's identity is upstream's: manager + operation + subresource, plus apiVersion
 * for Update entries (an applier keeps one entry whatever version it applies with).
 * Decoded sets are shared with the decoded array and copied only when first modified
 * (managed_entry_writable_set), so entries an operation leaves alone cost no copy. */
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
  json_t *set;       /* owned reference to the FieldsV1 tree; read-only while `shared` */
  bool shared;       /* set is still the decoded array's tree: copy before modifying */
  bool decoded;      /* the entry came from the decoded array (false for a new entry) */
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

/* The entry's set, made private to it first if it is still shared (see above). The
 * entry keeps ownership. Replace or modify e->set only through this. */
json_t *managed_entry_writable_set(struct managed_entry *e);

/* e's set −= src, copying the set first only if the subtraction changes it. */
void managed_entry_subtract(struct managed_entry *e, const json_t *src);

/* Drops entries whose set is empty. */
void managed_fields_drop_empty(struct managed_fields *mf);

/* A new managedFields array (caller owns), sorted like upstream (operation, time,
 * manager, apiVersion, subresource). Touched and new entries get `now`; the others keep their time.
 * The array's fieldsV1 values are the entries' sets by reference (not copies): nothing may
 * modify them in place afterwards (managed_fields_decode never does).
 */
json_t *managed_fields_encode(const struct managed_fields *mf, const char *now);

void managed_fields_free(struct managed_fields *mf);

/* "manager" for Apply entries, "manager" using apiVersion for Update entries, as
 * upstream names managers in conflict messages. Caller frees. */
char *managed_entry_label(const struct managed_entry *entry);

#endif
