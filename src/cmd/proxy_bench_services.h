/* proxy_bench_services.h — Services for the proxy benchmarks (testing-proxy-bench,
 * testing-clusterip-bench), built through the proxy's own model as the informers would
 * feed it. */
#ifndef K8C_CMD_PROXY_BENCH_SERVICES_H
#define K8C_CMD_PROXY_BENCH_SERVICES_H

#include "proxy/proxy_model.h"

/* Service bench/NAME: ClusterIP ip port `port` ("http") → the NULL-terminated endpoint
 * addresses on target_port, all ready and on node. out is the caller's
 * (proxy_service_clear). */
void proxy_bench_service(const char *name, const char *ip, int port, const char *const *endpoints,
                         int target_port, const char *node, struct proxy_service *out);

/* Filler Service i: ClusterIP 10.43.x.y port 80 → `endpoints` endpoints
 * 10.(64+i/65536).x.y:8080 spread over 10 nodes (this one is node-0), the list shifted by
 * `shift` addresses (a changed endpoint). */
void proxy_bench_filler_service(int i, int endpoints, int shift, struct proxy_service *out);

#endif
