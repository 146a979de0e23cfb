/* main.c — the k8c entry point: dispatches to one subcommand per file in src/cmd/. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "version") == 0) {
    printf("k8c v0.1.0\n");
    return 0;
  }
  fprintf(stderr, "usage: k8c server|agent|version [flags]\n");
  return 2;
}
