/* layer_unpack.c — a layer blob (tar, gzip, zstd, ...) unpacked into its own directory,
 * ready to be an overlayfs lowerdir.
 *
 * Two libarchive readers are chained: the outer one only decompresses (raw format), the
 * inner one reads tar from the outer's output, so the uncompressed stream is hashed on
 * its way through and diff_ids are checked in the same single pass. Each entry's path is
 * cleaned and checked before it is written; OCI whiteouts become overlay whiteouts. */
#include "kubelet/images/images_internal.h"
#include "lib/buf.h"
#include "lib/mem.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct decompressed_stream {
  struct archive *outer;
  struct digester digest;
  char chunk[65536];
  int failed;
};

static la_ssize_t
read_decompressed(struct archive *inner, void *ctx, const void **out)
{
  struct decompressed_stream *s = ctx;
  la_ssize_t n = archive_read_data(s->outer, s->chunk, sizeof(s->chunk));
  if (n < 0) {
    s->failed = 1;
    archive_set_error(inner, EIO, "%s", archive_error_string(s->outer));
    return -1;
  }
  digester_update(&s->digest, s->chunk, (size_t)n);
  *out = s->chunk;
  return n;
}

/* "./a/../b", "/etc/x" → "etc/x"; NULL when a ".." component would climb out. Caller frees.
 * The root itself cleans to "". */
static char *
clean_path(const char *path)
{
  buf out;
  buf_init(&out);
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    size_t len = strcspn(p, "/");
    if (len == 0)
      break;
    if (len == 1 && p[0] == '.') {
      /* skip */
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      buf_free(&out);
      return NULL;
    } else {
      if (out.len > 0)
        buf_append(&out, "/", 1);
      buf_append(&out, p, len);
    }
    p += len;
  }
  char *s = buf_steal(&out, NULL);
  return s ? s : xstrdup("");
}

static int
write_entry(struct archive *disk, struct archive_entry *entry, const char *what, k8c_err *err)
{
  int r = archive_write_header(disk, entry);
  if (r < ARCHIVE_WARN)
    return k8c_error(err, 422, K8C_REASON_INVALID, "unpacking %s: %s", what,
                     archive_error_string(disk));
  return 0;
}

static int
copy_data(struct archive *in, struct archive *disk, const char *what, k8c_err *err)
{
  const void *block;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(in, &block, &size, &offset);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN)
      return k8c_error(err, 422, K8C_REASON_INVALID, "reading %s: %s", what,
                       archive_error_string(in));
    /* libarchive reports a failed write(2) (ENOSPC, EIO) as a mere ARCHIVE_WARN: any
     * warning here means the file on disk is not what the layer holds */
    if (archive_write_data_block(disk, block, size, offset) != ARCHIVE_OK)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "writing %s: %s%s%s", what,
                       archive_error_string(disk), archive_errno(disk) ? ": " : "",
                       archive_errno(disk) ? strerror(archive_errno(disk)) : "");
  }
}

/* Creates dest/dir (and parents) if missing, refusing to follow symlinks out of dest. */
static int
ensure_dir_in(const char *dest, const char *rel, k8c_err *err)
{
  if (*rel == '\0')
    return 0;
  cleanup_free char *copy = xstrdup(rel);
  for (char *p = copy;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      cleanup_free char *full = xasprintf("%s/%s", dest, copy);
      struct stat st;
      if (lstat(full, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
          return k8c_error(err, 422, K8C_REASON_INVALID, "layer: %s is not a directory", copy);
      } else if (mkdir(full, 0755) != 0 && errno != EEXIST) {
        return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating %s: %s", full, strerror(errno));
      }
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

/* ".wh..wh..opq" marks its directory opaque; ".wh.NAME" deletes NAME from lower layers. */
static int
apply_whiteout(struct archive *disk, const char *dest, const char *clean, k8c_err *err)
{
  const char *slash = strrchr(clean, '/');
  cleanup_free char *parent = slash ? xstrndup(clean, (size_t)(slash - clean)) : xstrdup("");
  const char *base = slash ? slash + 1 : clean;
  if (ensure_dir_in(dest, parent, err) < 0)
    return -1;
  if (strcmp(base, WHITEOUT_OPAQUE) == 0) {
    cleanup_free char *dir = *parent ? xasprintf("%s/%s", dest, parent) : xstrdup(dest);
    if (lsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) != 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "marking %s opaque: %s", dir,
                       strerror(errno));
    return 0;
  }
  const char *name = base + strlen(WHITEOUT_PREFIX);
  if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return k8c_error(err, 422, K8C_REASON_INVALID, "layer: bad whiteout %s", clean);
  cleanup_free char *target =
      *parent ? xasprintf("%s/%s/%s", dest, parent, name) : xasprintf("%s/%s", dest, name);
  struct archive_entry *wh = archive_entry_new();
  archive_entry_set_pathname(wh, target);
  archive_entry_set_filetype(wh, AE_IFCHR);
  archive_entry_set_perm(wh, 0);
  archive_entry_set_rdev(wh, 0);
  archive_entry_set_uid(wh, 0);
  archive_entry_set_gid(wh, 0);
  int r = write_entry(disk, wh, clean, err);
  archive_entry_free(wh);
  return r;
}

static int
unpack_entries(struct archive *in, struct archive *disk, const char *dest, k8c_err *err)
{
  struct archive_entry *entry;
  for (;;) {
    int r = archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN)
      return k8c_error(err, 422, K8C_REASON_INVALID, "reading layer: %s", archive_error_string(in));
    const char *name = archive_entry_pathname(entry);
    cleanup_free char *clean = name ? clean_path(name) : NULL;
    if (clean == NULL)
      return k8c_error(err, 422, K8C_REASON_INVALID, "layer entry \"%s\" escapes the root",
                       name ? name : "");
    if (*clean == '\0')
      continue; /* the root directory itself */
    const char *base = strrchr(clean, '/');
    base = base ? base + 1 : clean;
    if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0) {
      if (apply_whiteout(disk, dest, clean, err) < 0)
        return -1;
      continue;
    }
    const char *link = archive_entry_hardlink(entry);
    if (link != NULL) {
      cleanup_free char *clean_link = clean_path(link);
      if (clean_link == NULL || *clean_link == '\0')
        return k8c_error(err, 422, K8C_REASON_INVALID, "layer hard link \"%s\" escapes the root",
                         link);
      cleanup_free char *full_link = xasprintf("%s/%s", dest, clean_link);
      archive_entry_set_hardlink(entry, full_link);
    }
    cleanup_free char *full = xasprintf("%s/%s", dest, clean);
    archive_entry_set_pathname(entry, full);
    if (write_entry(disk, entry, clean, err) < 0)
      return -1;
    if (archive_entry_size(entry) > 0 && link == NULL && copy_data(in, disk, clean, err) < 0)
      return -1;
    if (archive_write_finish_entry(disk) < ARCHIVE_WARN)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "finishing %s: %s", clean,
                       archive_error_string(disk));
  }
}

