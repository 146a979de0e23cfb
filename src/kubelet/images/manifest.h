/* manifest.h — OCI and Docker manifests, indexes (manifest lists) and image configs.
 *
 * Both media-type families are read into the same plain structs; an index is reduced to
 * the one manifest for this node's platform before anything else looks at it. */
#ifndef K8C_KUBELET_IMAGES_MANIFEST_H
#define K8C_KUBELET_IMAGES_MANIFEST_H

#include "kubelet/images/images.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
/* What a manifest request accepts, preferred first. */
#define MANIFEST_ACCEPT                                                                            \
  MEDIA_OCI_INDEX ", " MEDIA_OCI_MANIFEST ", " MEDIA_DOCKER_LIST ", " MEDIA_DOCKER_MANIFEST

struct descriptor {
  char *media_type;
  char *digest;
  int64_t size;
};

struct manifest {
  struct descriptor config;
  struct descriptor *layers;
  size_t n_layers;
};

/* True if body (of the given Content-Type, which may be NULL or generic) is an index or
 * manifest list rather than an image manifest. */
bool manifest_is_index(const char *content_type, const json_t *doc);

/* From an index, the digest of the manifest for linux and this machine's architecture
 * (amd64, arm64, ...). Caller frees. NULL with 404 NotFound naming the platforms offered. */
char *manifest_index_select(const json_t *index, k8c_err *err);

/* Reads an image manifest. 422 Invalid when required fields are missing or malformed. */
int manifest_parse(const json_t *doc, struct manifest *out, k8c_err *err);
void manifest_free(struct manifest *m);

/* Fills the config part of info (entrypoint, cmd, env, working_dir, user, exposed_ports,
 * labels, layers = rootfs.diff_ids) from an image config JSON. */
int image_config_parse(const char *data, size_t len, struct image_info *info, k8c_err *err);

/* The GOARCH name of the machine this was built for ("amd64"). */
const char *manifest_native_arch(void);

#endif
