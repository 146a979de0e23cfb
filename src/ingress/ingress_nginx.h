/* ingress_nginx.h — the nginx process the ingress controller runs: a foreground master
 * (daemon off) in its own process group, supervised by a thread that restarts it when
 * it dies, and configuration changes applied the safe way: the new file is checked with
 * `nginx -t` first and only then renamed into place and announced with SIGHUP (old
 * workers finish their connections). A config nginx rejects is never loaded. */
#ifndef K8C_INGRESS_INGRESS_NGINX_H
#define K8C_INGRESS_INGRESS_NGINX_H

#include "lib/err.h"

#include <stdbool.h>
#include <sys/types.h>

struct nginx_process;

/* Nothing runs yet; the first successful nginx_process_apply starts nginx. Strings are
 * copied. state_dir must exist. */
struct nginx_process *nginx_process_new(const char *nginx_bin, const char *state_dir);

/* Checks config with nginx -t; on success makes it STATE/nginx.conf and starts or
 * reloads nginx; a reload returns once the workers of the previous configuration have
 * stopped taking connections (or after 5 s, with a warning). On failure (-1) nothing changes: err
 * holds nginx's message and *bad_line (if not NULL) the config line it named, or 0. */
int nginx_process_apply(struct nginx_process *p, const char *config, int *bad_line, k8c_err *err);

/* The master's pid, or 0 while it is not running. */
pid_t nginx_process_pid(struct nginx_process *p);

/* How many times nginx was started (1 after the first start, more after restarts). */
unsigned nginx_process_starts(struct nginx_process *p);

/* Stops nginx (fast shutdown, then SIGKILL to its process group after 3 s) and frees p;
 * NULL is fine. */
void nginx_process_free(struct nginx_process *p);

#endif
