/* version.c — the version.Info answer for /version. */
#include "apiserver/version.h"

json_t *
version_json(void)
{
  return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", K8C_KUBE_MAJOR, "minor",
                   K8C_KUBE_MINOR, "gitVersion", K8C_GIT_VERSION, "gitCommit", "", "gitTreeState",
                   "clean", "buildDate", __DATE__, "goVersion", "none (C)", "compiler", "gcc",
                   "platform", "linux/amd64");
}
