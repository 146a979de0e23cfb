/* probe_exec.c — the exec probe: the command runs in the container through the runtime
 * (the target's exec callback); exit code 0 is success, anything else a failure whose
 * message is the command's output, as upstream reports it. */
#include "kubelet/probes/probe.h"

#include "lib/mem.h"

#include <stdlib.h>

enum probe_result
probe_exec_run(const json_t *exec, const struct probe_target *t, int timeout_ms, char **message)
{
  const json_t *command = json_object_get(exec, "command");
  size_t n = json_array_size(command);
  if (n == 0) {
    *message = xstrdup("exec probe: no command");
    return PROBE_FAILURE;
  }
  if (t->exec == NULL) {
    *message = xstrdup("exec probe: the runtime cannot exec");
    return PROBE_UNKNOWN;
  }
  char **argv = xcalloc(n + 1, sizeof *argv);
  for (size_t i = 0; i < n; i++) {
    const char *a = json_string_value(json_array_get(command, i));
    argv[i] = (char *)(a ? a : "");
  }
  int code = -1;
  char *output = NULL;
  int rc = t->exec(t->exec_ctx, argv, timeout_ms, &code, &output);
  free(argv);
  if (rc < 0) {
    *message = output ? output : xstrdup("command timed out");
    return PROBE_FAILURE;
  }
  if (code == 0) {
    free(output);
    return PROBE_SUCCESS;
  }
  *message = output && output[0] ? output : xasprintf("command exited with code %d", code);
  if (output && *message != output)
    free(output);
  return PROBE_FAILURE;
}
