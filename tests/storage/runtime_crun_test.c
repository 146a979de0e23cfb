/* runtime_crun_test.c — the container scenarios (runtime_scenarios.h) with crun under
 * conmon, each in a fresh fixture that must leave nothing behind. */
#include "runtime_scenarios.h"

#define RUN_SCENARIO(name)                                                                         \
  TEST(crun_##name)                                                                                \
  {                                                                                                \
    struct fixture f;                                                                              \
    fixture_setup(&f, "/usr/bin/crun");                                                            \
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

TEST(crun_measure)
{
  struct fixture f;
  fixture_setup(&f, "/usr/bin/crun");
  scenario_measure(&f, "crun");
  fixture_teardown(&f, true);
}

TEST_MAIN()
