/* fuzz_volume_path.c — the volume path checks on arbitrary text: whatever the item and
 * subPath validators accept must, once cleaned, be relative, free of `..` elements and
 * of empty or "." elements, stay cleaned when cleaned again, and lie textually inside any
 * volume root it is joined to. */
#include "kubelet/volumes/volpath.h"
#include "lib/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
check_clean(const char *path)
{
  char *clean = volpath_clean(path);
  if (clean[0] == '/' || strstr(clean, "//") != NULL)
    abort();
  char *again = volpath_clean(clean);
  if (strcmp(again, clean) != 0)
    abort();
  for (char *el = clean; *el;) {
    char *slash = strchr(el, '/');
    size_t len = slash ? (size_t)(slash - el) : strlen(el);
    if (len == 0 || (len == 1 && el[0] == '.') || (len == 2 && el[0] == '.' && el[1] == '.'))
      abort();
    el += len + (slash ? 1 : 0);
  }
  char *joined = clean[0] ? xasprintf("/var/vol/%s", clean) : xstrdup("/var/vol");
  if (!volpath_within("/var/vol", joined))
    abort();
  free(joined);
  free(again);
  free(clean);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xstrndup((const char *)data, size);
  k8c_err err = {0};
  if (volpath_validate_item(text, &err) == 0) {
    if (text[0] == '/' || strncmp(text, "..", 2) == 0)
      abort();
    check_clean(text);
    char *clean = volpath_clean(text);
    if (clean[0] == '\0')
      abort(); /* an item always names a file */
    free(clean);
  }
  k8c_err_clear(&err);
  if (volpath_validate_subpath(text, &err) == 0)
    check_clean(text);
  k8c_err_clear(&err);
  free(text);
  return 0;
}
