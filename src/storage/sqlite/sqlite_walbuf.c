/* sqlite_walbuf.c — a SQLite VFS shim that coalesces writes to the write-ahead log.
 *
 * SQLite appends each WAL frame as two writes (a 24-byte header, then the page), so a
 * commit of 15 pages costs 30 pwrite calls, all on the committer's serial path. This
 * shim wraps the default VFS and, for a WAL file, gathers contiguous writes in a buffer
 * that goes to the file in one write at the next sync, and before anything that must
 * see the file as written (a read, truncate, size query, lock change, file control or
 * close).
 *
 * Why that is safe: with synchronous=FULL, SQLite syncs a commit's frames before it
 * publishes them in the wal-index, so no connection can look for a frame that is still
 * in the buffer. So the store uses the shim only for a writer opened with FULL
 * (sqlite_conn.c), and a WAL buffers only on a device with powersafe overwrite, where
 * SQLite never pads a commit to a sector boundary (padding writes part of the last frame
 * after the sync). Every other file, and every other call, passes straight through.
 *
 * The VFS is registered once per process (SQLite's VFS list is process-wide by design)
 * under the name SQ_WALBUF_VFS; its state is immutable after registration and each open
 * file's buffer belongs to that file. */
#include "storage/sqlite/sqlite_internal.h"

#include "lib/mem.h"

#include <pthread.h>
#include <string.h>

/* At most what one write of the wrapped unix VFS takes: it writes only the low 17 bits
 * worth of a request (128 KiB - 1) and reports a longer one as a full disk. A commit of
 * 15 pages is about 62 KB, so one buffer still holds a typical batch. */
#define WALBUF_CAPACITY (120u * 1024u)

struct walbuf_file {
  sqlite3_file base;   /* methods: walbuf_io */
  sqlite3_file *inner; /* the wrapped VFS's file, allocated after this struct */
  bool buffering;      /* a WAL file */
  unsigned char *buf;  /* owned; NULL until the first buffered write */
  sqlite3_int64 buf_offset;
  size_t buf_len;
};

struct walbuf_vfs {
  sqlite3_vfs base;
  sqlite3_vfs *inner;
};

static struct walbuf_vfs walbuf_vfs;
static pthread_once_t walbuf_once = PTHREAD_ONCE_INIT;
static int walbuf_register_rc = SQLITE_ERROR;

static int
walbuf_flush(struct walbuf_file *f)
{
  if (f->buf_len == 0)
    return SQLITE_OK;
  int rc = f->inner->pMethods->xWrite(f->inner, f->buf, (int)f->buf_len, f->buf_offset);
  f->buf_len = 0;
  return rc;
}

static int
walbuf_close(sqlite3_file *file)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  int rc_close = f->inner->pMethods->xClose(f->inner);
  free(f->buf);
  f->buf = NULL;
  return rc != SQLITE_OK ? rc : rc_close;
}

static int
walbuf_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xRead(f->inner, out, amount, offset);
}

static int
walbuf_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  if (!f->buffering)
    return f->inner->pMethods->xWrite(f->inner, data, amount, offset);
  size_t n = (size_t)amount;
  bool contiguous = f->buf_len > 0 && offset == f->buf_offset + (sqlite3_int64)f->buf_len;
  if (f->buf_len > 0 && (!contiguous || f->buf_len + n > WALBUF_CAPACITY)) {
    int rc = walbuf_flush(f);
    if (rc != SQLITE_OK)
      return rc;
  }
  if (n > WALBUF_CAPACITY) /* larger than the buffer: write it as it is */
    return f->inner->pMethods->xWrite(f->inner, data, amount, offset);
  if (f->buf == NULL)
    f->buf = xmalloc(WALBUF_CAPACITY);
  if (f->buf_len == 0)
    f->buf_offset = offset;
  memcpy(f->buf + f->buf_len, data, n);
  f->buf_len += n;
  return SQLITE_OK;
}

static int
walbuf_truncate(sqlite3_file *file, sqlite3_int64 size)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xTruncate(f->inner, size);
}

static int
walbuf_sync(sqlite3_file *file, int flags)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xSync(f->inner, flags);
}

static int
walbuf_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xFileSize(f->inner, size);
}

static int
walbuf_lock(sqlite3_file *file, int level)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xLock(f->inner, level);
}

static int
walbuf_unlock(sqlite3_file *file, int level)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xUnlock(f->inner, level);
}

static int
walbuf_check_reserved(sqlite3_file *file, int *out)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  return f->inner->pMethods->xCheckReservedLock(f->inner, out);
}

static int
walbuf_file_control(sqlite3_file *file, int op, void *arg)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xFileControl(f->inner, op, arg);
}

static int
walbuf_sector_size(sqlite3_file *file)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  return f->inner->pMethods->xSectorSize(f->inner);
}

static int
walbuf_device_characteristics(sqlite3_file *file)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  return f->inner->pMethods->xDeviceCharacteristics(f->inner);
}

static int
walbuf_shm_map(sqlite3_file *file, int page, int page_size, int extend, void volatile **out)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xShmMap(f->inner, page, page_size, extend, out);
}

