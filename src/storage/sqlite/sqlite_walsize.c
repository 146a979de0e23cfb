/* sqlite_walsize.c — grows a fresh write-ahead log to its working size ahead of time.
 *
 * Appending to a file makes every fdatasync commit the file system's journal too (the
 * file's size changed); overwriting blocks the file already has flushes data only, about
 * twice as fast here (0.45 vs 0.25 ms). SQLite starts each WAL empty and, with a restart
 * after a checkpoint, reuses it from the front: so once the WAL has reached its working
 * size, commits only overwrite. The checkpoint thread extends a new WAL with zeros to
 * that size in the background, as etcd preallocates its WAL segments. Zeros past the last
 * frame are never valid frames (their salts do not match the header), so SQLite's reads
 * and recovery ignore them. Each chunk is written while holding the store's write
 * leadership, so no commit appends to the WAL at the same time. */
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/sqlite/sqlite_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREALLOC_CHUNK (1u << 20)

/* Appends one chunk of zeros if the WAL is still shorter than target. Returns 1 when a
 * chunk was written, 0 when the WAL is long enough, -1 on an error (logged). */
static int
grow_once(struct sqlite_store *st, int fd, off_t target, const char *zeros)
{
  sq_lead_exclusive(st);
  struct stat sb;
  int ret = 0;
  if (fstat(fd, &sb) < 0) {
    log_warn("sqlite: WAL size: %s", strerror(errno));
    ret = -1;
  } else if (sb.st_size < target) {
    size_t n = (size_t)(target - sb.st_size) < PREALLOC_CHUNK ? (size_t)(target - sb.st_size)
                                                              : PREALLOC_CHUNK;
    ssize_t w = pwrite(fd, zeros, n, sb.st_size);
    if (w < 0) {
      log_warn("sqlite: growing the WAL: %s", strerror(errno));
      ret = -1;
    } else {
      ret = 1;
    }
  }
  sq_lead_release(st);
  return ret;
}

void
sq_wal_preallocate(struct sqlite_store *st, off_t target)
{
  char *wal = xasprintf("%s-wal", st->path);
  int fd = open(wal, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    log_warn("sqlite: opening %s to preallocate it: %s", wal, strerror(errno));
    free(wal);
    return;
  }
  char *zeros = xcalloc(1, PREALLOC_CHUNK);
  int rc;
  bool grew = false;
  while ((rc = grow_once(st, fd, target, zeros)) == 1)
    grew = true;
  /* The zeros reach the disk now, not in the first commit's fdatasync. */
  if (grew && fdatasync(fd) < 0)
    log_warn("sqlite: syncing the preallocated WAL: %s", strerror(errno));
  if (close(fd) < 0)
    log_warn("sqlite: closing %s: %s", wal, strerror(errno));
  free(zeros);
  free(wal);
}
