/* pki_service_key.c — the ServiceAccount token signing key, DATA_DIR/server/tls/service.key
 * (k3s's name): made on first start, then loaded, so tokens stay valid across restarts. */
#include "apiserver/pki.h"

#include "apiserver/secure_file.h"
#include "auth/jwt.h"
#include "lib/mem.h"

#include <string.h>

int
pki_service_key_ensure(const struct pki *p, char **key_pem, k8c_err *err)
{
  *key_pem = NULL;
  cleanup_free char *path = xasprintf("%s/service.key", p->tls_dir);
  int have = secure_read_file(path, key_pem, NULL, err);
  if (have < 0)
    return -1;
  if (have > 0)
    return 0;
  char *fresh = NULL;
  if (jwt_generate_key(&fresh, err) < 0)
    return -1;
  if (secure_write_file(path, fresh, strlen(fresh), 0600, err) < 0) {
    secure_free_secret(fresh);
    return -1;
  }
  *key_pem = fresh;
  return 0;
}
