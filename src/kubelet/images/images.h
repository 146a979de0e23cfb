/* images.h — the node's image service: pull from registries, import archives, list,
 * remove, garbage-collect, and hand the runtime an image as overlay lowerdirs.
 *
 * Everything lives under one root (<data-dir>/agent/images): blobs/sha256/<hex> (content
 * addressed, verified on arrival), layers/<diff-id hex>/ (each layer unpacked once, OCI
 * whiteouts turned into overlay whiteouts), images/<config hex>.json (one record per
 * image, keyed by its ID = config digest, listing its names). Records are the only
 * mutable shared state and are changed under a file lock, so the agent and the
 * `k8c image` command can work on the same root. */
#ifndef K8C_KUBELET_IMAGES_IMAGES_H
#define K8C_KUBELET_IMAGES_IMAGES_H

#include "kubelet/images/registries.h"
#include "lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image_store;

/* What the runtime and the pod worker need to know about one image. String arrays are
 * NULL-terminated; an absent config field is NULL. All owned by the struct. */
struct image_info {
  char *id;              /* config digest, "sha256:<hex>" (the image ID) */
  char *manifest_digest; /* "sha256:<hex>" of the manifest it was pulled by */
  char **names;          /* "docker.io/library/busybox:latest", ... (may be empty) */
  char **repo_digests;   /* "docker.io/library/busybox@sha256:..." */
  char **entrypoint;
  char **cmd;
  char **env; /* "KEY=value" */
  char *working_dir;
  char *user;
  char **exposed_ports; /* "80/tcp" */
  json_t *labels;       /* JSON object or NULL */
  char **layers;        /* diff IDs, bottom layer first */
  size_t n_layers;
  int64_t size;      /* bytes the image's blobs take (compressed layers, config, manifest) */
  int64_t pulled_at; /* unix seconds */
  int64_t last_used; /* unix seconds; image_mark_used updates it */
};

void image_info_free(struct image_info *info);
void image_info_list_free(struct image_info **list, size_t n);

/* Opens (creating the directories) the store under root. Caller frees with
 * image_store_close. */
struct image_store *image_store_open(const char *root, k8c_err *err);
void image_store_close(struct image_store *store);
/* The root directory. Borrowed. */
const char *image_store_root(const struct image_store *store);

struct image_pull_options {
  const struct registries_config *registries; /* may be NULL */
  int timeout_seconds;                        /* connect and longest silence; 0 = 30 s */
  bool disable_default_endpoint; /* with a mirror, never fall back to the registry itself */
};

/* Pulls ref (any form Docker accepts) for linux/<this arch>: manifest (an index picks the
 * platform), config, layers (digest-verified, unpacked once), then records the image under
 * ref's normalised name. Returns the record (caller frees), or NULL with an error whose
 * message carries the registry's reason: 404 NotFound ("manifest unknown"), 401
 * Unauthorized, 504 Timeout, 502/503 for transport failures, 422 Invalid for bad content. */
struct image_info *image_pull(struct image_store *store, const char *ref,
                              const struct image_pull_options *opts, k8c_err *err);

/* Looks an image up by name (normalised: "busybox" finds docker.io/library/busybox:latest),
 * by name@digest, by ID ("sha256:<hex>") or by an unambiguous ID prefix of at least 4 hex
 * digits. Caller frees. NULL with 404 NotFound when absent. */
struct image_info *image_get(struct image_store *store, const char *ref, k8c_err *err);

/* Every image, in no particular order. *out is an array the caller frees with
 * image_info_list_free. */
int image_list(struct image_store *store, struct image_info ***out, size_t *n, k8c_err *err);

/* Overlay lowerdir paths for the image, top layer first, NULL-terminated; caller frees each
 * and the array. An image without layers gives an empty list. */
char **image_lowerdirs(struct image_store *store, const struct image_info *info, k8c_err *err);

/* Records that a container was started from the image (for GC's least-recently-used order). */
int image_mark_used(struct image_store *store, const char *id, k8c_err *err);

/* Removes a name; when ref is an ID (or the image's last name) removes the image, then
 * every layer and blob no other image references. 404 when absent. */
int image_remove(struct image_store *store, const char *ref, k8c_err *err);

/* Imports an OCI layout tar (oci-archive) or a `docker save` tar. Names come from
 * io.containerd.image.name / org.opencontainers.image.ref.name annotations or RepoTags.
 * Returns the imported images (caller frees with image_info_list_free). */
int image_import(struct image_store *store, const char *archive_path, struct image_info ***out,
                 size_t *n, k8c_err *err);

struct image_gc_policy {
  int high_percent; /* start when the filesystem is fuller than this (kubelet: 85) */
  int low_percent;  /* stop when it is at or below this (kubelet: 80) */
};

/* Disk usage of the filesystem holding the store, percent used. */
int image_store_disk_percent(struct image_store *store, int *percent, k8c_err *err);

/* When usage passes policy->high_percent, removes images not named in in_use (IDs or
 * names, NULL-terminated; may be NULL), least recently used first, until usage is at or
 * below policy->low_percent. Also removes blobs and layers no image references. *removed
 * (if not NULL) gets the number of images removed. */
int image_gc(struct image_store *store, const struct image_gc_policy *policy,
             const char *const *in_use, size_t *removed, k8c_err *err);

#endif
