/* compactor_test.c — the compaction thread drops history older than one interval and
 * keeps every key's newest value. */
#include "storage/compactor.h"
#include "testlib.h"

#include <stdlib.h>
#include <unistd.h>

TEST(compacts_to_the_previous_tick)
{
  char dir[] = "/tmp/k8c-compactor-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  k8c_err err = {0};
  storage *s = storage_open("", dir, &err);
  CHECK(s != NULL);
  if (s == NULL)
    return;
  int64_t rev = 0;
  CHECK_INT(s->ops->create(s, "/registry/configmaps/default/a", "{}", 2, &rev, &err), 0);
  CHECK_INT(s->ops->update(s, "/registry/configmaps/default/a", "{\"x\":1}", 7, rev, &rev, &err),
            0);
  struct compactor *c = compactor_start(s, 1, &err);
  CHECK(c != NULL);
  /* First tick records the revision, the second compacts to it. */
  for (int i = 0; i < 40 && s->ops->compacted_revision(s) < rev; i++)
    usleep(100 * 1000);
  compactor_stop(c);
  CHECK(s->ops->compacted_revision(s) >= rev);
  storage_kv kv = {0};
  CHECK_INT(s->ops->get(s, "/registry/configmaps/default/a", &kv, &err), 0);
  CHECK_STR(kv.value, "{\"x\":1}");
  storage_kv_free(&kv);
  storage_kv_list out = {0};
  int64_t list_rev = 0;
  int more = 0;
  CHECK_INT(s->ops->list(s, "/registry/", NULL, 0, 1, &out, &list_rev, &more, &err), -1);
  CHECK_INT(err.status, 410);
  storage_kv_list_free(&out);
  k8c_err_clear(&err);
  s->ops->destroy(s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
}

TEST_MAIN()
