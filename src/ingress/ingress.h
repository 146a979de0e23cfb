/* ingress.h — the ingress controller `k8c server` runs (ingress-nginx's behaviour): it
 * watches Ingresses, IngressClasses, Services, EndpointSlices and Secrets, renders one
 * nginx.conf for every Ingress of its class, runs nginx as a supervised child and
 * reloads it gracefully when the rendered config changes, and publishes its address in
 * the served Ingresses' status.loadBalancer.
 *
 * Changes are debounced: a burst of events becomes one render and at most one reload. */
#ifndef K8C_INGRESS_INGRESS_H
#define K8C_INGRESS_INGRESS_H

#include "client/client.h"
#include "client/informer.h"
#include "lib/err.h"

#include <stdbool.h>

struct ingress_config {
  const char *nginx_bin;       /* NULL = /usr/sbin/nginx */
  const char *state_dir;       /* nginx.conf, tls/ (0700), tmp/, pid and logs; created */
  const char *http_address;    /* listen address; NULL = all addresses */
  int http_port;               /* 0 = 80 */
  const char *https_address;   /* NULL = http_address */
  int https_port;              /* 0 = 443 */
  const char *class_name;      /* NULL = "nginx" */
  const char *publish_address; /* status.loadBalancer.ingress[0].ip (or hostname); NULL = none */
  int debounce_ms;             /* 0 = 20 ms */
};

/* Numbers for tests and benchmarks. */
struct ingress_stats {
  unsigned syncs;        /* renders done */
  unsigned reloads;      /* configs nginx accepted and was told to load */
  unsigned rejected;     /* configs nginx -t refused */
  double last_render_ms; /* model build + render of the last sync */
  double last_apply_ms;  /* nginx -t + rename + SIGHUP of the last reload */
  unsigned nginx_starts; /* 1 after start, more after restarts */
  int nginx_pid;         /* 0 while not running */
};

struct ingress_controller;

/* Ensures the IngressClass (created, marked default, when missing), generates the
 * default certificate, starts the informers (informers NULL: its own over client; with
 * a shared factory the caller starts it and stops it before ingress_stop) and the sync
 * thread; nginx starts with the first rendered config. client and informers must
 * outlive the controller; cfg is copied. NULL with err on failure. */
struct ingress_controller *ingress_start(k8c_client *client, informer_factory *informers,
                                         const struct ingress_config *cfg, k8c_err *err);

/* Stops the sync thread and nginx, frees everything; NULL is fine. The state dir stays. */
void ingress_stop(struct ingress_controller *ic);

/* Waits up to timeout_ms until a sync started after this call has finished (applied or
 * skipped because nothing changed). For tests. */
bool ingress_wait_sync(struct ingress_controller *ic, int timeout_ms);

void ingress_stats(struct ingress_controller *ic, struct ingress_stats *out);

#endif
