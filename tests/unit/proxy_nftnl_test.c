/* proxy_nftnl_test.c — the element encoder behind the libnftnl fast path: the renderer's
 * element text becomes the kernel's binary layout (fields padded to 32 bits, addresses
 * and ports in network order, numgen indexes in host order) or is refused. */
#include "proxy/proxy_nftnl.h"
#include "testlib.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <string.h>

struct encoded {
  buf bin;
  size_t key_len, data_len, chain_len;
  int verdict;
  const char *chain;
};

static int
encode(enum proxy_map m, const char *text, struct encoded *e)
{
  buf_init(&e->bin);
  return proxy_nftnl_encode(m, text, strlen(text), &e->bin, &e->key_len, &e->data_len, &e->verdict,
                            &e->chain, &e->chain_len);
}

TEST(endpoint_element_has_the_kernel_layout)
{
  struct encoded e;
  CHECK_INT(encode(PM_CLUSTER_ENDPOINTS, "10.43.0.1 . tcp . 80 . 3 : 10.64.1.2 . 8080", &e), 0);
  CHECK_INT(e.key_len, 16);
  CHECK_INT(e.data_len, 8);
  uint32_t index = 3;
  uint8_t want[24] = {10, 43, 0, 1, 6,  0,  0, 0, 0,    80,   0, 0,
                      0,  0,  0, 0, 10, 64, 1, 2, 0x1f, 0x90, 0, 0};
  memcpy(want + 12, &index, sizeof index);
  CHECK_INT(e.bin.len, sizeof want);
  CHECK(e.bin.len == sizeof want && memcmp(e.bin.data, want, sizeof want) == 0);
  buf_free(&e.bin);

  CHECK_INT(encode(PM_NODEPORT_ENDPOINTS, "sctp . 30001 . 0 : 10.42.0.5 . 9", &e), 0);
  CHECK_INT(e.key_len, 12);
  CHECK_INT((uint8_t)e.bin.data[0], 132);
  CHECK_INT((uint8_t)e.bin.data[4], 30001 >> 8);
  CHECK_INT((uint8_t)e.bin.data[5], 30001 & 0xff);
  buf_free(&e.bin);
}

TEST(verdicts_and_sets)
{
  struct encoded e;
  CHECK_INT(encode(PM_SERVICE_IPS, "10.43.0.20 . udp . 53 : goto svc-default/dns/udp/53", &e), 0);
  CHECK_INT(e.key_len, 12);
  CHECK_INT(e.data_len, 0);
  CHECK_INT(e.verdict, NFT_GOTO);
  CHECK(e.chain != NULL && e.chain_len == strlen("svc-default/dns/udp/53") &&
        memcmp(e.chain, "svc-default/dns/udp/53", e.chain_len) == 0);
  CHECK_INT((uint8_t)e.bin.data[4], 17);
  buf_free(&e.bin);

  CHECK_INT(encode(PM_NOEP_NODEPORTS, "tcp . 30080 : drop", &e), 0);
  CHECK_INT(e.verdict, NF_DROP);
  CHECK(e.chain == NULL);
  buf_free(&e.bin);

  CHECK_INT(encode(PM_HAIRPIN, "10.42.0.5 . 10.42.0.6", &e), 0);
  CHECK_INT(e.key_len, 8);
  CHECK_INT((uint8_t)e.bin.data[7], 6);
  buf_free(&e.bin);

  CHECK_INT(encode(PM_CLUSTER_IPS, "10.43.0.9", &e), 0);
  CHECK_INT(e.key_len, 4);
  buf_free(&e.bin);
}

TEST(malformed_elements_are_refused)
{
  static const struct {
    enum proxy_map m;
    const char *text;
  } bad[] = {
      {PM_CLUSTER_IPS, "10.43.0.256"},
      {PM_CLUSTER_IPS, "10.43.0.9 : drop"},             /* a set has no values */
      {PM_SERVICE_IPS, "10.43.0.1 . tcp . 80"},         /* a map needs one */
      {PM_SERVICE_IPS, "10.43.0.1 . tcp . 80 : goto "}, /* goto nowhere */
      {PM_SERVICE_IPS, "10.43.0.1 . tcp . 80 : continue"},
      {PM_SERVICE_IPS, "10.43.0.1 . tcp . 65536 : drop"},
      {PM_SERVICE_IPS, "10.43.0.1 . icmp . 80 : drop"},
      {PM_SERVICE_IPS, "10.43.0.1 . tcp : drop"},    /* a field short */
      {PM_SERVICE_NODEPORTS, "tcp . 80 . 1 : drop"}, /* a field too many */
      {PM_CLUSTER_ENDPOINTS, "10.43.0.1 . tcp . 80 . x : 10.0.0.1 . 80"},
      {PM_CLUSTER_ENDPOINTS, "10.43.0.1 . tcp . 80 . 0 : 10.0.0.1"},
      {PM_HAIRPIN, ""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct encoded e;
    int rc = encode(bad[i].m, bad[i].text, &e);
    if (rc != -1)
      fprintf(stderr, "accepted: %s\n", bad[i].text);
    CHECK_INT(rc, -1);
    buf_free(&e.bin);
  }
}

TEST_MAIN()
