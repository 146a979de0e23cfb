/* labels.c — label selector parsing, conversion, matching and printing (see labels.h).
 *
 * The string parser follows upstream's shape: a lexer turns the whole text into tokens
 * first, then a recursive-descent parser reads requirements with one token of lookahead,
 * where "in"/"notin" count as plain identifiers wherever a value or key is expected. */
#include "apimachinery/labels.h"

#include "apimachinery/validation.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum label_op {
  LABEL_OP_EQUALS,
  LABEL_OP_DOUBLE_EQUALS,
  LABEL_OP_NOT_EQUALS,
  LABEL_OP_IN,
  LABEL_OP_NOT_IN,
  LABEL_OP_EXISTS,
  LABEL_OP_DOES_NOT_EXIST,
  LABEL_OP_GREATER_THAN,
  LABEL_OP_LESS_THAN,
} label_op;

struct label_requirement {
  char *key;
  label_op op;
  char **values; /* sorted, distinct */
  size_t nvalues;
};

struct label_selector {
  struct label_requirement *reqs; /* sorted by key */
  size_t n;
  bool nothing;
};

/* ---- lexer ---- */

typedef enum token_kind {
  TOK_ERROR,
  TOK_END,
  TOK_IDENTIFIER,
  TOK_NOT,        /* ! */
  TOK_EQUALS,     /* = */
  TOK_DOUBLE_EQ,  /* == */
  TOK_NOT_EQUALS, /* != */
  TOK_GREATER,    /* > */
  TOK_LESS,       /* < */
  TOK_OPEN,       /* ( */
  TOK_CLOSE,      /* ) */
  TOK_COMMA,      /* , */
  TOK_IN,         /* in */
  TOK_NOT_IN,     /* notin */
} token_kind;

typedef struct token {
  token_kind kind;
  char *literal; /* owned */
} token;

static const struct {
  const char *text;
  token_kind kind;
} symbols[] = {
    {"!", TOK_NOT},        {"!=", TOK_NOT_EQUALS}, {"(", TOK_OPEN},
    {")", TOK_CLOSE},      {",", TOK_COMMA},       {"=", TOK_EQUALS},
    {"==", TOK_DOUBLE_EQ}, {">", TOK_GREATER},     {"<", TOK_LESS},
};

static bool
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_symbol_char(char c)
{
  return c != '\0' && strchr("=!(),><", c) != NULL;
}

static token_kind
symbol_kind(const char *s, size_t n)
{
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
    if (strlen(symbols[i].text) == n && memcmp(symbols[i].text, s, n) == 0)
      return symbols[i].kind;
  return TOK_ERROR;
}

/* Longest run of symbol characters that still names a known operator. */
static token
lex_symbol(const char **pos)
{
  const char *start = *pos;
  size_t best = 0;
  token_kind best_kind = TOK_ERROR;
  for (size_t n = 1; is_symbol_char(start[n - 1]); n++) {
    token_kind k = symbol_kind(start, n);
    if (k != TOK_ERROR) {
      best = n;
      best_kind = k;
    } else if (best > 0) {
      break;
    }
  }
  if (best == 0) /* cannot happen: every single symbol character is a token */
    best = 1;
  *pos = start + best;
  return (token){best_kind, xstrndup(start, best)};
}

static token
lex_word(const char **pos)
{
  const char *start = *pos;
  const char *p = start;
  while (*p && !is_space(*p) && !is_symbol_char(*p))
    p++;
  *pos = p;
  size_t n = (size_t)(p - start);
  token_kind kind = TOK_IDENTIFIER;
  if (n == 2 && memcmp(start, "in", 2) == 0)
    kind = TOK_IN;
  else if (n == 5 && memcmp(start, "notin", 5) == 0)
    kind = TOK_NOT_IN;
  return (token){kind, xstrndup(start, n)};
}

typedef struct token_list {
  token *items;
  size_t n, cap;
  size_t pos;
} token_list;

static void
tokens_push(token_list *l, token t)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->items = xrealloc(l->items, l->cap * sizeof *l->items);
  }
  l->items[l->n++] = t;
}

