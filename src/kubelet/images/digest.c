/* digest.c — sha256 digests over nettle, in the "algorithm:hex" form OCI uses. */
#include "kubelet/images/digest.h"
#include "kubelet/images/reference.h"
#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void
digester_init(struct digester *d)
{
  sha256_init(&d->ctx);
}

void
digester_update(struct digester *d, const void *data, size_t len)
{
  sha256_update(&d->ctx, len, data);
}

void
digester_final(struct digester *d, char out[DIGEST_STRING_LEN + 1])
{
  static const char hexdigits[] = "0123456789abcdef";
  unsigned char raw[SHA256_DIGEST_SIZE];
  sha256_digest(&d->ctx, sizeof(raw), raw);
  memcpy(out, "sha256:", 7);
  for (size_t i = 0; i < sizeof(raw); i++) {
    out[7 + 2 * i] = hexdigits[raw[i] >> 4];
    out[7 + 2 * i + 1] = hexdigits[raw[i] & 15];
  }
  out[DIGEST_STRING_LEN] = '\0';
}

void
digest_buffer(const void *data, size_t len, char out[DIGEST_STRING_LEN + 1])
{
  struct digester d;
  digester_init(&d);
  digester_update(&d, data, len);
  digester_final(&d, out);
}

int
digest_file(const char *path, char out[DIGEST_STRING_LEN + 1], k8c_err *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opening %s: %s", path, strerror(errno));
  struct digester d;
  digester_init(&d);
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "reading %s: %s", path, strerror(errno));
    if (n == 0)
      break;
    digester_update(&d, chunk, (size_t)n);
  }
  digester_final(&d, out);
  return 0;
}

const char *
digest_hex(const char *digest)
{
  if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 || !image_digest_valid(digest))
    return NULL;
  return digest + 7;
}
