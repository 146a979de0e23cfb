/* proxy_bench_services.c — benchmark Services as Service + EndpointSlice objects turned
 * into the proxy's model (see proxy_bench_services.h). */
#include "cmd/proxy_bench_services.h"

#include "lib/mem.h"

#include <stdio.h>

static void
build(const char *name, const char *ip, int port, json_t *eps, int target_port,
      struct proxy_service *out)
{
  json_t *svc =
      json_pack("{s:{s:s,s:s},s:{s:s,s:[{s:s,s:i}]}}", "metadata", "namespace", "bench", "name",
                name, "spec", "clusterIP", ip, "ports", "name", "http", "port", port);
  json_t *slice = json_pack("{s:s,s:[{s:s,s:i}],s:o}", "addressType", "IPv4", "ports", "name",
                            "http", "port", target_port, "endpoints", eps);
  proxy_service_build(svc, &slice, 1, "node-0", out);
  json_decref(svc);
  json_decref(slice);
}

static json_t *
endpoint(const char *ip, const char *node)
{
  return json_pack("{s:[s],s:{s:b},s:s}", "addresses", ip, "conditions", "ready", 1, "nodeName",
                   node);
}

void
proxy_bench_service(const char *name, const char *ip, int port, const char *const *endpoints,
                    int target_port, const char *node, struct proxy_service *out)
{
  json_t *eps = json_array();
  for (size_t i = 0; endpoints[i]; i++)
    json_array_append_new(eps, endpoint(endpoints[i], node));
  build(name, ip, port, eps, target_port, out);
}

void
proxy_bench_filler_service(int i, int endpoints, int shift, struct proxy_service *out)
{
  char name[32], ip[PROXY_IP_LEN];
  snprintf(name, sizeof name, "svc-%d", i);
  char cluster_ip[PROXY_IP_LEN];
  snprintf(cluster_ip, sizeof cluster_ip, "10.43.%d.%d", (i + 1) / 256, (i + 1) % 256);
  json_t *eps = json_array();
  for (int e = 0; e < endpoints; e++) {
    int n = i * endpoints + e + shift + 1;
    snprintf(ip, sizeof ip, "10.%d.%d.%d", 64 + n / 65536, n / 256 % 256, n % 256);
    char node[16];
    snprintf(node, sizeof node, "node-%d", n % 10);
    json_array_append_new(eps, endpoint(ip, node));
  }
  build(name, cluster_ip, 80, eps, 8080, out);
}
