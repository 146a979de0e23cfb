/* main.c — the k8c entry point: dispatches to one subcommand per file in src/cmd/ through
 * one table; hidden commands (tests' and benchmarks' helpers) have no summary line. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary; /* NULL: hidden from the usage text */
};

static const struct command commands[] = {
    {"server", cmd_server, "run the API server, the controllers, the scheduler and a node agent"},
    {"agent", cmd_agent, "join a server as a node agent"},
    {"image", cmd_image, "import, list, remove and pull node images"},
    {"version", cmd_version, "print the version"},
    {"testing-kubelet-server", cmd_testing_kubelet_server, NULL},
    {"testing-dns-bench", cmd_testing_dns_bench, NULL},
    {"testing-proxy-bench", cmd_testing_proxy_bench, NULL},
    {"testing-clusterip-bench", cmd_testing_clusterip_bench, NULL},
};

static void
usage(FILE *out)
{
  fprintf(out, "usage: k8c COMMAND [flags]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].summary)
      fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'k8c COMMAND --help' for a command's flags.\n");
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--version") == 0)
    return cmd_version(argc - 1, argv + 1);
  if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "k8c: unknown command \"%s\"\n", argv[1]);
  usage(stderr);
  return 2;
}
