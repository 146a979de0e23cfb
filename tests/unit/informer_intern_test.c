/* informer_intern_test.c — hash-consing cached objects: equal subtrees of different
 * objects become one value, different ones stay apart, objects keep their content and
 * member order, and a sweep drops what only the table still holds. */
#include "client/informer_intern.h"
#include "testlib.h"

static json_t *
parse(const char *text)
{
  json_error_t jerr;
  json_t *v = json_loads(text, 0, &jerr);
  if (v == NULL)
    testlib_fail(__FILE__, __LINE__, "bad test JSON %s: %s", text, jerr.text);
  return v;
}

static const char *POD_A = "{\"metadata\":{\"name\":\"a\",\"labels\":{\"app\":\"web\"}},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\","
                           "\"ports\":[{\"containerPort\":80}]}],\"nodeName\":\"n1\","
                           "\"weight\":1.5},\"status\":{\"phase\":\"Running\"}}";
static const char *POD_B = "{\"metadata\":{\"name\":\"b\",\"labels\":{\"app\":\"web\"}},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\","
                           "\"ports\":[{\"containerPort\":80}]}],\"nodeName\":\"n2\","
                           "\"weight\":1.5},\"status\":{\"phase\":\"Pending\"}}";

static json_t *
at(json_t *obj, const char *a, const char *b)
{
  json_t *v = json_object_get(obj, a);
  return b ? json_object_get(v, b) : v;
}

TEST(equal_parts_are_shared_and_content_is_kept)
{
  informer_intern *t = informer_intern_new();
  json_t *a = parse(POD_A), *b = parse(POD_B);
  json_t *a_copy = json_deep_copy(a), *b_copy = json_deep_copy(b);
  informer_intern_children(t, a);
  informer_intern_children(t, b);
  CHECK(json_equal(a, a_copy));
  CHECK(json_equal(b, b_copy));
  char *text = json_dumps(a, JSON_COMPACT);
  CHECK_STR(text, POD_A); /* member order too */
  free(text);
  /* Shared: the same containers array, labels, image string, real. */
  CHECK(at(a, "spec", "containers") == at(b, "spec", "containers"));
  CHECK(at(a, "metadata", "labels") == at(b, "metadata", "labels"));
  CHECK(at(a, "spec", "weight") == at(b, "spec", "weight"));
  /* Not shared: objects that differ somewhere below. */
  CHECK(at(a, "spec", NULL) != at(b, "spec", NULL));
  CHECK(at(a, "metadata", NULL) != at(b, "metadata", NULL));
  CHECK(at(a, "status", NULL) != at(b, "status", NULL));
  CHECK_STR(json_string_value(at(b, "status", "phase")), "Pending");
  json_decref(a_copy);
  json_decref(b_copy);
  json_decref(a);
  json_decref(b);
  informer_intern_free(t);
}

TEST(types_and_order_distinguish_values)
{
  informer_intern *t = informer_intern_new();
  json_t *o = parse("{\"a\":[\"1\",1,1.0,true,null,{\"x\":1,\"y\":2},{\"y\":2,\"x\":1},[],{}],"
                    "\"b\":[\"1\",1,1.0,true,null,{\"x\":1,\"y\":2},{\"y\":2,\"x\":1},[],{}]}");
  informer_intern_children(t, o);
  json_t *a = json_object_get(o, "a"), *b = json_object_get(o, "b");
  CHECK(a == b);
  CHECK(json_array_get(a, 0) != json_array_get(a, 1)); /* "1" vs 1 */
  CHECK(json_array_get(a, 1) != json_array_get(a, 2)); /* 1 vs 1.0 */
  CHECK(json_array_get(a, 5) != json_array_get(a, 6)); /* member order differs */
  CHECK(json_array_get(a, 7) != json_array_get(a, 8)); /* [] vs {} */
  json_decref(o);
  informer_intern_free(t);
}

TEST(sweep_keeps_only_shared_values)
{
  informer_intern *t = informer_intern_new();
  json_t *a = parse(POD_A), *b = parse(POD_B);
  informer_intern_children(t, a);
  informer_intern_children(t, b);
  CHECK(informer_intern_count(t) > 10);
  json_t *containers = at(a, "spec", "containers");
  CHECK(containers == at(b, "spec", "containers"));
  /* Both pods alive: their shared parts stay, each pod's own name goes. */
  size_t shared = informer_intern_sweep(t);
  CHECK(shared > 2);
  json_t *a2 = parse(POD_A);
  informer_intern_children(t, a2);
  CHECK(at(a2, "spec", "containers") == containers);
  CHECK(at(a2, "metadata", "name") != at(a, "metadata", "name")); /* a's own: not indexed */
  json_decref(a2);
  informer_intern_free(t);
  json_decref(a);
  json_decref(b);
}

TEST(sweep_drops_values_only_the_table_holds)
{
  informer_intern *t = informer_intern_new();
  json_t *a = parse(POD_A), *b = parse(POD_B);
  informer_intern_children(t, a);
  informer_intern_children(t, b);
  size_t full = informer_intern_count(t);
  CHECK(full > 10);
  json_t *kept_labels = json_incref(at(a, "metadata", "labels"));
  json_incref(kept_labels); /* two holders: shared */
  json_decref(a);
  json_decref(b);
  CHECK_INT(informer_intern_sweep(t), 2); /* the labels object and its "web" string */
  json_t *c = parse(POD_A);
  informer_intern_children(t, c);
  CHECK(at(c, "metadata", "labels") == kept_labels);
  json_decref(c);
  json_decref(kept_labels);
  json_decref(kept_labels);
  CHECK_INT(informer_intern_sweep(t), 0);
  informer_intern_free(t);
}

TEST(the_table_grows_and_sweeps_itself)
{
  informer_intern *t = informer_intern_new();
  json_t *keep = json_array();
  for (int i = 0; i < 20000; i++) {
    char text[128];
    snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"p%d\"},\"spec\":{\"x\":[1,2,3]}}", i);
    json_t *o = parse(text);
    informer_intern_children(t, o);
    if (i % 100 == 0)
      json_array_append(keep, o);
    json_decref(o);
  }
  /* Per object a name string and a metadata object of its own; dropped ones swept. */
  CHECK(informer_intern_count(t) < 8192 + 4);
  json_t *first = json_array_get(keep, 0), *last = json_array_get(keep, 199);
  CHECK(at(first, "spec", NULL) == at(last, "spec", NULL));
  CHECK_STR(json_string_value(at(last, "metadata", "name")), "p19900");
  json_decref(keep);
  informer_intern_free(t);
}

TEST_MAIN()