static void
tokens_lex(token_list *l, const char *text)
{
  const char *p = text;
  for (;;) {
    while (is_space(*p))
      p++;
    if (*p == '\0') {
      tokens_push(l, (token){TOK_END, xstrdup("")});
      return;
    }
    tokens_push(l, is_symbol_char(*p) ? lex_symbol(&p) : lex_word(&p));
  }
}

static void
tokens_free(token_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i].literal);
  free(l->items);
}

typedef enum lex_context { CTX_VALUES, CTX_KEY_AND_OPERATOR } lex_context;

static token *
tokens_peek(token_list *l, lex_context ctx, token_kind *kind)
{
  token *t = &l->items[l->pos < l->n ? l->pos : l->n - 1];
  *kind = t->kind;
  if (ctx == CTX_VALUES && (*kind == TOK_IN || *kind == TOK_NOT_IN))
    *kind = TOK_IDENTIFIER;
  return t;
}

static token *
tokens_next(token_list *l, lex_context ctx, token_kind *kind)
{
  token *t = tokens_peek(l, ctx, kind);
  if (l->pos < l->n - 1)
    l->pos++;
  return t;
}

/* ---- requirements ---- */

static void
requirement_clear(struct label_requirement *r)
{
  free(r->key);
  for (size_t i = 0; i < r->nvalues; i++)
    free(r->values[i]);
  free(r->values);
}

static int
compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds value unless present (kept unsorted until requirement_finish_values). */
static void
requirement_add_value(struct label_requirement *r, const char *value)
{
  for (size_t i = 0; i < r->nvalues; i++)
    if (strcmp(r->values[i], value) == 0)
      return;
  r->values = xrealloc(r->values, (r->nvalues + 1) * sizeof *r->values);
  r->values[r->nvalues++] = xstrdup(value);
}

static void
requirement_finish_values(struct label_requirement *r)
{
  if (r->nvalues > 1)
    qsort(r->values, r->nvalues, sizeof *r->values, compare_strings);
}

static bool
parse_int64(const char *s, long long *out)
{
  if (*s == '\0')
    return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == ' ' || s[0] == '\t')
    return false;
  *out = v;
  return true;
}

/* Appends one "path: Invalid value: \"v\": detail" error to an aggregate. */
static void
add_field_error(buf *errors, int *count, const char *path, const char *value, const char *detail)
{
  if ((*count)++ > 0)
    buf_puts(errors, ", ");
  buf_printf(errors, "%s: Invalid value: ", path);
  validation_quote(errors, value);
  buf_printf(errors, ": %s", detail);
}

/* upstream's NewRequirement checks; returns -1 with a 400 whose message is the aggregate
 * of problems, prefixed by `prefix`. */
static int
requirement_validate(const struct label_requirement *r, const char *prefix, k8c_err *err)
{
  buf errors;
  buf_init(&errors);
  int count = 0;
  cleanup_free char *key_problems = validation_qualified_name_problems(r->key);
  if (key_problems != NULL)
    add_field_error(&errors, &count, "key", r->key, key_problems);
  switch (r->op) {
  case LABEL_OP_IN:
  case LABEL_OP_NOT_IN:
    if (r->nvalues == 0)
      add_field_error(&errors, &count, "values", "[]",
                      "for 'in', 'notin' operators, values set can't be empty");
    break;
  case LABEL_OP_EQUALS:
  case LABEL_OP_DOUBLE_EQUALS:
  case LABEL_OP_NOT_EQUALS:
    if (r->nvalues != 1)
      add_field_error(&errors, &count, "values", "[]",
                      "exact-match compatibility requires one single value");
    break;
  case LABEL_OP_EXISTS:
  case LABEL_OP_DOES_NOT_EXIST:
    if (r->nvalues != 0)
      add_field_error(&errors, &count, "values", r->values[0],
                      "values set must be empty for exists and does not exist");
    break;
  case LABEL_OP_GREATER_THAN:
  case LABEL_OP_LESS_THAN:
    if (r->nvalues != 1)
      add_field_error(&errors, &count, "values", "[]",
                      "for 'Gt', 'Lt' operators, exactly one value is required");
    for (size_t i = 0; i < r->nvalues; i++) {
      long long ignored;
      if (!parse_int64(r->values[i], &ignored)) {
        cleanup_free char *path = xasprintf("values[%zu]", i);
        add_field_error(&errors, &count, path, r->values[i],
                        "for 'Gt', 'Lt' operators, the value must be an integer");
      }
    }
    break;
  }
  for (size_t i = 0; i < r->nvalues; i++) {
    cleanup_free char *problems = validation_label_value_problems(r->values[i]);
    if (problems != NULL) {
      cleanup_free char *path = xasprintf("values[%zu][%s]", i, r->key);
      add_field_error(&errors, &count, path, r->values[i], problems);
    }
  }
  int rc = 0;
  if (count > 0)
    rc = k8c_error(err, 400, K8C_REASON_BAD_REQUEST, count > 1 ? "%s[%s]" : "%s%s", prefix,
                   buf_cstr(&errors));
  buf_free(&errors);
  return rc;
}

