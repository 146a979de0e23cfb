/* rbac_util.c — rules, bindings and tables shared by Role, ClusterRole, RoleBinding and
 * ClusterRoleBinding (see rbac_util.h). */
#include "registry/rbac/rbac_util.h"

#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"
#include "registry/strategy_util.h"
#include "registry/table_util.h"

#include <stdio.h>
#include <string.h>

#define RBAC_GROUP "rbac.authorization.k8s.io"

const struct table_column rbac_role_columns[] = {
    COLUMN_NAME,
    {"Created At", "date", "", "Time the object was created (metadata.creationTimestamp).", 0},
    COLUMN_END,
};

const struct table_column rbac_binding_columns[] = {
    COLUMN_NAME,
    {"Role", "string", "",
     "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
     "namespace.",
     0},
    COLUMN_AGE,
    {"Users", "string", "", "Users in the roleBinding", 1},
    {"Groups", "string", "", "Groups in the roleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the roleBinding", 1},
    COLUMN_END,
};

int
rbac_validate_rules(k8c_err *err, const json_t *rules, bool namespaced)
{
  int n = 0;
  size_t i;
  json_t *rule;
  json_array_foreach (rules, i, rule) {
    char field[64];
    if (obj_len(rule, "verbs") == 0) {
      snprintf(field, sizeof field, "rules[%zu].verbs", i);
      cause_required(err, field, "verbs must contain at least one value");
      n++;
    }
    bool non_resource = obj_len(rule, "nonResourceURLs") > 0;
    if (non_resource && namespaced) {
      snprintf(field, sizeof field, "rules[%zu].nonResourceURLs", i);
      cause_invalid(err, field, "[]string{...}",
                    "namespaced rules cannot apply to non-resource URLs");
      n++;
      continue;
    }
    if (non_resource) {
      if (obj_len(rule, "apiGroups") || obj_len(rule, "resources")) {
        snprintf(field, sizeof field, "rules[%zu].nonResourceURLs", i);
        cause_invalid(err, field, "[]string{...}",
                      "rules cannot apply to both regular resources and non-resource URLs");
        n++;
      }
      continue;
    }
    if (obj_len(rule, "apiGroups") == 0) {
      snprintf(field, sizeof field, "rules[%zu].apiGroups", i);
      cause_required(err, field, "resource rules must supply at least one api group");
      n++;
    }
    if (obj_len(rule, "resources") == 0) {
      snprintf(field, sizeof field, "rules[%zu].resources", i);
      cause_required(err, field, "resource rules must supply at least one resource");
      n++;
    }
  }
  return n;
}

void
rbac_binding_defaults(json_t *obj)
{
  json_t *ref = json_object_get(obj, "roleRef");
  if (json_is_object(ref))
    obj_default_str(ref, "apiGroup", RBAC_GROUP);
  size_t i;
  json_t *s;
  json_array_foreach (json_object_get(obj, "subjects"), i, s) {
    const char *kind = obj_str0(s, "kind");
    if (strcmp(kind, "ServiceAccount") == 0)
      obj_default_new(s, "apiGroup", json_string(""));
    else if (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0)
      obj_default_str(s, "apiGroup", RBAC_GROUP);
  }
}

int
rbac_validate_binding(k8c_err *err, const json_t *obj, const json_t *old, bool namespaced)
{
  int n = 0;
  json_t *ref = json_object_get(obj, "roleRef");
  if (strcmp(obj_str0(ref, "apiGroup"), RBAC_GROUP) != 0) {
    static const char *const groups[] = {RBAC_GROUP, NULL};
    n += validate_one_of(err, "roleRef.apiGroup", obj_str0(ref, "apiGroup"), groups);
  }
  const char *kind = obj_str0(ref, "kind");
  if (namespaced) {
    static const char *const kinds[] = {"ClusterRole", "Role", NULL};
    n += validate_one_of(err, "roleRef.kind", kind, kinds);
  } else {
    static const char *const kinds[] = {"ClusterRole", NULL};
    n += validate_one_of(err, "roleRef.kind", kind, kinds);
  }
  const char *name = obj_str0(ref, "name");
  if (*name == '\0') {
    cause_required(err, "roleRef.name", NULL);
    n++;
  } else {
    n += validate_path_segment_name(err, "roleRef.name", name);
  }
  size_t i;
  json_t *s;
  json_array_foreach (json_object_get(obj, "subjects"), i, s) {
    char field[64];
    static const char *const subject_kinds[] = {"Group", "ServiceAccount", "User", NULL};
    snprintf(field, sizeof field, "subjects[%zu].kind", i);
    n += validate_one_of(err, field, obj_str0(s, "kind"), subject_kinds);
    snprintf(field, sizeof field, "subjects[%zu].name", i);
    if (*obj_str0(s, "name") == '\0') {
      cause_required(err, field, NULL);
      n++;
    }
    if (strcmp(obj_str0(s, "kind"), "ServiceAccount") == 0 && !namespaced &&
        *obj_str0(s, "namespace") == '\0') {
      snprintf(field, sizeof field, "subjects[%zu].namespace", i);
      cause_required(err, field, NULL);
      n++;
    }
  }
  if (old != NULL) {
    json_t *old_ref = json_object_get(old, "roleRef");
    if (old_ref && !json_equal(ref ? ref : json_null(), old_ref)) {
      cleanup_free char *repr = xasprintf("rbac.RoleRef{APIGroup:\"%s\", Kind:\"%s\", Name:\"%s\"}",
                                          obj_str0(ref, "apiGroup"), kind, name);
      cause_invalid(err, "roleRef", repr, "cannot change roleRef");
      n++;
    }
  }
  return n;
}

void
rbac_role_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_str(cells, obj_str0(obj, "metadata.creationTimestamp"));
}

static char *
subjects_of_kind(const json_t *obj, const char *kind)
{
  buf b;
  buf_init(&b);
  size_t i;
  json_t *s;
  json_array_foreach (json_object_get(obj, "subjects"), i, s) {
    if (strcmp(obj_str0(s, "kind"), kind) != 0)
      continue;
    if (b.len)
      buf_puts(&b, ", ");
    if (strcmp(kind, "ServiceAccount") == 0)
      buf_printf(&b, "%s/%s", obj_str0(s, "namespace"), obj_str0(s, "name"));
    else
      buf_puts(&b, obj_str0(s, "name"));
  }
  return buf_take(&b);
}

void
rbac_binding_cells(const json_t *obj, json_t *cells)
{
  cell_name(cells, obj);
  cell_take(cells,
            xasprintf("%s/%s", obj_str0(obj, "roleRef.kind"), obj_str0(obj, "roleRef.name")));
  cell_age(cells, obj);
  cell_take(cells, subjects_of_kind(obj, "User"));
  cell_take(cells, subjects_of_kind(obj, "Group"));
  cell_take(cells, subjects_of_kind(obj, "ServiceAccount"));
}
