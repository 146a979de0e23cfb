/* image.c — `k8c image import|ls|rm|pull`: the node's image store from the command line
 * (k3s's `ctr images import` for air-gapped nodes, crictl's images/rmi/pull).
 *
 * A thin layer over kubelet/images: flags, then one library call per verb. */
#include "cmd/cmd.h"
#include "kubelet/images/images.h"
#include "lib/mem.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DATA_DIR "/var/lib/k8c"
#define DEFAULT_REGISTRIES "/etc/k8c/registries.yaml"

struct image_flags {
  const char *data_dir;
  const char *registries;
  int timeout;
  bool quiet;
  bool disable_default_endpoint;
};

static void
image_usage(FILE *out)
{
  fprintf(out, "usage: k8c image COMMAND [flags] [ARGS]\n\n"
               "commands:\n"
               "  import FILE...   import OCI layout or docker-save tars (optionally compressed)\n"
               "  ls               list images\n"
               "  rm REF...        remove images (by name, name@digest or ID)\n"
               "  pull REF...      pull images from their registries (or mirrors)\n\n"
               "flags:\n"
               "  --data-dir DIR             state directory (default " DEFAULT_DATA_DIR ");\n"
               "                             images live under DIR/agent/images\n"
               "  --private-registry FILE    registries.yaml (default " DEFAULT_REGISTRIES ")\n"
               "  --timeout SECONDS          registry connect/silence timeout (default 30)\n"
               "  --disable-default-registry-endpoint\n"
               "                             with a mirror configured, never fall back to the\n"
               "                             registry itself\n"
               "  -q, --quiet                ls: print image IDs only\n");
}

static char *
short_size(int64_t bytes)
{
  if (bytes >= 1000 * 1000)
    return xasprintf("%.1fMB", (double)bytes / 1e6);
  if (bytes >= 1000)
    return xasprintf("%.1fkB", (double)bytes / 1e3);
  return xasprintf("%" PRId64 "B", bytes);
}

static void
print_image_row(const char *name, const struct image_info *info)
{
  cleanup_free char *size = short_size(info->size);
  const char *hex = strchr(info->id, ':') ? strchr(info->id, ':') + 1 : info->id;
  if (name == NULL) {
    printf("%-50s %-20s %-13.13s %s\n", "<none>", "<none>", hex, size);
    return;
  }
  /* split "domain/path:tag" at the tag's colon (after the last '/') */
  const char *slash = strrchr(name, '/');
  const char *colon = strrchr(slash ? slash : name, ':');
  int repo_len = colon ? (int)(colon - name) : (int)strlen(name);
  printf("%-50.*s %-20s %-13.13s %s\n", repo_len, name, colon ? colon + 1 : "<none>", hex, size);
}

static int
run_ls(struct image_store *store, const struct image_flags *flags)
{
  struct image_info **list = NULL;
  size_t n = 0;
  k8c_err err = {0};
  if (image_list(store, &list, &n, &err) < 0) {
    fprintf(stderr, "k8c image ls: %s\n", err.message);
    k8c_err_clear(&err);
    return 1;
  }
  if (!flags->quiet)
    printf("%-50s %-20s %-13s %s\n", "IMAGE", "TAG", "IMAGE ID", "SIZE");
  for (size_t i = 0; i < n; i++) {
    if (flags->quiet) {
      printf("%s\n", list[i]->id);
      continue;
    }
    if (list[i]->names[0] == NULL)
      print_image_row(NULL, list[i]);
    for (size_t k = 0; list[i]->names[k]; k++)
      print_image_row(list[i]->names[k], list[i]);
  }
  image_info_list_free(list, n);
  return 0;
}