/* ---- selector building ---- */

static label_selector *
selector_new(void)
{
  return xcalloc(1, sizeof(label_selector));
}

static void
selector_add(label_selector *sel, struct label_requirement r)
{
  sel->reqs = xrealloc(sel->reqs, (sel->n + 1) * sizeof *sel->reqs);
  sel->reqs[sel->n++] = r;
}

/* Stable sort by key (insertion sort: selectors are short). */
static void
selector_sort(label_selector *sel)
{
  for (size_t i = 1; i < sel->n; i++) {
    struct label_requirement r = sel->reqs[i];
    size_t j = i;
    while (j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0) {
      sel->reqs[j] = sel->reqs[j - 1];
      j--;
    }
    sel->reqs[j] = r;
  }
}

void
label_selector_free(label_selector *sel)
{
  if (sel == NULL)
    return;
  for (size_t i = 0; i < sel->n; i++)
    requirement_clear(&sel->reqs[i]);
  free(sel->reqs);
  free(sel);
}

/* ---- string parser ---- */

#define REQUIREMENT_PREFIX "unable to parse requirement: "

static int
parse_values_list(token_list *tl, struct label_requirement *r, k8c_err *err)
{
  token_kind kind;
  token *t = tokens_next(tl, CTX_VALUES, &kind);
  if (kind != TOK_OPEN)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     REQUIREMENT_PREFIX "found '%s' expected: '('", t->literal);
  t = tokens_peek(tl, CTX_VALUES, &kind);
  if (kind == TOK_CLOSE) {
    tokens_next(tl, CTX_VALUES, &kind);
    requirement_add_value(r, "");
    return 0;
  }
  if (kind != TOK_IDENTIFIER && kind != TOK_COMMA)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     REQUIREMENT_PREFIX "found '%s', expected: ',', ')' or identifier", t->literal);
  const char *open_literal = t->literal;
  for (;;) {
    t = tokens_next(tl, CTX_VALUES, &kind);
    if (kind == TOK_IDENTIFIER) {
      requirement_add_value(r, t->literal);
      token *next = tokens_peek(tl, CTX_VALUES, &kind);
      if (kind == TOK_COMMA)
        continue;
      if (kind == TOK_CLOSE)
        break;
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       REQUIREMENT_PREFIX "found '%s', expected: ',' or ')'", next->literal);
    } else if (kind == TOK_COMMA) {
      if (r->nvalues == 0)
        requirement_add_value(r, ""); /* "(," */
      tokens_peek(tl, CTX_VALUES, &kind);
      if (kind == TOK_CLOSE) {
        requirement_add_value(r, ""); /* ",)" */
        break;
      }
      if (kind == TOK_COMMA) {
        tokens_next(tl, CTX_VALUES, &kind);
        requirement_add_value(r, ""); /* ",," */
      }
    } else {
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       REQUIREMENT_PREFIX "found '%s', expected: ',', or identifier", t->literal);
    }
  }
  t = tokens_next(tl, CTX_VALUES, &kind);
  if (kind != TOK_CLOSE)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     REQUIREMENT_PREFIX "found '%s', expected: ')'", open_literal);
  return 0;
}

