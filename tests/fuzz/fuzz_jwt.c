/* fuzz_jwt.c — bearer tokens on arbitrary bytes. Mode byte 0: the bytes are a presented
 * token, which must be refused cleanly (no forgery is possible without the key). Mode 1:
 * the bytes are a claims object, signed with the harness key and then validated as a
 * ServiceAccount token, which exercises the claim checks behind a good signature. */
#include "auth/jwt.h"
#include "auth/satoken.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The harness's own key, signer and issuer, made once per process (fuzzer state, not
 * product code): signing is the slow part, so it is not redone per input. */
struct harness {
  struct jwt_signer *signer;
  struct satoken_issuer *issuer;
};

static const struct harness *
harness(void)
{
  static struct harness h;
  if (h.issuer == NULL) {
    k8c_err err = {0};
    char *key = NULL;
    if (jwt_generate_key(&key, &err) < 0 || (h.signer = jwt_signer_new(key, &err)) == NULL ||
        (h.issuer = satoken_issuer_new(key, NULL, &err)) == NULL)
      abort();
    free(key);
  }
  return &h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const struct harness *h = harness();
  const struct satoken_issuer *t = h->issuer;
  k8c_err err = {0};
  struct satoken_subject who;
  char *text = xstrndup((const char *)data + 1, size - 1);
  if (data[0] % 2 == 0) {
    if (satoken_validate(t, text, 1800000000, &who, &err) == 0)
      abort(); /* a token the harness never signed authenticated */
    k8c_err_clear(&err);
  } else {
    json_t *claims = json_loads(text, 0, NULL);
    if (json_is_object(claims)) {
      char *token = jwt_sign(h->signer, claims, &err);
      if (token) {
        if (satoken_validate(t, token, 1800000000, &who, &err) == 0 &&
            (who.ns[0] == '\0' || who.sa_name[0] == '\0'))
          abort(); /* a valid token always names its service account */
        free(token);
      }
      k8c_err_clear(&err);
    }
    json_decref(claims);
  }
  free(text);
  return 0;
}
