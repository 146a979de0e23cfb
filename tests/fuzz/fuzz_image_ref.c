/* fuzz_image_ref.c — image references and registries.yaml on arbitrary bytes. The first
 * line is parsed as a reference, whose canonical form must parse back to itself; the whole
 * input is parsed as registries.yaml (and as a WWW-Authenticate challenge), and endpoints
 * are chosen for the reference with whatever configuration came out. */
#include "kubelet/images/auth.h"
#include "kubelet/images/reference.h"
#include "kubelet/images/registries.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
check_endpoints(const struct registries_config *cfg, const struct image_ref *ref)
{
  k8c_err err = {0};
  struct registry_endpoint *eps = NULL;
  size_t n = 0;
  for (int with_default = 0; with_default < 2; with_default++) {
    if (registries_endpoints(cfg, ref, with_default, &eps, &n, &err) == 0) {
      if (n == 0)
        abort(); /* there is always somewhere to try */
      for (size_t i = 0; i < n; i++)
        if (eps[i].api_base == NULL || eps[i].repository == NULL)
          abort();
      registry_endpoints_free(eps, n);
    }
    k8c_err_clear(&err);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xstrndup((const char *)data, size);
  size_t text_len = strlen(text);
  char *line = xstrndup(text, strcspn(text, "\n"));
  k8c_err err = {0};
  struct image_ref ref;
  int have_ref = image_ref_parse(line, &ref, &err) == 0;
  k8c_err_clear(&err);
  if (have_ref) {
    char *canonical = image_ref_string(&ref);
    struct image_ref again;
    if (image_ref_parse(canonical, &again, &err) != 0)
      abort();
    char *twice = image_ref_string(&again);
    if (strcmp(canonical, twice) != 0)
      abort();
    free(twice);
    free(canonical);
    image_ref_free(&again);
  }
  struct registries_config *cfg = registries_parse(text, text_len, &err);
  k8c_err_clear(&err);
  struct image_ref fixed;
  if (image_ref_parse("busybox:1.36", &fixed, &err) != 0)
    abort();
  check_endpoints(cfg, &fixed);
  if (have_ref)
    check_endpoints(cfg, &ref);
  image_ref_free(&fixed);
  registries_free(cfg);
  struct auth_challenge challenge;
  if (auth_challenge_parse(text, &challenge) == 0)
    auth_challenge_free(&challenge);
  else
    auth_challenge_free(&challenge);
  if (have_ref)
    image_ref_free(&ref);
  free(line);
  free(text);
  return 0;
}
