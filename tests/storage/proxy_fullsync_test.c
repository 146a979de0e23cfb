/* proxy_fullsync_test.c — a full sync as the kernel keeps it: the table the syncer writes
 * (elements through libnftnl when the build has it) must list exactly like the one nft
 * makes from the syncer's complete text, for every kind of Service (ClusterIP, NodePort,
 * LoadBalancer with Local policy, no endpoints, affinity, UDP/SCTP) and enough of them to
 * need several netlink messages per map. Runs in its own network namespace; needs root. */
#include "lib/mem.h"
#include "proxy/proxy_model.h"
#include "proxy/proxy_nftnl.h"
#include "proxy/proxy_sync.h"
#include "testlib.h"

#include <nftables/libnftables.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE "k8cfull"
#define N_BULK 400 /* ClusterIP Services × 10 endpoints: ~4,000 endpoint elements */

static const char *const node_ips[] = {"192.168.77.1", NULL};
static const struct proxy_render_config cfg = {.table = TABLE,
                                               .cluster_cidr = "10.42.0.0/16",
                                               .service_cidr = "10.43.0.0/16",
                                               .masquerade_mark = 0x4000,
                                               .node_ips = node_ips};

static const char *const special[][2] = {
    {"{\"metadata\":{\"namespace\":\"d\",\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\","
     "\"clusterIP\":\"10.43.200.1\",\"externalTrafficPolicy\":\"Local\",\"externalIPs\":["
     "\"192.168.77.50\"],\"ports\":[{\"name\":\"http\",\"port\":80,\"nodePort\":30080}]},"
     "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.168.77.60\"}]}}}",
     "{\"metadata\":{\"namespace\":\"d\",\"name\":\"lb-1\"},\"ports\":[{\"name\":\"http\","
     "\"port\":8080}],\"endpoints\":[{\"addresses\":[\"10.42.0.5\"],\"nodeName\":\"n1\"},"
     "{\"addresses\":[\"10.42.1.5\"],\"nodeName\":\"n2\"}]}"},
    {"{\"metadata\":{\"namespace\":\"d\",\"name\":\"np\"},\"spec\":{\"type\":\"NodePort\","
     "\"clusterIP\":\"10.43.200.2\",\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":"
     "\"UDP\",\"nodePort\":30053}]}}",
     "{\"metadata\":{\"namespace\":\"d\",\"name\":\"np-1\"},\"ports\":[{\"name\":\"dns\","
     "\"port\":5353,\"protocol\":\"UDP\"}],\"endpoints\":[{\"addresses\":[\"10.42.2.9\"],"
     "\"nodeName\":\"n2\"}]}"},
    {"{\"metadata\":{\"namespace\":\"d\",\"name\":\"empty\"},\"spec\":{\"type\":\"NodePort\","
     "\"clusterIP\":\"10.43.200.3\",\"ports\":[{\"port\":80,\"nodePort\":30001,\"protocol\":"
     "\"SCTP\"}]}}",
     NULL},
    {"{\"metadata\":{\"namespace\":\"d\",\"name\":\"local\"},\"spec\":{\"clusterIP\":"
     "\"10.43.200.4\",\"internalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80}]}}",
     "{\"metadata\":{\"namespace\":\"d\",\"name\":\"local-1\"},\"ports\":[{\"port\":8080}],"
     "\"endpoints\":[{\"addresses\":[\"10.42.1.7\"],\"nodeName\":\"n2\"}]}"},
    {"{\"metadata\":{\"namespace\":\"d\",\"name\":\"sticky\"},\"spec\":{\"clusterIP\":"
     "\"10.43.200.5\",\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"port\":80}]}}",
     "{\"metadata\":{\"namespace\":\"d\",\"name\":\"sticky-1\"},\"ports\":[{\"port\":8080}],"
     "\"endpoints\":[{\"addresses\":[\"10.42.0.8\"],\"nodeName\":\"n1\"},{\"addresses\":["
     "\"10.42.1.8\"],\"nodeName\":\"n2\"}]}"},
};
#define N_SPECIAL (sizeof special / sizeof special[0])

