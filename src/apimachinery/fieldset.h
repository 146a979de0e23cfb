/* fieldset.h — sets of field paths kept directly in upstream's FieldsV1 JSON form.
 *
 * A set is a JSON object tree: each key is one path element ("f:name" a field,
 * "k:{...}" a keyed list item, "v:..." a set value, "i:N" a list index). A child node
 * `{}` is a member without children; a node with children is itself a member only if it
 * holds ".". The root is never a member. Keeping the wire form as the in-memory form
 * means managedFields need no decoding before the set algebra runs on them. */
#ifndef K8C_APIMACHINERY_FIELDSET_H
#define K8C_APIMACHINERY_FIELDSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* true if `node` (a child in a set) is itself a member of the set. */
bool fieldset_node_is_member(const json_t *node);

/* true if the node has children other than ".". */
bool fieldset_node_has_children(const json_t *node);

/* Makes `node` canonical after its children or membership changed and says whether it
 * must stay in its parent (it is a member or still has children). */
bool fieldset_node_settle(json_t *node, bool member);

/* Inserts the path elems[0..n) as a member of `set`; intermediate nodes are created as
 * non-members. n == 0 (the root) is ignored. */
void fieldset_insert(json_t *set, const char *const *elems, size_t n);

/* A copy of the set (caller owns), sharing nothing with it. */
json_t *fieldset_copy(const json_t *set);

/* dst ∪= src, in place. src is only read. */
void fieldset_union(json_t *dst, const json_t *src);

/* dst −= src (members of src stop being members of dst), in place. */
void fieldset_subtract(json_t *dst, const json_t *src);

/* true if fieldset_subtract(dst, src) would modify dst (for copy-on-write callers). */
bool fieldset_subtract_changes(const json_t *dst, const json_t *src);

/* A new set (caller owns) with the members found in both a and b. */
json_t *fieldset_intersect(const json_t *a, const json_t *b);

/* true if the set has no members. */
bool fieldset_is_empty(const json_t *set);

/* Calls fn for each member path, in sorted key order; elems are valid only during the
 * call. */
typedef void (*fieldset_visit_fn)(const char *const *elems, size_t n, void *ctx);
void fieldset_for_each(const json_t *set, fieldset_visit_fn fn, void *ctx);

/* The path in upstream's fieldpath notation, e.g. `.spec.containers[name="nginx"].image`,
 * `.metadata.finalizers[="x"]`, `.spec.args[0]`. Caller frees. */
char *fieldset_path_string(const char *const *elems, size_t n);

/* Path-element keys (caller frees): "f:<name>"; "k:" + the key fields as compact JSON
 * with sorted keys; "v:" + the value as compact JSON; "i:<index>". */
char *fieldset_key_field(const char *name);
char *fieldset_key_keyed(const json_t *key_fields);
char *fieldset_key_value(const json_t *value);
char *fieldset_key_index(size_t index);

#endif
