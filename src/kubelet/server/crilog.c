/* crilog.c — CRI log files: parse records, format them for kubectl, find the tail, and
 * read incrementally. The reader keeps an incomplete trailing line (one conmon has not
 * finished writing) until its newline arrives, so following never prints half a record. */
#include "kubelet/server/crilog.h"

#include "lib/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE (1024u * 1024u) /* longer lines are cut (conmon splits at 8 KiB anyway) */

struct crilog_reader {
  int fd;
  struct crilog_options opts;
  buf pending; /* bytes read but not yet a complete line */
  int64_t produced;
};

/* ---------- parsing ---------- */

static int
digits(const char *p, size_t n, int *out)
{
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return 0;
}

int
cri_parse_time(const char *t, size_t len, int64_t *ns)
{
  /* 2006-01-02T15:04:05[.frac](Z|±hh:mm) */
  int year, mon, day, hour, min, sec;
  if (len < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' ||
      t[16] != ':' || digits(t, 4, &year) < 0 || digits(t + 5, 2, &mon) < 0 ||
      digits(t + 8, 2, &day) < 0 || digits(t + 11, 2, &hour) < 0 || digits(t + 14, 2, &min) < 0 ||
      digits(t + 17, 2, &sec) < 0)
    return -1;
  /* int64 nanoseconds cover the years 1678–2262 */
  if (year < 1678 || year > 2261 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
      min > 59 || sec > 60)
    return -1;
  size_t i = 19;
  int64_t frac = 0;
  if (i < len && t[i] == '.') {
    i++;
    int ndig = 0;
    while (i < len && t[i] >= '0' && t[i] <= '9') {
      if (ndig < 9) {
        frac = frac * 10 + (t[i] - '0');
        ndig++;
      }
      i++;
    }
    if (ndig == 0)
      return -1;
    for (; ndig < 9; ndig++)
      frac *= 10;
  }
  int offset = 0;
  if (i < len && (t[i] == 'Z' || t[i] == 'z')) {
    i++;
  } else if (i + 6 == len && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    int oh, om;
    if (digits(t + i + 1, 2, &oh) < 0 || digits(t + i + 4, 2, &om) < 0)
      return -1;
    offset = (oh * 60 + om) * 60 * (t[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return -1;
  }
  if (i != len)
    return -1;
  struct tm tm = {.tm_year = year - 1900,
                  .tm_mon = mon - 1,
                  .tm_mday = day,
                  .tm_hour = hour,
                  .tm_min = min,
                  .tm_sec = sec};
  time_t secs = timegm(&tm);
  *ns = ((int64_t)secs - offset) * 1000000000LL + frac;
  return 0;
}

int
cri_record_parse(const char *line, size_t len, struct cri_record *out)
{
  const char *sp1 = memchr(line, ' ', len);
  if (sp1 == NULL)
    return -1;
  size_t tlen = (size_t)(sp1 - line);
  if (cri_parse_time(line, tlen, &out->time_ns) < 0)
    return -1;
  const char *p = sp1 + 1;
  size_t left = len - tlen - 1;
  if (left >= 7 && memcmp(p, "stdout ", 7) == 0) {
    out->is_stderr = false;
  } else if (left >= 7 && memcmp(p, "stderr ", 7) == 0) {
    out->is_stderr = true;
  } else {
    return -1;
  }
  p += 7;
  left -= 7;
  if (left < 1 || (p[0] != 'P' && p[0] != 'F'))
    return -1;
  out->partial = p[0] == 'P';
  /* the tag may carry more fields separated by ':' (CRI allows it); skip to the space */
  size_t k = 1;
  while (k < left && p[k] != ' ')
    k++;
  out->time = line;
  out->time_len = tlen;
  out->text = k < left ? p + k + 1 : p + left;
  out->text_len = k < left ? left - k - 1 : 0;
  return 0;
}

bool
crilog_format_record(const struct crilog_options *o, const struct cri_record *rec, buf *out)
{
  if (o->since_ns > 0 && rec->time_ns < o->since_ns)
    return false;
  if (o->timestamps) {
    buf_append(out, rec->time, rec->time_len);
    buf_append(out, " ", 1);
  }
  buf_append(out, rec->text, rec->text_len);
  if (!rec->partial)
    buf_append(out, "\n", 1);
  return true;
}

/* ---------- tail ---------- */

int
crilog_tail_offset(int fd, int64_t n, off_t *offset, k8c_err *err)
{
  *offset = 0;
  off_t end = lseek(fd, 0, SEEK_END);
  if (end < 0)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "log: seek: %s", strerror(errno));
  if (n < 0)
    return 0;
  if (n == 0) {
    *offset = end;
    return 0;
  }
  char block[8192];
  off_t pos = end;
  int64_t newlines = 0;
  while (pos > 0) {
    size_t want = pos > (off_t)sizeof block ? sizeof block : (size_t)pos;
    pos -= (off_t)want;
    ssize_t got = pread(fd, block, want, pos);
    if (got != (ssize_t)want)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "log: read failed");
    for (ssize_t i = got - 1; i >= 0; i--) {
      /* the file's final newline ends the last line; it does not start one */
      if (block[i] != '\n' || pos + i == end - 1)
        continue;
      if (++newlines == n) {
        *offset = pos + i + 1;
        return 0;
      }
    }
  }
  return 0;
}