int
layer_unpack(const char *archive_path, const char *dest_in,
             char uncompressed[DIGEST_STRING_LEN + 1], k8c_err *err)
{
  char dest[PATH_MAX];
  if (realpath(dest_in, dest) == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "layer destination %s: %s", dest_in,
                     strerror(errno));
  struct decompressed_stream stream = {0};
  digester_init(&stream.digest);
  stream.outer = archive_read_new();
  archive_read_support_filter_all(stream.outer);
  archive_read_support_format_raw(stream.outer);
  struct archive *in = archive_read_new();
  archive_read_support_format_tar(in);
  struct archive *disk = archive_write_disk_new();
  archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
                                           ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                           ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                           ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  int rc = -1;
  struct archive_entry *raw;
  if (archive_read_open_filename(stream.outer, archive_path, 65536) != ARCHIVE_OK ||
      archive_read_next_header(stream.outer, &raw) != ARCHIVE_OK) {
    /* libarchive's raw reader rejects an empty file: that is an empty layer */
    struct stat st;
    if (stat(archive_path, &st) == 0 && st.st_size == 0) {
      if (uncompressed)
        digester_final(&stream.digest, uncompressed);
      rc = 0;
    } else {
      k8c_error(err, 422, K8C_REASON_INVALID, "opening layer: %s",
                archive_error_string(stream.outer));
    }
    goto out;
  }
  if (archive_read_open(in, &stream, NULL, read_decompressed, NULL) != ARCHIVE_OK) {
    k8c_error(err, 422, K8C_REASON_INVALID, "reading layer: %s", archive_error_string(in));
    goto out;
  }
  if (unpack_entries(in, disk, dest, err) < 0)
    goto out;
  if (archive_write_close(disk) < ARCHIVE_WARN) {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "finishing layer: %s", archive_error_string(disk));
    goto out;
  }
  /* hash whatever follows the tar's end marker, so the digest covers the whole stream */
  const void *unused;
  while (read_decompressed(in, &stream, &unused) > 0) {
  }
  if (stream.failed) {
    k8c_error(err, 422, K8C_REASON_INVALID, "reading layer: %s",
              archive_error_string(stream.outer));
    goto out;
  }
  if (uncompressed)
    digester_final(&stream.digest, uncompressed);
  rc = 0;
out:
  archive_read_free(in);
  archive_read_free(stream.outer);
  archive_write_free(disk);
  return rc;
}

int
layer_ensure(struct image_store *store, const char *blob_digest, const char *diff_id, k8c_err *err)
{
  const char *key = diff_id ? diff_id : blob_digest;
  cleanup_free char *dir = store_layer_path(store, key);
  if (dir == NULL)
    return k8c_error(err, 422, K8C_REASON_INVALID, "unsupported layer digest %s", key);
  struct stat st;
  if (stat(dir, &st) == 0)
    return 0;
  cleanup_free char *lock_path = xasprintf("%s/locks/%s.lock", store->root, digest_hex(key));
  cleanup_close int lock = open(lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "opening %s: %s", lock_path, strerror(errno));
  while (flock(lock, LOCK_EX) != 0)
    if (errno != EINTR)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "locking %s: %s", lock_path, strerror(errno));
  if (stat(dir, &st) == 0)
    return 0; /* another puller finished it while we waited */
  cleanup_free char *blob = store_blob_path(store, blob_digest);
  cleanup_free char *tmp = xasprintf("%s/tmp/layer-%s-XXXXXX", store->root, digest_hex(key));
  if (blob == NULL || mkdtemp(tmp) == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "creating a directory for layer %s", key);
  if (chmod(tmp, 0755) != 0) {
    remove_tree(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "chmod %s: %s", tmp, strerror(errno));
  }
  char actual[DIGEST_STRING_LEN + 1];
  if (layer_unpack(blob, tmp, actual, err) < 0) {
    remove_tree(tmp);
    return k8c_err_prefix(err, "layer %s", blob_digest);
  }
  if (diff_id != NULL && strcmp(actual, diff_id) != 0) {
    remove_tree(tmp);
    return k8c_error(err, 422, K8C_REASON_INVALID,
                     "layer %s: uncompressed digest %s does not match diff_id %s", blob_digest,
                     actual, diff_id);
  }
  if (rename(tmp, dir) != 0) {
    int saved = errno;
    remove_tree(tmp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "moving layer into %s: %s", dir,
                     strerror(saved));
  }
  return 0;
}