static int
parse_exact_value(token_list *tl, struct label_requirement *r, k8c_err *err)
{
  token_kind kind;
  tokens_peek(tl, CTX_VALUES, &kind);
  if (kind == TOK_END || kind == TOK_COMMA) {
    requirement_add_value(r, "");
    return 0;
  }
  token *t = tokens_next(tl, CTX_VALUES, &kind);
  if (kind != TOK_IDENTIFIER)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     REQUIREMENT_PREFIX "found '%s', expected: identifier", t->literal);
  requirement_add_value(r, t->literal);
  return 0;
}

static int
parse_requirement(token_list *tl, struct label_requirement *r, k8c_err *err)
{
  token_kind kind;
  bool negated = false;
  token *t = tokens_next(tl, CTX_VALUES, &kind);
  if (kind == TOK_NOT) {
    negated = true;
    t = tokens_next(tl, CTX_VALUES, &kind);
  }
  if (kind != TOK_IDENTIFIER)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     REQUIREMENT_PREFIX "found '%s', expected: identifier", t->literal);
  cleanup_free char *key_problems = validation_qualified_name_problems(t->literal);
  if (key_problems != NULL) {
    buf quoted;
    buf_init(&quoted);
    validation_quote(&quoted, t->literal);
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, REQUIREMENT_PREFIX "<nil>: Invalid value: %s: %s",
              buf_cstr(&quoted), key_problems);
    buf_free(&quoted);
    return -1;
  }
  r->key = xstrdup(t->literal);
  tokens_peek(tl, CTX_VALUES, &kind);
  if (negated || kind == TOK_END || kind == TOK_COMMA) {
    r->op = negated ? LABEL_OP_DOES_NOT_EXIST : LABEL_OP_EXISTS;
    return requirement_validate(r, REQUIREMENT_PREFIX, err);
  }
  t = tokens_next(tl, CTX_KEY_AND_OPERATOR, &kind);
  switch (kind) {
  case TOK_IN:
    r->op = LABEL_OP_IN;
    break;
  case TOK_NOT_IN:
    r->op = LABEL_OP_NOT_IN;
    break;
  case TOK_EQUALS:
    r->op = LABEL_OP_EQUALS;
    break;
  case TOK_DOUBLE_EQ:
    r->op = LABEL_OP_DOUBLE_EQUALS;
    break;
  case TOK_NOT_EQUALS:
    r->op = LABEL_OP_NOT_EQUALS;
    break;
  case TOK_GREATER:
    r->op = LABEL_OP_GREATER_THAN;
    break;
  case TOK_LESS:
    r->op = LABEL_OP_LESS_THAN;
    break;
  default:
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     REQUIREMENT_PREFIX "found '%s', expected: in, notin, =, ==, !=, gt, lt",
                     t->literal);
  }
  int rc = (r->op == LABEL_OP_IN || r->op == LABEL_OP_NOT_IN) ? parse_values_list(tl, r, err)
                                                              : parse_exact_value(tl, r, err);
  if (rc < 0)
    return -1;
  requirement_finish_values(r);
  return requirement_validate(r, REQUIREMENT_PREFIX, err);
}

