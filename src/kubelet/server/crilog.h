/* crilog.h — reading container logs in the CRI format that conmon writes
 * (`<RFC3339Nano time> <stdout|stderr> <P|F> <text>` per line, P marking a partial line
 * that continues in the next record) the way `kubectl logs` options ask: tail, since,
 * timestamps, byte limit, and following a file that is still being written. */
#ifndef K8C_KUBELET_SERVER_CRILOG_H
#define K8C_KUBELET_SERVER_CRILOG_H

#include "lib/buf.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One parsed record; pointers go into the caller's line. */
struct cri_record {
  const char *time; /* the timestamp text as written */
  size_t time_len;
  int64_t time_ns; /* Unix time in nanoseconds */
  bool is_stderr;
  bool partial; /* P: the text continues in the next record (no newline of its own) */
  const char *text;
  size_t text_len;
};

/* Parses one line (without its '\n'). -1 if it is not a CRI record. */
int cri_record_parse(const char *line, size_t len, struct cri_record *out);

/* RFC 3339 with optional fraction and Z or ±hh:mm → Unix ns. -1 if malformed. */
int cri_parse_time(const char *text, size_t len, int64_t *ns);

struct crilog_options {
  int64_t tail_lines;  /* < 0: all */
  int64_t since_ns;    /* records before this time are skipped; 0: none */
  int64_t limit_bytes; /* < 0: unlimited */
  bool timestamps;     /* prefix each record's text with its time and a space */
};

/* Appends what a record contributes to the output (its text, a newline for full
 * records, the time if asked). Returns false if the record is filtered out by since. */
bool crilog_format_record(const struct crilog_options *o, const struct cri_record *rec, buf *out);

/* The offset where the last n lines of the file begin (0 when it has fewer). */
int crilog_tail_offset(int fd, int64_t n, off_t *offset, k8c_err *err);

/* A reader over one log file; owned by the caller (crilog_close). */
struct crilog_reader;

struct crilog_reader *crilog_open(const char *path, const struct crilog_options *o, k8c_err *err);
/* Appends formatted output for the complete lines written so far (at most about max
 * bytes, never more than the limit). Returns the bytes appended; 0 means "nothing new
 * yet" (the caller may wait and call again to follow), -1 on a read error. */
ssize_t crilog_read(struct crilog_reader *r, buf *out, size_t max, k8c_err *err);
/* True once limit_bytes has been produced: nothing more will come. */
bool crilog_done(const struct crilog_reader *r);
void crilog_close(struct crilog_reader *r);

#endif
