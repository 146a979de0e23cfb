/* reference.h — image references as Docker normalises them.
 *
 * "busybox" is docker.io/library/busybox:latest; "host:5000/a/b:v1@sha256:..." keeps its
 * domain, path, tag and digest. A reference is parsed once into its parts and printed back
 * in one canonical form, which is also the name image records are stored under. */
#ifndef K8C_KUBELET_IMAGES_REFERENCE_H
#define K8C_KUBELET_IMAGES_REFERENCE_H

#include "lib/err.h"

#define IMAGE_REF_DEFAULT_DOMAIN "docker.io"
#define IMAGE_REF_DEFAULT_TAG "latest"

struct image_ref {
  char *domain; /* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest"; NULL when only a digest was given */
  char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Parses and normalises text. Fills *ref (the caller frees it with image_ref_free) and
 * returns 0, or returns -1 with a 400 Invalid naming what is wrong. */
int image_ref_parse(const char *text, struct image_ref *ref, k8c_err *err);

/* Frees the parts (not ref itself) and zeroes them. */
void image_ref_free(struct image_ref *ref);

/* "domain/path[:tag][@digest]". Caller frees. */
char *image_ref_string(const struct image_ref *ref);

/* "domain/path" without tag or digest. Caller frees. */
char *image_ref_repository(const struct image_ref *ref);

/* The tag, else the digest: what a manifest request names. Points into ref. */
const char *image_ref_manifest_ref(const struct image_ref *ref);

/* True when text is a well-formed "sha256:<64 lowercase hex>". */
int image_digest_valid(const char *text);

#endif