label_selector *
label_selector_parse(const char *text, k8c_err *err)
{
  token_list tl = {0};
  tokens_lex(&tl, text ? text : "");
  label_selector *sel = selector_new();
  int rc = 0;
  for (;;) {
    token_kind kind;
    token *t = tokens_peek(&tl, CTX_VALUES, &kind);
    if (kind == TOK_END)
      break;
    if (kind != TOK_IDENTIFIER && kind != TOK_NOT) {
      rc = k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "found '%s', expected: !, identifier, or 'end of string'", t->literal);
      break;
    }
    struct label_requirement r = {0};
    if (parse_requirement(&tl, &r, err) < 0) {
      requirement_clear(&r);
      rc = -1;
      break;
    }
    selector_add(sel, r);
    t = tokens_next(&tl, CTX_VALUES, &kind);
    if (kind == TOK_END)
      break;
    if (kind != TOK_COMMA) {
      rc = k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "found '%s', expected: ',' or 'end of string'", t->literal);
      break;
    }
    t = tokens_peek(&tl, CTX_VALUES, &kind);
    if (kind != TOK_IDENTIFIER && kind != TOK_NOT) {
      rc = k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "found '%s', expected: identifier after ','",
                     t->literal);
      break;
    }
  }
  tokens_free(&tl);
  if (rc < 0) {
    label_selector_free(sel);
    return NULL;
  }
  selector_sort(sel);
  return sel;
}

/* ---- metav1.LabelSelector ---- */

static int
add_match_labels(label_selector *sel, const json_t *map, k8c_err *err)
{
  if (map == NULL || json_is_null(map))
    return 0;
  if (!json_is_object(map))
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "matchLabels must be an object");
  const char *key;
  const json_t *value;
  json_object_foreach ((json_t *)map, key, value) {
    if (!json_is_string(value))
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "matchLabels values must be strings (key \"%s\")", key);
    struct label_requirement r = {xstrdup(key), LABEL_OP_EQUALS, NULL, 0};
    requirement_add_value(&r, json_string_value(value));
    if (requirement_validate(&r, "", err) < 0) {
      requirement_clear(&r);
      return -1;
    }
    selector_add(sel, r);
  }
  return 0;
}

static int
add_match_expression(label_selector *sel, const json_t *expr, k8c_err *err)
{
  const char *key = json_string_value(json_object_get(expr, "key"));
  const char *op = json_string_value(json_object_get(expr, "operator"));
  struct label_requirement r = {xstrdup(key ? key : ""), LABEL_OP_IN, NULL, 0};
  if (op && strcmp(op, "In") == 0)
    r.op = LABEL_OP_IN;
  else if (op && strcmp(op, "NotIn") == 0)
    r.op = LABEL_OP_NOT_IN;
  else if (op && strcmp(op, "Exists") == 0)
    r.op = LABEL_OP_EXISTS;
  else if (op && strcmp(op, "DoesNotExist") == 0)
    r.op = LABEL_OP_DOES_NOT_EXIST;
  else {
    requirement_clear(&r);
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                     "\"%s\" is not a valid label selector operator", op ? op : "");
  }
  size_t i;
  const json_t *v;
  json_array_foreach (json_object_get(expr, "values"), i, v) {
    if (!json_is_string(v)) {
      requirement_clear(&r);
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
                       "matchExpressions values must be strings (key \"%s\")", key ? key : "");
    }
    requirement_add_value(&r, json_string_value(v));
  }
  requirement_finish_values(&r);
  if (requirement_validate(&r, "", err) < 0) {
    requirement_clear(&r);
    return -1;
  }
  selector_add(sel, r);
  return 0;
}

label_selector *
label_selector_from_json(const json_t *ls, k8c_err *err)
{
  label_selector *sel = selector_new();
  if (ls == NULL || json_is_null(ls))
    return sel;
  if (!json_is_object(ls)) {
    label_selector_free(sel);
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "a label selector must be an object");
    return NULL;
  }
  if (add_match_labels(sel, json_object_get(ls, "matchLabels"), err) < 0)
    goto fail;
  size_t i;
  const json_t *expr;
  json_array_foreach (json_object_get(ls, "matchExpressions"), i, expr) {
    if (add_match_expression(sel, expr, err) < 0)
      goto fail;
  }
  selector_sort(sel);
  return sel;
fail:
  label_selector_free(sel);
  return NULL;
}

label_selector *
label_selector_from_map(const json_t *map, k8c_err *err)
{
  label_selector *sel = selector_new();
  if (add_match_labels(sel, map, err) < 0) {
    label_selector_free(sel);
    return NULL;
  }
  selector_sort(sel);
  return sel;
}

