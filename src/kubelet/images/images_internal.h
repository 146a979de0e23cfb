/* images_internal.h — what the files of the image service share and nobody else uses:
 * the store's layout (paths), its lock, the blob store, layer unpacking and records. */
#ifndef K8C_KUBELET_IMAGES_INTERNAL_H
#define K8C_KUBELET_IMAGES_INTERNAL_H

#include "kubelet/images/digest.h"
#include "kubelet/images/images.h"
#include "kubelet/images/manifest.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image_store {
  char *root; /* absolute, symlinks resolved */
};

/* ---- layout (image_store.c); each path is caller-freed, NULL for a malformed digest ---- */
char *store_blob_path(const struct image_store *store, const char *digest);
char *store_layer_path(const struct image_store *store, const char *diff_id);
char *store_record_path(const struct image_store *store, const char *id);

/* Takes the store-wide exclusive lock (records); returns the fd to pass to store_unlock. */
int store_lock(struct image_store *store, k8c_err *err);
void store_unlock(int fd);

/* ---- blobs (blobstore.c) ---- */
bool blob_exists(const struct image_store *store, const char *digest);
/* A new temporary file under <root>/tmp; *path is caller-freed. Returns the fd. */
int blob_temp_open(const struct image_store *store, char **path, k8c_err *err);
/* Moves a finished temp file into place when actual == expected; otherwise removes it and
 * fails with 422 Invalid naming both digests. */
int blob_commit(const struct image_store *store, const char *tmp_path, const char *expected,
                const char *actual, k8c_err *err);
/* Stores data as a blob; out gets its digest. */
int blob_put(const struct image_store *store, const void *data, size_t len,
             char out[DIGEST_STRING_LEN + 1], k8c_err *err);
/* Reads a blob (at most max bytes) into *data (caller frees, NUL-terminated). */
int blob_read(const struct image_store *store, const char *digest, size_t max, char **data,
              size_t *len, k8c_err *err);
int64_t blob_size(const struct image_store *store, const char *digest);

/* ---- layers (layer_unpack.c) ---- */
/* Unpacks the blob into a directory once (concurrent callers wait for the first), verifying
 * diff_id (the uncompressed digest) when it is not NULL. The directory is named after
 * diff_id, else the blob digest. */
int layer_ensure(struct image_store *store, const char *blob_digest, const char *diff_id,
                 k8c_err *err);
/* Unpacks archive_path into dest (an existing directory), turning OCI whiteouts into
 * overlay whiteouts and refusing entries that would land outside dest. uncompressed (if not
 * NULL) gets the digest of the uncompressed tar stream. */
int layer_unpack(const char *archive_path, const char *dest,
                 char uncompressed[DIGEST_STRING_LEN + 1], k8c_err *err);

/* ---- records (image_record.c) ---- */
/* Installs an image whose manifest, config and layer blobs are all in the blob store:
 * unpacks its layers, writes its record, moves each of names to it (a tag names one image).
 * Returns the record; caller frees. */
struct image_info *image_install(struct image_store *store, const char *manifest_digest,
                                 const char *const *names, const char *const *repo_digests,
                                 k8c_err *err);
/* Every record; caller frees with image_info_list_free. Records are replaced by rename,
 * so reading needs no lock. */
int records_load_all(struct image_store *store, struct image_info ***out, size_t *n, k8c_err *err);
/* Deletes the blobs, layer directories and temp files no record references (caller holds
 * the store lock). Skipped (returns 0) while a pull or import is running. */
int store_sweep(struct image_store *store, k8c_err *err);
/* Held shared by every pull and import for its whole duration, so a sweep never deletes
 * what an unfinished pull has fetched. Returns the fd for store_unlock. */
int store_pull_lock(struct image_store *store, k8c_err *err);

/* ---- small helpers (image_store.c) ---- */
int mkdir_p(const char *path, unsigned mode, k8c_err *err);
int remove_tree(const char *path);
char **strv_dup(char *const *v);
size_t strv_len(char *const *v);
void strv_free(char **v);

#endif
