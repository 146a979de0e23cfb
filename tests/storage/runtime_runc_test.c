/* runtime_runc_test.c — the container scenarios (runtime_scenarios.h) with runc, the
 * fallback runtime, under conmon; each in a fresh fixture that must leave nothing behind. */
#include "runtime_scenarios.h"

#define RUN_SCENARIO(name)                                                                         \
  TEST(runc_##name)                                                                                \
  {                                                                                                \
    struct fixture f;                                                                              \
    fixture_setup(&f, "/usr/bin/runc");                                                            \
    scenario_##name(&f);                                                                           \
    fixture_teardown(&f, true);                                                                    \
  }

RUN_SCENARIO(basic)
RUN_SCENARIO(stop)
RUN_SCENARIO(oom)
RUN_SCENARIO(pids)
RUN_SCENARIO(exec)
RUN_SCENARIO(network)
RUN_SCENARIO(readopt)
RUN_SCENARIO(security)
RUN_SCENARIO(hostnet)
RUN_SCENARIO(bad_command)

TEST(runc_measure)
{
  struct fixture f;
  fixture_setup(&f, "/usr/bin/runc");
  scenario_measure(&f, "runc");
  fixture_teardown(&f, true);
}

TEST_MAIN()