static void
build(const char *svc_text, const char *slice_text, struct proxy_service *out)
{
  json_error_t jerr;
  json_t *svc = json_loads(svc_text, 0, &jerr);
  json_t *slice = slice_text ? json_loads(slice_text, 0, &jerr) : NULL;
  if (svc == NULL || (slice_text && slice == NULL))
    abort();
  proxy_service_build(svc, slice ? &slice : NULL, slice ? 1 : 0, "n1", out);
  json_decref(svc);
  json_decref(slice);
}

/* Service i of the bulk: ClusterIP 10.43.x.y:80 over 10 endpoints, some on this node. */
static void
build_bulk(int i, int shift, struct proxy_service *out)
{
  buf svc, slice;
  buf_init(&svc);
  buf_init(&slice);
  buf_printf(&svc,
             "{\"metadata\":{\"namespace\":\"bulk\",\"name\":\"s%d\"},\"spec\":{\"clusterIP\":"
             "\"10.43.%d.%d\",\"ports\":[{\"name\":\"p\",\"port\":%d}]}}",
             i, 1 + i / 200, i % 200 + 1, 80 + i % 3);
  buf_printf(&slice,
             "{\"metadata\":{\"namespace\":\"bulk\",\"name\":\"s%d-1\"},\"ports\":[{"
             "\"name\":\"p\",\"port\":8080}],\"endpoints\":[",
             i);
  for (int e = 0; e < 10; e++) {
    int n = i * 10 + e + shift;
    buf_printf(&slice, "%s{\"addresses\":[\"10.42.%d.%d\"],\"nodeName\":\"n%d\"}", e ? "," : "",
               n / 250, n % 250 + 1, n % 7);
  }
  buf_puts(&slice, "]}");
  build(buf_cstr(&svc), buf_cstr(&slice), out);
  buf_free(&svc);
  buf_free(&slice);
}

