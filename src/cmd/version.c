/* version.c — `k8c version`. */
#include "apiserver/version.h"
#include "cmd/cmd.h"

#include <stdio.h>

int
cmd_version(int argc, char **argv)
{
  printf("k8c version %s (Kubernetes API %s)\n", K8C_VERSION, K8C_GIT_VERSION);
  return 0;
}