static int
run_verb(struct image_store *store, const char *verb, int argc, char **argv,
         const struct image_flags *flags)
{
  if (strcmp(verb, "ls") == 0 || strcmp(verb, "list") == 0)
    return run_ls(store, flags);
  if (argc == 0) {
    fprintf(stderr, "k8c image %s: needs at least one argument\n", verb);
    return 2;
  }
  struct registries_config *registries = NULL;
  k8c_err err = {0};
  if (strcmp(verb, "pull") == 0) {
    registries = registries_load(flags->registries, &err);
    if (registries == NULL) {
      fprintf(stderr, "k8c image pull: %s\n", err.message);
      k8c_err_clear(&err);
      return 1;
    }
  }
  int status = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(verb, "pull") == 0) {
      struct image_pull_options opts = {
          .registries = registries,
          .timeout_seconds = flags->timeout,
          .disable_default_endpoint = flags->disable_default_endpoint,
      };
      struct image_info *info = image_pull(store, argv[i], &opts, &err);
      if (info != NULL)
        printf("%s %s\n", info->names[0] ? info->names[0] : argv[i], info->id);
      image_info_free(info);
      if (info == NULL)
        status = 1;
    } else if (strcmp(verb, "import") == 0) {
      struct image_info **list = NULL;
      size_t n = 0;
      if (image_import(store, argv[i], &list, &n, &err) < 0) {
        status = 1;
      } else {
        for (size_t k = 0; k < n; k++) {
          printf("imported %s", list[k]->id);
          for (size_t t = 0; list[k]->names[t]; t++)
            printf("%s%s", t ? ", " : " (", list[k]->names[t]);
          printf("%s\n", list[k]->names[0] ? ")" : "");
        }
      }
      image_info_list_free(list, n);
    } else {
      if (image_remove(store, argv[i], &err) < 0)
        status = 1;
      else
        printf("deleted %s\n", argv[i]);
    }
    if (err.status != 0) {
      fprintf(stderr, "k8c image %s: %s\n", verb, err.message);
      k8c_err_clear(&err);
    }
  }
  registries_free(registries);
  return status;
}

int
cmd_image(int argc, char **argv)
{
  struct image_flags flags = {
      .data_dir = DEFAULT_DATA_DIR,
      .registries = DEFAULT_REGISTRIES,
      .timeout = 30,
  };
  enum { OPT_DATA_DIR = 256, OPT_REGISTRIES, OPT_TIMEOUT, OPT_NO_DEFAULT };
  static const struct option options[] = {
      {"data-dir", required_argument, NULL, OPT_DATA_DIR},
      {"private-registry", required_argument, NULL, OPT_REGISTRIES},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"disable-default-registry-endpoint", no_argument, NULL, OPT_NO_DEFAULT},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    image_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *verb = argv[1];
  static const char *const verbs[] = {"import", "ls", "list", "rm", "rmi", "pull", NULL};
  bool known = false;
  for (size_t i = 0; verbs[i]; i++)
    known |= strcmp(verb, verbs[i]) == 0;
  if (!known) {
    fprintf(stderr, "k8c image: unknown command \"%s\"\n", verb);
    image_usage(stderr);
    return 2;
  }
  argc--;
  argv++;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
    switch (c) {
    case OPT_DATA_DIR:
      flags.data_dir = optarg;
      break;
    case OPT_REGISTRIES:
      flags.registries = optarg;
      break;
    case OPT_TIMEOUT:
      flags.timeout = atoi(optarg);
      if (flags.timeout <= 0) {
        fprintf(stderr, "k8c image: --timeout must be a positive number of seconds\n");
        return 2;
      }
      break;
    case OPT_NO_DEFAULT:
      flags.disable_default_endpoint = true;
      break;
    case 'q':
      flags.quiet = true;
      break;
    case 'h':
      image_usage(stdout);
      return 0;
    default:
      image_usage(stderr);
      return 2;
    }
  }
  if (optind >= argc && strcmp(verb, "ls") != 0 && strcmp(verb, "list") != 0) {
    fprintf(stderr, "k8c image %s: needs at least one argument\n", verb);
    return 2;
  }
  cleanup_free char *root = xasprintf("%s/agent/images", flags.data_dir);
  k8c_err err = {0};
  struct image_store *store = image_store_open(root, &err);
  if (store == NULL) {
    fprintf(stderr, "k8c image: %s\n", err.message);
    k8c_err_clear(&err);
    return 1;
  }
  int status = run_verb(store, verb, argc - optind, argv + optind, &flags);
  image_store_close(store);
  return status;
}
