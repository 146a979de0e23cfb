/* main.c — the k8c entry point: dispatches to one subcommand per file in src/cmd/. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

static void
usage(FILE *out)
{
  fprintf(out, "usage: k8c COMMAND [flags]\n\n"
               "commands:\n"
               "  server    run the API server (and, later, the controllers and a node agent)\n"
               "  agent     join a server as a node agent (for now: --simulate N nodes)\n"
               "  image     import, list, remove and pull node images\n"
               "  version   print the version\n\n"
               "Run 'k8c COMMAND --help' for a command's flags.\n");
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "server") == 0)
    return cmd_server(argc - 1, argv + 1);
  if (strcmp(argv[1], "agent") == 0)
    return cmd_agent(argc - 1, argv + 1);
  if (strcmp(argv[1], "image") == 0)
    return cmd_image(argc - 1, argv + 1);
  if (strcmp(argv[1], "testing-proxy-bench") == 0)
    return cmd_testing_proxy_bench(argc - 1, argv + 1);
  if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)
    return cmd_version(argc - 1, argv + 1);
  if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "k8c: unknown command \"%s\"\n", argv[1]);
  usage(stderr);
  return 2;
}
