/* fuzz_dns_message.c — libFuzzer target for the DNS decoder: any bytes go through the
 * message checker, the query parser and the full answer path (UDP and TCP limits,
 * against a small record index), and complete an ExternalName chase as an upstream
 * answer. Every reply the server would send must itself be a well-formed message that
 * fits the limit. */
#include "dns/dns_answer.h"
#include "dns/dns_index.h"
#include "dns/dns_wire.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

static const char services_json[] =
    "[{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"10.43.0.20\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}},"
    "{\"metadata\":{\"name\":\"db\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\","
    "\"ports\":[{\"name\":\"pg\",\"port\":5432}]}},"
    "{\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},\"spec\":{\"type\":"
    "\"ExternalName\",\"externalName\":\"example.org\"}}]";
static const char slices_json[] =
    "[{\"metadata\":{\"name\":\"db-1\",\"namespace\":\"default\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"db\"}},\"ports\":[{\"name\":\"pg\",\"port\":5432,"
    "\"protocol\":\"TCP\"}],\"endpoints\":[{\"addresses\":[\"10.42.0.5\"],\"hostname\":"
    "\"db-0\"},{\"addresses\":[\"10.42.0.6\"]}]}]";

static struct dns_index *
fuzz_index(void)
{
  static struct dns_index *idx; /* built once, read-only afterwards */
  if (idx == NULL) {
    json_t *svcs = json_loads(services_json, 0, NULL), *slices = json_loads(slices_json, 0, NULL);
    json_t *sv[3] = {json_array_get(svcs, 0), json_array_get(svcs, 1), json_array_get(svcs, 2)};
    json_t *sl[1] = {json_array_get(slices, 0)};
    idx = dns_index_build("cluster.local", sv, 3, sl, 1);
    json_decref(svcs);
    json_decref(slices);
  }
  return idx;
}

static void
check_reply(const uint8_t *out, size_t n, size_t limit)
{
  if (n > limit || dns_message_check(out, n) < 0)
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t out[DNS_TCP_MAX + 1024];
  struct dns_query q;
  (void)dns_message_check(data, size);
  enum dns_parse_result pr = dns_query_parse(data, size, &q);
  for (int tcp = 0; tcp < 2; tcp++) {
    size_t n = 0;
    struct dns_chase chase;
    enum dns_action act =
        dns_answer(fuzz_index(), 5, data, size, tcp, out, DNS_TCP_MAX, &n, &chase);
    if (act == DNS_ACTION_DROP || act == DNS_ACTION_FORWARD)
      continue;
    size_t limit = tcp ? DNS_TCP_MAX : pr == DNS_PARSE_OK ? q.udp_size : DNS_UDP_MIN;
    check_reply(out, n, limit);
    if (act == DNS_ACTION_CHASE) {
      /* the input doubles as the upstream's answer */
      (void)dns_reply_append_chase(out, &n, DNS_TCP_MAX, data, size, &chase);
      check_reply(out, n, limit);
    }
  }
  return 0;
}