label_selector *
label_selector_nothing(void)
{
  label_selector *sel = selector_new();
  sel->nothing = true;
  return sel;
}

bool
label_selector_is_empty(const label_selector *sel)
{
  return sel == NULL || (sel->n == 0 && !sel->nothing);
}

/* ---- matching ---- */

static bool
has_value(const struct label_requirement *r, const char *value)
{
  for (size_t i = 0; i < r->nvalues; i++)
    if (strcmp(r->values[i], value) == 0)
      return true;
  return false;
}

/* value: the label's value, NULL when the object has no such label. */
static bool
requirement_matches(const struct label_requirement *r, const char *value)
{
  bool present = value != NULL;
  switch (r->op) {
  case LABEL_OP_IN:
  case LABEL_OP_EQUALS:
  case LABEL_OP_DOUBLE_EQUALS:
    return present && has_value(r, value);
  case LABEL_OP_NOT_IN:
  case LABEL_OP_NOT_EQUALS:
    return !present || !has_value(r, value);
  case LABEL_OP_EXISTS:
    return present;
  case LABEL_OP_DOES_NOT_EXIST:
    return !present;
  case LABEL_OP_GREATER_THAN:
  case LABEL_OP_LESS_THAN: {
    long long have, want;
    if (!present || r->nvalues != 1 || !parse_int64(value, &have) ||
        !parse_int64(r->values[0], &want))
      return false;
    return r->op == LABEL_OP_GREATER_THAN ? have > want : have < want;
  }
  }
  return false;
}

bool
label_selector_matches(const label_selector *sel, const json_t *labels)
{
  if (sel == NULL)
    return true;
  if (sel->nothing)
    return false;
  for (size_t i = 0; i < sel->n; i++) {
    const json_t *v = json_is_object(labels) ? json_object_get(labels, sel->reqs[i].key) : NULL;
    if (!requirement_matches(&sel->reqs[i], json_string_value(v)))
      return false;
  }
  return true;
}

bool
label_selector_matches_lookup(const label_selector *sel, label_lookup get, const void *ctx)
{
  if (sel == NULL)
    return true;
  if (sel->nothing)
    return false;
  for (size_t i = 0; i < sel->n; i++)
    if (!requirement_matches(&sel->reqs[i], get(ctx, sel->reqs[i].key)))
      return false;
  return true;
}

/* ---- printing ---- */

char *
label_selector_to_string(const label_selector *sel)
{
  buf b;
  buf_init(&b);
  buf_puts(&b, ""); /* NUL-terminated even when empty */
  for (size_t i = 0; sel != NULL && i < sel->n; i++) {
    const struct label_requirement *r = &sel->reqs[i];
    if (i > 0)
      buf_puts(&b, ",");
    if (r->op == LABEL_OP_DOES_NOT_EXIST)
      buf_puts(&b, "!");
    buf_puts(&b, r->key);
    const char *op = "";
    switch (r->op) {
    case LABEL_OP_EQUALS:
      op = "=";
      break;
    case LABEL_OP_DOUBLE_EQUALS:
      op = "==";
      break;
    case LABEL_OP_NOT_EQUALS:
      op = "!=";
      break;
    case LABEL_OP_IN:
      op = " in ";
      break;
    case LABEL_OP_NOT_IN:
      op = " notin ";
      break;
    case LABEL_OP_GREATER_THAN:
      op = ">";
      break;
    case LABEL_OP_LESS_THAN:
      op = "<";
      break;
    case LABEL_OP_EXISTS:
    case LABEL_OP_DOES_NOT_EXIST:
      continue;
    }
    buf_puts(&b, op);
    bool list = r->op == LABEL_OP_IN || r->op == LABEL_OP_NOT_IN;
    if (list)
      buf_puts(&b, "(");
    for (size_t j = 0; j < r->nvalues; j++) {
      if (j > 0)
        buf_puts(&b, ",");
      buf_puts(&b, r->values[j]);
    }
    if (list)
      buf_puts(&b, ")");
  }
  return buf_steal(&b, NULL);
}
