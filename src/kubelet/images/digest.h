/* digest.h — sha256 content digests ("sha256:<hex>") computed while data streams by.
 *
 * A digester is fed chunks as they arrive (from the network, from a decompressor) so
 * verifying content never needs a second pass over it. */
#ifndef K8C_KUBELET_IMAGES_DIGEST_H
#define K8C_KUBELET_IMAGES_DIGEST_H

#include "lib/err.h"

#include <nettle/sha2.h>
#include <stddef.h>

#define DIGEST_STRING_LEN (7 + 64) /* "sha256:" + hex */

struct digester {
  struct sha256_ctx ctx;
};

void digester_init(struct digester *d);
void digester_update(struct digester *d, const void *data, size_t len);
/* Writes "sha256:<hex>" (NUL-terminated) into out, which holds DIGEST_STRING_LEN + 1. */
void digester_final(struct digester *d, char out[DIGEST_STRING_LEN + 1]);

/* Digest of one buffer into out (DIGEST_STRING_LEN + 1 bytes). */
void digest_buffer(const void *data, size_t len, char out[DIGEST_STRING_LEN + 1]);

/* Digest of a whole file; -1 with err if it cannot be read. */
int digest_file(const char *path, char out[DIGEST_STRING_LEN + 1], k8c_err *err);

/* The hex part of "sha256:<hex>", or NULL if digest is not a valid sha256 digest.
 * Points into digest. */
const char *digest_hex(const char *digest);

#endif