static int
walbuf_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xShmLock(f->inner, offset, n, flags);
}

static void
walbuf_shm_barrier(sqlite3_file *file)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  f->inner->pMethods->xShmBarrier(f->inner);
}

static int
walbuf_shm_unmap(sqlite3_file *file, int delete_flag)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xShmUnmap(f->inner, delete_flag);
}

static int
walbuf_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  int rc = walbuf_flush(f);
  return rc != SQLITE_OK ? rc : f->inner->pMethods->xFetch(f->inner, offset, amount, out);
}

static int
walbuf_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
  struct walbuf_file *f = (struct walbuf_file *)file;
  return f->inner->pMethods->xUnfetch(f->inner, offset, page);
}

static const sqlite3_io_methods walbuf_io = {
    .iVersion = 3,
    .xClose = walbuf_close,
    .xRead = walbuf_read,
    .xWrite = walbuf_write,
    .xTruncate = walbuf_truncate,
    .xSync = walbuf_sync,
    .xFileSize = walbuf_file_size,
    .xLock = walbuf_lock,
    .xUnlock = walbuf_unlock,
    .xCheckReservedLock = walbuf_check_reserved,
    .xFileControl = walbuf_file_control,
    .xSectorSize = walbuf_sector_size,
    .xDeviceCharacteristics = walbuf_device_characteristics,
    .xShmMap = walbuf_shm_map,
    .xShmLock = walbuf_shm_lock,
    .xShmBarrier = walbuf_shm_barrier,
    .xShmUnmap = walbuf_shm_unmap,
    .xFetch = walbuf_fetch,
    .xUnfetch = walbuf_unfetch,
};

/* Opens through the wrapped VFS, whose file lives right after ours. Every file gets
 * these methods; only a WAL file buffers its writes (for the others the buffer stays
 * empty and each call goes straight through). */
static int
walbuf_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  struct walbuf_file *f = (struct walbuf_file *)file;
  memset(f, 0, sizeof(*f));
  f->inner = (sqlite3_file *)(f + 1);
  int rc = w->inner->xOpen(w->inner, name, f->inner, flags, out_flags);
  if (f->inner->pMethods == NULL)
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN; /* SQLite then calls no method of ours */
  f->base.pMethods = &walbuf_io;
  f->buffering =
      (flags & SQLITE_OPEN_WAL) != 0 && (f->inner->pMethods->xDeviceCharacteristics(f->inner) &
                                         SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
  return rc;
}

static int
walbuf_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xDelete(w->inner, name, sync_dir);
}

static int
walbuf_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xAccess(w->inner, name, flags, out);
}

static int
walbuf_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xFullPathname(w->inner, name, n, out);
}

static int
walbuf_randomness(sqlite3_vfs *vfs, int n, char *out)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xRandomness(w->inner, n, out);
}

static int
walbuf_sleep(sqlite3_vfs *vfs, int micros)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xSleep(w->inner, micros);
}

static int
walbuf_current_time(sqlite3_vfs *vfs, double *out)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xCurrentTime(w->inner, out);
}

static int
walbuf_last_error(sqlite3_vfs *vfs, int n, char *out)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xGetLastError(w->inner, n, out);
}

static int
walbuf_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
  struct walbuf_vfs *w = (struct walbuf_vfs *)vfs;
  return w->inner->xCurrentTimeInt64(w->inner, out);
}

static void
walbuf_register_once(void)
{
  sqlite3_vfs *inner = sqlite3_vfs_find(NULL);
  if (inner == NULL || inner->iVersion < 2 || inner->xCurrentTimeInt64 == NULL)
    return;
  walbuf_vfs = (struct walbuf_vfs){
      .base =
          {
              .iVersion = 2,
              .szOsFile = (int)(sizeof(struct walbuf_file) + (size_t)inner->szOsFile),
              .mxPathname = inner->mxPathname,
              .zName = SQ_WALBUF_VFS,
              .xOpen = walbuf_open,
              .xDelete = walbuf_delete,
              .xAccess = walbuf_access,
              .xFullPathname = walbuf_full_pathname,
              .xDlOpen = NULL,
              .xDlError = NULL,
              .xDlSym = NULL,
              .xDlClose = NULL,
              .xRandomness = walbuf_randomness,
              .xSleep = walbuf_sleep,
              .xCurrentTime = walbuf_current_time,
              .xGetLastError = walbuf_last_error,
              .xCurrentTimeInt64 = walbuf_current_time_int64,
          },
      .inner = inner,
  };
  walbuf_register_rc = sqlite3_vfs_register(&walbuf_vfs.base, 0);
}

int
sq_walbuf_register(k8c_err *err)
{
  if (pthread_once(&walbuf_once, walbuf_register_once) != 0 || walbuf_register_rc != SQLITE_OK)
    return k8c_error(err, 500, K8C_REASON_INTERNAL,
                     "sqlite: cannot register the WAL-buffering VFS (rc %d)", walbuf_register_rc);
  return 0;
}
