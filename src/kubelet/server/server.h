/* server.h — the kubelet's authenticated HTTPS endpoint (port 10250 by default) that
 * the API server proxies `kubectl logs/exec/attach/port-forward/cp` to:
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow&previous&sinceSeconds&sinceTime&
 *        tailLines&timestamps&limitBytes
 *   GET|POST /exec/{ns}/{pod}[/{uid}]/{container}?command=..&input&output&error&tty
 *   GET|POST /attach/{ns}/{pod}[/{uid}]/{container}?input&output&error&tty
 *   GET|POST /portForward/{ns}/{pod}[/{uid}]
 * Streams speak WebSocket (v5/v4.channel.k8s.io; SPDY/3.1+portforward.k8s.io tunnels)
 * and SPDY/3.1 (v4.channel.k8s.io, portforward.k8s.io). Callers must present a client
 * certificate of the cluster's client CA for kube-apiserver-kubelet-client or a
 * system:masters identity. */
#ifndef K8C_KUBELET_SERVER_SERVER_H
#define K8C_KUBELET_SERVER_SERVER_H

#include "kubelet/server/backend.h"
#include "lib/err.h"

#define KUBELET_DEFAULT_PORT 10250
#define KUBELET_CLIENT_CN PKI_KUBELET_CLIENT_CN

struct streaming_server_config {
  const char *bind_address; /* "0.0.0.0" if NULL */
  int port;                 /* 0: any free port (see streaming_server_port) */
  const char *serving_cert_pem;
  const char *serving_key_pem;
  const char *client_ca_pem;            /* trust anchor for the API server's client certificate */
  const struct stream_backend *backend; /* must outlive the server */
};

struct streaming_server;

/* Starts serving in background threads. The caller owns the result. */
struct streaming_server *streaming_server_start(const struct streaming_server_config *cfg,
                                                k8c_err *err);
/* The port actually listened on. */
int streaming_server_port(const struct streaming_server *s);
/* Stops listening; sessions already upgraded run to their end on their own threads. */
void streaming_server_stop(struct streaming_server *s);

#endif
