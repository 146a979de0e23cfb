/* dns_index.h — the cluster's DNS records as one immutable snapshot: every name the
 * Kubernetes DNS specification defines for Services and EndpointSlices (A/AAAA, SRV,
 * CNAME, PTR), built in one go from the informers' objects and then only read, by any
 * number of threads without locks. A new snapshot replaces the old one on change. */
#ifndef K8C_DNS_INDEX_H
#define K8C_DNS_INDEX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct dns_srv {
  uint16_t priority, weight, port;
  char *target; /* dotted, lowercase */
};

/* The records at one name; a node with no records is an empty non-terminal (the name
 * exists: NODATA rather than NXDOMAIN). */
struct dns_node {
  size_t n_a, n_aaaa, n_srv, n_ptr;
  uint8_t (*a)[4];
  uint8_t (*aaaa)[16];
  struct dns_srv *srv;
  char **ptr;
  char *cname; /* ExternalName target, or NULL */
};

struct dns_index;

/* Builds a snapshot for zone ("cluster.local") from Services and EndpointSlices
 * (borrowed, read-only; either array may be empty). Returns a new index (free with
 * dns_index_free); never NULL. */
struct dns_index *dns_index_build(const char *zone, json_t *const *services, size_t nservices,
                                  json_t *const *slices, size_t nslices);
void dns_index_free(struct dns_index *idx);

/* The node for a lowercase dotted name (no final dot), borrowed from idx; NULL if the
 * name does not exist. */
const struct dns_node *dns_index_lookup(const struct dns_index *idx, const char *name);

/* The zone the index answers for (borrowed). */
const char *dns_index_zone(const struct dns_index *idx);
/* The SOA serial: when the snapshot was built (seconds since the epoch). */
uint32_t dns_index_serial(const struct dns_index *idx);
/* How many names the index holds. */
size_t dns_index_size(const struct dns_index *idx);

#endif
