/* typed_test.c — typed_compare against an absent old object (a create) on member names
 * that are equal as C strings (embedded NUL): their subtrees merge into one path, in
 * whichever order they come, as when every path is inserted from the root. */
#include "apimachinery/typed.h"
#include "testlib.h"

#include <jansson.h>
#include <string.h>

static const struct schema_field *
no_fields(const char *definition, const char *name)
{
  (void)definition;
  (void)name;
  return NULL;
}

static const struct typed_schema deduced = {.field_lookup = no_fields};

static void
check_added(json_t *obj, const char *want)
{
  json_t *changed = NULL, *removed = NULL;
  typed_compare(&deduced, NULL, obj, NULL, &changed, &removed);
  CHECK_JSON(changed, want);
  CHECK_JSON(removed, "{}");
  /* A diff from an empty object records the same paths through the general walk. */
  json_t *empty = json_object();
  json_t *changed2 = NULL, *removed2 = NULL;
  typed_compare(&deduced, empty, obj, NULL, &changed2, &removed2);
  CHECK(json_equal(changed, changed2));
  json_decref(empty);
  json_decref(changed2);
  json_decref(removed2);
  json_decref(changed);
  json_decref(removed);
  json_decref(obj);
}

/* {"m": {first: {f1: 1}, second: {f2: 2}}} with keys given with their lengths. */
static json_t *
two_members(const char *first, size_t first_len, const char *f1, const char *second,
            size_t second_len, const char *f2)
{
  json_t *m = json_object();
  json_object_setn_new(m, first, first_len, json_pack("{s:i}", f1, 1));
  json_object_setn_new(m, second, second_len, json_pack("{s:i}", f2, 2));
  return json_pack("{s:o}", "m", m);
}

TEST(plain_names_each_get_their_path)
{
  check_added(two_members("a", 1, "p", "b", 1, "q"),
              "{\"f:m\":{\".\":{},\"f:a\":{\".\":{},\"f:p\":{}},\"f:b\":{\".\":{},\"f:q\":{}}}}");
}

TEST(names_equal_up_to_a_nul_merge_in_either_order)
{
  const char *want = "{\"f:m\":{\".\":{},\"f:a\":{\".\":{},\"f:p\":{},\"f:q\":{}}}}";
  check_added(two_members("a\0x", 3, "p", "a", 1, "q"), want);
  check_added(two_members("a", 1, "q", "a\0x", 3, "p"), want);
}

TEST_MAIN()