/* ---------- reader ---------- */

struct crilog_reader *
crilog_open(const char *path, const struct crilog_options *o, k8c_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    k8c_error(err, errno == ENOENT ? 404 : 500,
              errno == ENOENT ? K8C_REASON_NOT_FOUND : K8C_REASON_INTERNAL,
              "failed to open log file \"%s\": %s", path, strerror(errno));
    return NULL;
  }
  off_t start = 0;
  if (o->tail_lines >= 0 && crilog_tail_offset(fd, o->tail_lines, &start, err) < 0) {
    close(fd);
    return NULL;
  }
  if (lseek(fd, start, SEEK_SET) < 0) {
    close(fd);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "log: seek: %s", strerror(errno));
    return NULL;
  }
  struct crilog_reader *r = xcalloc(1, sizeof *r);
  r->fd = fd;
  r->opts = *o;
  buf_init(&r->pending);
  return r;
}

bool
crilog_done(const struct crilog_reader *r)
{
  return r->opts.limit_bytes >= 0 && r->produced >= r->opts.limit_bytes;
}

/* Formats complete lines from pending into out; keeps the unfinished tail. */
static void
drain_lines(struct crilog_reader *r, buf *out, size_t max)
{
  size_t used = 0;
  while (used < r->pending.len && !crilog_done(r) && out->len < max) {
    char *line = r->pending.data + used;
    char *nl = memchr(line, '\n', r->pending.len - used);
    size_t len;
    if (nl)
      len = (size_t)(nl - line);
    else if (r->pending.len - used > MAX_LINE)
      len = r->pending.len - used; /* a runaway line: treat what we have as one */
    else
      break;
    used += len + (nl ? 1 : 0);
    struct cri_record rec;
    if (cri_record_parse(line, len, &rec) < 0)
      continue; /* not a CRI record: skip, as the kubelet does with unparsable lines */
    size_t before = out->len;
    if (!crilog_format_record(&r->opts, &rec, out))
      continue;
    int64_t added = (int64_t)(out->len - before);
    if (r->opts.limit_bytes >= 0 && r->produced + added > r->opts.limit_bytes) {
      out->len = before + (size_t)(r->opts.limit_bytes - r->produced);
      added = r->opts.limit_bytes - r->produced;
      out->data[out->len] = 0;
    }
    r->produced += added;
  }
  if (r->pending.data) /* empty buffers have no storage yet */
    memmove(r->pending.data, r->pending.data + used, r->pending.len - used);
  r->pending.len -= used;
}

ssize_t
crilog_read(struct crilog_reader *r, buf *out, size_t max, k8c_err *err)
{
  size_t start = out->len;
  char chunk[16384];
  while (!crilog_done(r) && out->len - start < max) {
    drain_lines(r, out, start + max);
    if (out->len - start >= max || crilog_done(r))
      break;
    ssize_t got = read(r->fd, chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "log: read: %s", strerror(errno));
    }
    if (got == 0)
      break;
    buf_append(&r->pending, chunk, (size_t)got);
  }
  return (ssize_t)(out->len - start);
}

void
crilog_close(struct crilog_reader *r)
{
  if (r == NULL)
    return;
  close(r->fd);
  buf_free(&r->pending);
  free(r);
}
