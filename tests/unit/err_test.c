/* err_test.c — k8c_err: filling, causes, prefixing, clearing. */
#include "lib/err.h"
#include "testlib.h"

TEST(error_fills_and_returns_minus_one)
{
  k8c_err err = {0};
  CHECK_INT(k8c_error(&err, 404, K8C_REASON_NOT_FOUND, "pods \"%s\" not found", "x"), -1);
  CHECK_INT(err.status, 404);
  CHECK_STR(err.reason, "NotFound");
  CHECK_STR(err.message, "pods \"x\" not found");
  k8c_err_prefix(&err, "getting %s", "x");
  CHECK_STR(err.message, "getting x: pods \"x\" not found");
  k8c_err_add_cause(&err, "FieldValueRequired", "spec.x", "Required value");
  CHECK_INT(json_array_size(err.causes), 1);
  k8c_err_clear(&err);
  CHECK_INT(err.status, 0);
  CHECK(err.causes == NULL);
}

TEST_MAIN()