static int
text_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Drops handles and sorts the element lists (their order is the kernel's hash order). */
static void
normalise(json_t *j)
{
  if (json_is_object(j)) {
    json_object_del(j, "handle");
    const char *k;
    json_t *v;
    json_object_foreach (j, k, v) {
      normalise(v);
      if (strcmp(k, "elem") == 0 && json_is_array(v)) {
        size_t n = json_array_size(v);
        char **texts = xcalloc(n + 1, sizeof *texts);
        for (size_t i = 0; i < n; i++)
          texts[i] =
              json_dumps(json_array_get(v, i), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        qsort(texts, n, sizeof *texts, text_cmp);
        json_array_clear(v);
        for (size_t i = 0; i < n; i++) {
          json_array_append_new(v, json_loads(texts[i], JSON_DECODE_ANY, NULL));
          free(texts[i]);
        }
        free(texts);
      }
    }
  } else if (json_is_array(j)) {
    size_t i;
    json_t *v;
    json_array_foreach (j, i, v)
      normalise(v);
  }
}

/* The table as `nft -j list table`, normalised and dumped (caller frees), or NULL. */
static char *
list_table(struct nft_ctx *nft)
{
  if (nft_run_cmd_from_buffer(nft, "list table ip " TABLE) != 0) {
    fprintf(stderr, "list: %s\n", nft_ctx_get_error_buffer(nft));
    return NULL;
  }
  json_error_t jerr;
  json_t *j = json_loads(nft_ctx_get_output_buffer(nft), 0, &jerr);
  if (j == NULL)
    return NULL;
  normalise(j);
  char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(j);
  return text;
}

static size_t
count(const char *haystack, const char *needle)
{
  size_t n = 0;
  for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

TEST(full_sync_loads_the_same_table_as_its_text)
{
  if (geteuid() != 0) {
    testlib_fail(__FILE__, __LINE__, "the full sync test needs root (network namespace, nftables)");
    return;
  }
  CHECK_INT(unshare(CLONE_NEWNET), 0);
  size_t n = N_SPECIAL + N_BULK;
  struct proxy_service *svcs = xcalloc(n, sizeof *svcs);
  for (size_t i = 0; i < N_SPECIAL; i++)
    build(special[i][0], special[i][1], &svcs[i]);
  for (int i = 0; i < N_BULK; i++)
    build_bulk(i, 0, &svcs[N_SPECIAL + (size_t)i]);

  struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
  CHECK(nft != NULL);
  nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
  CHECK_INT(nft_ctx_buffer_output(nft), 0);
  CHECK_INT(nft_ctx_buffer_error(nft), 0);

  /* The reference: the syncer's whole text, loaded by nft. */
  k8c_err err = {0};
  proxy_syncer *text_only = proxy_syncer_new(&cfg, false);
  CHECK_INT(proxy_syncer_full(text_only, svcs, n, &err), 0);
  int rc = nft_run_cmd_from_buffer(nft, proxy_syncer_last_batch(text_only));
  if (rc != 0)
    fprintf(stderr, "nft: %s\n", nft_ctx_get_error_buffer(nft));
  CHECK_INT(rc, 0);
  char *want = list_table(nft);
  CHECK(want != NULL);

  /* The syncer's own full sync, over that table (replaced in it). */
  proxy_syncer *s = proxy_syncer_new(&cfg, true);
  rc = proxy_syncer_full(s, svcs, n, &err);
  if (rc != 0)
    fprintf(stderr, "full sync: %s\n", err.message);
  CHECK_INT(rc, 0);
  CHECK(proxy_syncer_in_sync(s));
  char *got = list_table(nft);
  CHECK(got != NULL);
  if (want && got) {
    CHECK(strcmp(want, got) == 0);
    /* Not vacuous: every kind of element is there. */
    CHECK(count(got, "\"numgen\"") >= 5);
    CHECK(count(want, "10.42.") >= N_BULK * 10);
    CHECK(strstr(got, "\"goto\": {\"target\": \"reject-chain\"}") != NULL ||
          strstr(got, "\"goto\":{\"target\":\"reject-chain\"}") != NULL);
    CHECK(strstr(got, "\"drop\":null") != NULL);
    CHECK(strstr(got, "np-local-1") != NULL);
    CHECK(strstr(got, "svc-d/sticky/tcp/80") != NULL);
  }
  /* A second full sync over the live table replaces it the same way. */
  CHECK_INT(proxy_syncer_full(s, svcs, n, &err), 0);
  char *again = list_table(nft);
  CHECK(again != NULL && want != NULL && strcmp(again, want) == 0);
  /* Updates share the syncer's kept nft context; one released in between is reopened.
   * Endpoints moved to 10.42.20.x (no other Service's) and back leave the same table. */
  CHECK(proxy_syncer_holds_nft(s));
  struct proxy_service moved;
  build_bulk(0, 5000, &moved);
  CHECK_INT(proxy_syncer_update(s, &moved, 1, &err), 0);
  CHECK(proxy_syncer_holds_nft(s));
  char *after_move = list_table(nft);
  CHECK(after_move != NULL && count(after_move, "10.42.20.") >= 10); /* endpoints, hairpin */
  proxy_syncer_release_nft(s);
  CHECK(!proxy_syncer_holds_nft(s));
  CHECK_INT(proxy_syncer_update(s, &svcs[N_SPECIAL], 1, &err), 0);
  CHECK(proxy_syncer_holds_nft(s));
  char *moved_back = list_table(nft);
  CHECK(moved_back != NULL && want != NULL && strcmp(moved_back, want) == 0);
  free(after_move);
  free(moved_back);
  proxy_service_clear(&moved);

  fprintf(stderr, "full sync elements via %s: %zu bytes of listing\n",
          proxy_nftnl_available() ? "libnftnl" : "nft text", want ? strlen(want) : 0);

  free(want);
  free(got);
  free(again);
  k8c_err_clear(&err);
  proxy_syncer_free(s);
  proxy_syncer_free(text_only);
  nft_ctx_free(nft);
  for (size_t i = 0; i < n; i++)
    proxy_service_clear(&svcs[i]);
  free(svcs);
}

TEST_MAIN()
