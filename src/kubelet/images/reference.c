/* reference.c — parsing and normalising image references (Docker's grammar).
 *
 * The text is split from the right: "@digest", then ":tag" after the last '/', then the
 * first path component is a domain only if it looks like one (has '.' or ':', is
 * "localhost", or has an upper-case letter), exactly as Docker decides. */
#include "kubelet/images/reference.h"
#include "lib/mem.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_TOTAL 255
#define TAG_MAX 128

static bool domain_valid(const char *s);
static bool path_valid(const char *s);
static bool tag_valid(const char *s);

int
image_ref_parse(const char *text, struct image_ref *ref, k8c_err *err)
{
  memset(ref, 0, sizeof(*ref));
  if (text == NULL || *text == '\0')
    return k8c_error(err, 400, K8C_REASON_INVALID, "invalid reference format: empty image name");
  cleanup_free char *name = xstrdup(text);
  char *at = strchr(name, '@');
  if (at != NULL) {
    *at = '\0';
    if (!image_digest_valid(at + 1)) {
      return k8c_error(err, 400, K8C_REASON_INVALID,
                       "invalid reference format: bad digest in \"%s\"", text);
    }
  }
  char *last_slash = strrchr(name, '/');
  char *colon = strrchr(last_slash ? last_slash : name, ':');
  if (colon != NULL) {
    *colon = '\0';
    if (!tag_valid(colon + 1))
      return k8c_error(err, 400, K8C_REASON_INVALID, "invalid reference format: bad tag in \"%s\"",
                       text);
  }
  const char *domain = IMAGE_REF_DEFAULT_DOMAIN;
  const char *remainder = name;
  char *slash = strchr(name, '/');
  if (slash != NULL) {
    size_t first_len = (size_t)(slash - name);
    bool looks_like_domain = memchr(name, '.', first_len) || memchr(name, ':', first_len) ||
                             (first_len == 9 && strncmp(name, "localhost", 9) == 0);
    for (size_t i = 0; i < first_len && !looks_like_domain; i++)
      looks_like_domain = isupper((unsigned char)name[i]);
    if (looks_like_domain) {
      *slash = '\0';
      domain = name;
      remainder = slash + 1;
    }
  }
  if (strcmp(domain, "index.docker.io") == 0)
    domain = IMAGE_REF_DEFAULT_DOMAIN;
  if (!domain_valid(domain))
    return k8c_error(err, 400, K8C_REASON_INVALID,
                     "invalid reference format: bad registry host in \"%s\"", text);
  for (const char *p = remainder; *p; p++)
    if (isupper((unsigned char)*p))
      return k8c_error(err, 400, K8C_REASON_INVALID,
                       "invalid reference format: repository name must be lowercase: \"%s\"", text);
  if (!path_valid(remainder))
    return k8c_error(err, 400, K8C_REASON_INVALID, "invalid reference format: \"%s\"", text);
  bool official = strcmp(domain, IMAGE_REF_DEFAULT_DOMAIN) == 0 && strchr(remainder, '/') == NULL;
  ref->domain = xstrdup(domain);
  ref->path = official ? xasprintf("library/%s", remainder) : xstrdup(remainder);
  if (colon != NULL)
    ref->tag = xstrdup(colon + 1);
  if (at != NULL)
    ref->digest = xstrdup(at + 1);
  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = xstrdup(IMAGE_REF_DEFAULT_TAG);
  if (strlen(ref->domain) + 1 + strlen(ref->path) > NAME_MAX_TOTAL) {
    image_ref_free(ref);
    return k8c_error(err, 400, K8C_REASON_INVALID,
                     "invalid reference format: repository name must not be more than %d "
                     "characters",
                     NAME_MAX_TOTAL);
  }
  return 0;
}

void
image_ref_free(struct image_ref *ref)
{
  if (ref == NULL)
    return;
  free(ref->domain);
  free(ref->path);
  free(ref->tag);
  free(ref->digest);
  memset(ref, 0, sizeof(*ref));
}

char *
image_ref_string(const struct image_ref *ref)
{
  return xasprintf("%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                   ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                   ref->digest ? ref->digest : "");
}

char *
image_ref_repository(const struct image_ref *ref)
{
  return xasprintf("%s/%s", ref->domain, ref->path);
}

const char *
image_ref_manifest_ref(const struct image_ref *ref)
{
  return ref->digest ? ref->digest : ref->tag;
}

int
image_digest_valid(const char *text)
{
  size_t hex_len;
  if (strncmp(text, "sha256:", 7) == 0)
    hex_len = 64;
  else if (strncmp(text, "sha512:", 7) == 0)
    hex_len = 128;
  else
    return 0;
  const char *hex = text + 7;
  if (strlen(hex) != hex_len)
    return 0;
  for (size_t i = 0; i < hex_len; i++)
    if (!isdigit((unsigned char)hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
      return 0;
  return 1;
}

/* host[:port], host = dot-separated labels of [A-Za-z0-9-] or a bracketed IPv6 literal. */
static bool
domain_valid(const char *s)
{
  const char *p = s;
  if (*p == '[') {
    const char *close = strchr(p, ']');
    if (close == NULL || close == p + 1)
      return false;
    for (const char *q = p + 1; q < close; q++)
      if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
        return false;
    p = close + 1;
  } else {
    size_t label = 0;
    for (; *p && *p != ':'; p++) {
      if (*p == '.') {
        if (label == 0)
          return false;
        label = 0;
      } else if (isalnum((unsigned char)*p) || *p == '-') {
        label++;
      } else {
        return false;
      }
    }
    if (label == 0)
      return false;
  }
  if (*p == ':') {
    p++;
    if (*p == '\0')
      return false;
    for (; *p; p++)
      if (!isdigit((unsigned char)*p))
        return false;
  }
  return *p == '\0';
}

/* Components of [a-z0-9]+ joined by '.', '_', '__' or runs of '-', separated by '/'. */
static bool
path_valid(const char *s)
{
  if (*s == '\0')
    return false;
  bool need_alnum = true;
  for (const char *p = s; *p; p++) {
    if (islower((unsigned char)*p) || isdigit((unsigned char)*p)) {
      need_alnum = false;
      continue;
    }
    if (need_alnum)
      return false;
    if (*p == '/') {
      need_alnum = true;
    } else if (*p == '.') {
      need_alnum = true;
    } else if (*p == '_') {
      if (p[1] == '_')
        p++;
      need_alnum = true;
    } else if (*p == '-') {
      while (p[1] == '-')
        p++;
      need_alnum = true;
    } else {
      return false;
    }
  }
  return !need_alnum;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool
tag_valid(const char *s)
{
  size_t len = strlen(s);
  if (len == 0 || len > TAG_MAX || s[0] == '.' || s[0] == '-')
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}
