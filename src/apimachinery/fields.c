/* fields.c — field selector parsing and matching (see fields.h).
 *
 * As upstream: the text is split on unescaped commas, each term splits at its first
 * operator, and only the right-hand side is unescaped. Terms are kept sorted by their
 * printed form, so printing is canonical (upstream sorts the raw terms instead). */
#include "apimachinery/fields.h"

#include "lib/buf.h"
#include "lib/mem.h"

#include <stdlib.h>
#include <string.h>

struct field_term {
  char *field;
  char *value;
  bool negated; /* != */
};

struct field_selector {
  struct field_term *terms;
  size_t n;
};

static const char *const term_operators[] = {"!=", "==", "="};

void
field_selector_free(field_selector *sel)
{
  if (sel == NULL)
    return;
  for (size_t i = 0; i < sel->n; i++) {
    free(sel->terms[i].field);
    free(sel->terms[i].value);
  }
  free(sel->terms);
  free(sel);
}

/* Splits on commas that are not escaped; returns a NULL-terminated array (caller frees
 * the strings and the array). */
static char **
split_terms(const char *text, size_t *count)
{
  size_t cap = 4, n = 0;
  char **terms = xmalloc(cap * sizeof *terms);
  const char *start = text;
  bool in_slash = false;
  for (const char *p = text;; p++) {
    if (*p == '\0' || (!in_slash && *p == ',')) {
      if (n + 1 >= cap) {
        cap *= 2;
        terms = xrealloc(terms, cap * sizeof *terms);
      }
      terms[n++] = xstrndup(start, (size_t)(p - start));
      if (*p == '\0')
        break;
      start = p + 1;
      continue;
    }
    in_slash = !in_slash && *p == '\\';
  }
  terms[n] = NULL;
  *count = n;
  return terms;
}

/* upstream's UnescapeValue: \\ \, \= are escapes; a bare , or = is an error. */
static char *
unescape_value(const char *s, k8c_err *err)
{
  char *out = xmalloc(strlen(s) + 1);
  size_t n = 0;
  bool in_slash = false;
  for (const char *p = s; *p; p++) {
    if (in_slash) {
      if (*p != '\\' && *p != ',' && *p != '=') {
        k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                  "invalid field selector: invalid escape sequence: \\%c", *p);
        free(out);
        return NULL;
      }
      out[n++] = *p;
      in_slash = false;
    } else if (*p == '\\') {
      in_slash = true;
    } else if (*p == ',' || *p == '=') {
      k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                "invalid field selector: unescaped character in value: %d", *p);
      free(out);
      return NULL;
    } else {
      out[n++] = *p;
    }
  }
  if (in_slash) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
              "invalid field selector: invalid escape sequence: \\");
    free(out);
    return NULL;
  }
  out[n] = '\0';
  return out;
}

static void
append_escaped(buf *b, const char *value)
{
  for (const char *p = value; *p; p++) {
    if (*p == '\\' || *p == ',' || *p == '=')
      buf_puts(b, "\\");
    buf_append(b, p, 1);
  }
}

static char *
term_to_string(const struct field_term *t)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, t->field);
  buf_puts(&b, t->negated ? "!=" : "=");
  append_escaped(&b, t->value);
  return buf_steal(&b, NULL);
}

static int
compare_terms(const void *a, const void *b)
{
  cleanup_free char *sa = term_to_string(a);
  cleanup_free char *sb = term_to_string(b);
  return strcmp(sa, sb);
}

/* Splits term at its first operator into sel's next term. */
static int
add_term(field_selector *sel, const char *text, const char *term, k8c_err *err)
{
  for (const char *p = term; *p; p++) {
    for (size_t i = 0; i < sizeof term_operators / sizeof term_operators[0]; i++) {
      size_t oplen = strlen(term_operators[i]);
      if (strncmp(p, term_operators[i], oplen) != 0)
        continue;
      char *value = unescape_value(p + oplen, err);
      if (value == NULL)
        return -1;
      sel->terms = xrealloc(sel->terms, (sel->n + 1) * sizeof *sel->terms);
      sel->terms[sel->n++] = (struct field_term){xstrndup(term, (size_t)(p - term)), value,
                                                 term_operators[i][0] == '!'};
      return 0;
    }
  }
  return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                   "invalid selector: '%s'; can't understand '%s'", text, term);
}

field_selector *
field_selector_parse(const char *text, k8c_err *err)
{
  field_selector *sel = xcalloc(1, sizeof *sel);
  if (text == NULL || *text == '\0')
    return sel;
  size_t count;
  char **terms = split_terms(text, &count);
  int rc = 0;
  for (size_t i = 0; i < count && rc == 0; i++)
    if (*terms[i] != '\0')
      rc = add_term(sel, text, terms[i], err);
  for (size_t i = 0; i < count; i++)
    free(terms[i]);
  free(terms);
  if (rc < 0) {
    field_selector_free(sel);
    return NULL;
  }
  if (sel->n > 1)
    qsort(sel->terms, sel->n, sizeof *sel->terms, compare_terms);
  return sel;
}

bool
field_selector_matches(const field_selector *sel, const json_t *fields)
{
  for (size_t i = 0; sel != NULL && i < sel->n; i++) {
    const char *have = json_string_value(json_object_get(fields, sel->terms[i].field));
    bool equal = strcmp(have ? have : "", sel->terms[i].value) == 0;
    if (equal == sel->terms[i].negated)
      return false;
  }
  return true;
}

bool
field_selector_matches_lookup(const field_selector *sel, label_lookup get, const void *ctx)
{
  for (size_t i = 0; sel != NULL && i < sel->n; i++) {
    const char *have = get(ctx, sel->terms[i].field);
    bool equal = strcmp(have ? have : "", sel->terms[i].value) == 0;
    if (equal == sel->terms[i].negated)
      return false;
  }
  return true;
}

int
field_selector_check_supported(const field_selector *sel, const char *const *supported,
                               const char *resource_kind, k8c_err *err)
{
  (void)resource_kind;
  for (size_t i = 0; sel != NULL && i < sel->n; i++) {
    const char *field = sel->terms[i].field;
    bool ok = strcmp(field, "metadata.name") == 0 || strcmp(field, "metadata.namespace") == 0;
    for (size_t j = 0; !ok && supported != NULL && supported[j]; j++)
      ok = strcmp(field, supported[j]) == 0;
    if (!ok)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "field label not supported: %s", field);
  }
  return 0;
}

const char *
field_selector_exact_value(const field_selector *sel, const char *field)
{
  for (size_t i = 0; sel != NULL && i < sel->n; i++)
    if (!sel->terms[i].negated && strcmp(sel->terms[i].field, field) == 0)
      return sel->terms[i].value;
  return NULL;
}

bool
field_selector_is_empty(const field_selector *sel)
{
  return sel == NULL || sel->n == 0;
}

char *
field_selector_to_string(const field_selector *sel)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, ""); /* NUL-terminated even when empty */
  for (size_t i = 0; sel != NULL && i < sel->n; i++) {
    if (i > 0)
      buf_puts(&b, ",");
    cleanup_free char *term = term_to_string(&sel->terms[i]);
    buf_puts(&b, term);
  }
  return buf_steal(&b, NULL);
}
