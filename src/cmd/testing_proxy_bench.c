/* testing_proxy_bench.c — `k8c testing-proxy-bench` (hidden): measures the service
 * proxy's nftables syncs in a private network namespace (the host's rules are never
 * touched): a full sync of N Services × E endpoints, then single-endpoint changes applied
 * incrementally with all N Services in the table. Prints one JSON line per figure;
 * sync_cpu_ms (this process, user + kernel: libnftables and the netlink commit run in
 * its context) is the figure that does not depend on what else the machine runs. */
#include "cmd/cmd.h"
#include "cmd/proxy_bench_services.h"
#include "lib/clock.h"
#include "lib/mem.h"
#include "proxy/proxy_sync.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
cpu_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
double_cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int
bench(int services, int endpoints, int changes, const char *table)
{
  const char *node_ips[] = {"192.168.77.1", NULL};
  struct proxy_render_config cfg = {.table = table,
                                    .cluster_cidr = "10.64.0.0/10",
                                    .service_cidr = "10.43.0.0/16",
                                    .masquerade_mark = 0x4000,
                                    .node_ips = node_ips};
  proxy_syncer *s = proxy_syncer_new(&cfg, true);
  double t0 = clock_monotonic_ms_frac();
  struct proxy_service *svcs = xcalloc(services, sizeof *svcs);
  for (int i = 0; i < services; i++)
    proxy_bench_filler_service(i, endpoints, 0, &svcs[i]);
  double t_model = clock_monotonic_ms_frac() - t0;
  k8c_err err = {0};
  t0 = clock_monotonic_ms_frac();
  double c0 = cpu_ms();
  if (proxy_syncer_full(s, svcs, services, &err) < 0) {
    fprintf(stderr, "full sync: %s\n", err.message);
    return 1;
  }
  double t_full = clock_monotonic_ms_frac() - t0, c_full = cpu_ms() - c0;
  struct proxy_sync_stats st;
  proxy_syncer_stats(s, &st);
  printf("{\"figure\":\"full_sync\",\"services\":%d,\"endpoints_per_service\":%d,"
         "\"model_ms\":%.1f,\"sync_ms\":%.1f,\"sync_cpu_ms\":%.1f,\"batch_bytes\":%zu}\n",
         services, endpoints, t_model, t_full, c_full, st.last_batch_bytes);

  double *lat = xcalloc(changes + 1, sizeof *lat);
  for (int c = 0; c < changes; c++) {
    int i = (int)((unsigned)c * 7919u % (unsigned)services);
    struct proxy_service changed;
    t0 = clock_monotonic_ms_frac();
    proxy_bench_filler_service(i, endpoints, (c % 2) ? 0 : 1, &changed); /* one endpoint replaced */
    int rc = proxy_syncer_update(s, &changed, 1, &err);
    lat[c] = clock_monotonic_ms_frac() - t0;
    proxy_service_clear(&changed);
    if (rc < 0) {
      fprintf(stderr, "update: %s\n", err.message);
      return 1;
    }
  }
  qsort(lat, changes, sizeof *lat, double_cmp);
  if (changes > 0)
    printf("{\"figure\":\"endpoint_change\",\"services\":%d,\"changes\":%d,\"p50_ms\":%.2f,"
           "\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
           services, changes, lat[changes / 2], lat[changes * 99 / 100], lat[changes - 1]);
  free(lat);
  for (int i = 0; i < services; i++)
    proxy_service_clear(&svcs[i]);
  free(svcs);
  proxy_syncer_free(s);
  fflush(stdout);
  return 0;
}

int
cmd_testing_proxy_bench(int argc, char **argv)
{
  int services = 1000, endpoints = 10, changes = 200;
  const char *table = "k8c-bench";
  static const struct option opts[] = {{"services", required_argument, NULL, 's'},
                                       {"endpoints", required_argument, NULL, 'e'},
                                       {"changes", required_argument, NULL, 'c'},
                                       {"table", required_argument, NULL, 't'},
                                       {NULL, 0, NULL, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (o == 's')
      services = atoi(optarg);
    else if (o == 'e')
      endpoints = atoi(optarg);
    else if (o == 'c')
      changes = atoi(optarg);
    else if (o == 't')
      table = optarg;
    else
      return 2;
  }
  if (services < 1 || services > 60000 || endpoints < 1 || endpoints > 1000 || changes < 0) {
    fprintf(stderr, "testing-proxy-bench: --services 1..60000, --endpoints 1..1000\n");
    return 2;
  }
  /* A private network namespace: the table is made and dropped with it. */
  if (unshare(CLONE_NEWNET) < 0) {
    fprintf(stderr, "testing-proxy-bench: unshare(CLONE_NEWNET): %s (needs root)\n",
            strerror(errno));
    return 1;
  }
  return bench(services, endpoints, changes, table);
}
