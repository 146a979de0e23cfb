/* testing_kubelet.c — `k8c testing-kubelet-server` (hidden, for e2e tests): runs the
 * kubelet streaming server over host processes and log files, and registers a Node
 * pointing at it plus one Running pod bound to that Node, heartbeating the Node until
 * SIGTERM, so kubectl logs/exec/cp/port-forward can be tested without containers. */
#include "cmd/testing_kubelet.h"
#include "apiserver/pki.h"
#include "apiserver/secure_file.h"
#include "client/client_http.h"
#include "cmd/cmd.h"
#include "kubelet/server/server.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HEARTBEAT_SECONDS 5

struct tk_flags {
  const char *data_dir, *server, *node, *log_dir, *namespace_, *pod, *containers;
  int port;
};

static void
now_rfc3339(char out[32])
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
node_status_update_once(k8c_client *c, const struct tk_flags *f, int port, k8c_err *err)
{
  const struct api_resource *nodes = api_resource_find("", "v1", "nodes");
  json_t *node = NULL;
  if (client_get(c, nodes, "", f->node, &node, err) < 0)
    return -1;
  char now[32];
  now_rfc3339(now);
  json_t *status =
      json_pack("{s:[{s:s,s:s}],s:{s:{s:i}},s:[{s:s,s:s,s:s,s:s,s:s,s:s}]}", "addresses", "type",
                "InternalIP", "address", "127.0.0.1", "daemonEndpoints", "kubeletEndpoint", "Port",
                port, "conditions", "type", "Ready", "status", "True", "reason", "KubeletReady",
                "message", "testing kubelet is posting ready status", "lastHeartbeatTime", now,
                "lastTransitionTime", now);
  json_object_set_new(node, "status", status);
  int rc = client_update_status(c, nodes, "", f->node, node, NULL, NULL, err);
  json_decref(node);
  return rc;
}

/* Controllers write the Node too (podCIDR, taints): retry on conflicts. */
static int
node_status_update(k8c_client *c, const struct tk_flags *f, int port, k8c_err *err)
{
  for (int attempt = 0;; attempt++) {
    if (node_status_update_once(c, f, port, err) == 0)
      return 0;
    if (err->status != 409 || attempt == 10)
      return -1;
    k8c_err_clear(err);
  }
}

static int
register_objects(k8c_client *c, const struct tk_flags *f, int port, k8c_err *err)
{
  const struct api_resource *nodes = api_resource_find("", "v1", "nodes");
  const struct api_resource *pods = api_resource_find("", "v1", "pods");
  json_t *node = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Node", "metadata",
                           "name", f->node);
  int rc = client_create(c, nodes, "", node, NULL, NULL, err);
  json_decref(node);
  if ((rc < 0 && err->status != 409) ||
      (k8c_err_clear(err), node_status_update(c, f, port, err)) < 0)
    return -1;
  json_t *containers = json_array(), *statuses = json_array();
  char now[32];
  now_rfc3339(now);
  cleanup_free char *names = xstrdup(f->containers);
  for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
    json_array_append_new(containers, json_pack("{s:s,s:s}", "name", n, "image", "busybox"));
    json_array_append_new(statuses, json_pack("{s:s,s:b,s:i,s:s,s:s,s:s,s:b,s:{s:{s:s}}}", "name",
                                              n, "ready", 1, "restartCount", 0, "image", "busybox",
                                              "imageID", "busybox", "containerID", "host://testing",
                                              "started", 1, "state", "running", "startedAt", now));
  }
  json_t *pod = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:o}}", "apiVersion", "v1", "kind", "Pod",
                          "metadata", "name", f->pod, "namespace", f->namespace_, "spec",
                          "nodeName", f->node, "containers", containers);
  json_t *stored = NULL;
  rc = client_create(c, pods, f->namespace_, pod, NULL, &stored, err);
  json_decref(pod);
  if (rc < 0) {
    json_decref(statuses);
    return -1;
  }
  json_object_set_new(stored, "status",
                      json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:o}", "phase", "Running", "hostIP",
                                "127.0.0.1", "podIP", "127.0.0.1", "conditions", "type", "Ready",
                                "status", "True", "containerStatuses", statuses));
  rc = client_update_status(c, pods, f->namespace_, f->pod, stored, NULL, NULL, err);
  json_decref(stored);
  return rc;
}

static int
parse_flags(int argc, char **argv, struct tk_flags *f)
{
  *f = (struct tk_flags){
      .node = "testing-node", .namespace_ = "default", .pod = "testing-pod", .containers = "main"};
  static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                       {"server", required_argument, NULL, 's'},
                                       {"node", required_argument, NULL, 'n'},
                                       {"port", required_argument, NULL, 'p'},
                                       {"log-dir", required_argument, NULL, 'l'},
                                       {"namespace", required_argument, NULL, 'N'},
                                       {"pod", required_argument, NULL, 'P'},
                                       {"containers", required_argument, NULL, 'c'},
                                       {NULL, 0, NULL, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (ch) {
    case 'd':
      f->data_dir = optarg;
      break;
    case 's':
      f->server = optarg;
      break;
    case 'n':
      f->node = optarg;
      break;
    case 'p':
      f->port = atoi(optarg);
      break;
    case 'l':
      f->log_dir = optarg;
      break;
    case 'N':
      f->namespace_ = optarg;
      break;
    case 'P':
      f->pod = optarg;
      break;
    case 'c':
      f->containers = optarg;
      break;
    default:
      return -1;
    }
  }
  if (f->data_dir == NULL || f->server == NULL || f->log_dir == NULL) {
    fprintf(stderr, "usage: k8c testing-kubelet-server --data-dir SERVER_DATA_DIR --server URL "
                    "--log-dir DIR [--node N] [--port P] [--namespace NS] [--pod P] "
                    "[--containers a,b]\n");
    return -1;
  }
  return 0;
}

/* The server's PKI files: trust its client CA, get a serving cert from its server CA. */
static int
load_credentials(const char *data_dir, char **client_ca, char **cert, char **key, k8c_err *err)
{
  cleanup_free char *ca_path = xasprintf("%s/server/tls/client-ca.crt", data_dir);
  cleanup_free char *sca_path = xasprintf("%s/server/tls/server-ca.crt", data_dir);
  cleanup_free char *skey_path = xasprintf("%s/server/tls/server-ca.key", data_dir);
  struct pki p = {0};
  int rc = -1;
  if (secure_read_file(ca_path, client_ca, NULL, err) > 0 &&
      secure_read_file(sca_path, &p.server_ca_cert_pem, NULL, err) > 0 &&
      secure_read_file(skey_path, &p.server_ca_key_pem, NULL, err) > 0) {
    static const char *const ips[] = {"127.0.0.1", NULL};
    rc = pki_issue_serving_cert(&p, "testing-kubelet", NULL, ips, cert, key, err);
  } else if (err->status == 0) {
    k8c_error(err, 404, K8C_REASON_NOT_FOUND, "the server's PKI is missing under %s", data_dir);
  }
  pki_free(&p);
  return rc;
}

int
cmd_testing_kubelet_server(int argc, char **argv)
{
  struct tk_flags f;
  if (parse_flags(argc, argv, &f) < 0)
    return 2;
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  k8c_err err = {0};
  cleanup_free char *client_ca = NULL, *cert = NULL, *key = NULL;
  if (load_credentials(f.data_dir, &client_ca, &cert, &key, &err) < 0) {
    log_error("testing-kubelet-server: %s", err.message);
    return 1;
  }
  struct host_backend hb;
  host_backend_init(&hb, f.log_dir);
  struct streaming_server_config scfg = {.bind_address = "127.0.0.1",
                                         .port = f.port,
                                         .serving_cert_pem = cert,
                                         .serving_key_pem = key,
                                         .client_ca_pem = client_ca,
                                         .backend = &hb.ops};
  struct streaming_server *ss = streaming_server_start(&scfg, &err);
  if (ss == NULL) {
    log_error("testing-kubelet-server: %s", err.message);
    return 1;
  }
  int port = streaming_server_port(ss);
  cleanup_free char *ca_file = xasprintf("%s/server/tls/server-ca.crt", f.data_dir);
  cleanup_free char *cert_file = xasprintf("%s/server/tls/client-admin.crt", f.data_dir);
  cleanup_free char *key_file = xasprintf("%s/server/tls/client-admin.key", f.data_dir);
  struct client_http_config ccfg = {.server = f.server,
                                    .ca_file = ca_file,
                                    .cert_file = cert_file,
                                    .key_file = key_file,
                                    .field_manager = "testing-kubelet"};
  k8c_client *c = client_http_new(&ccfg, &err);
  if (c == NULL || register_objects(c, &f, port, &err) < 0) {
    log_error("testing-kubelet-server: registering: %s", err.message);
    client_free(c);
    streaming_server_stop(ss);
    return 1;
  }
  printf("ready port=%d\n", port);
  fflush(stdout);
  for (;;) {
    struct timespec wait = {HEARTBEAT_SECONDS, 0};
    if (sigtimedwait(&sigs, NULL, &wait) > 0)
      break;
    if (node_status_update(c, &f, port, &err) < 0) {
      log_warn("testing-kubelet-server: heartbeat: %s", err.message);
      k8c_err_clear(&err);
    }
  }
  client_free(c);
  streaming_server_stop(ss);
  return 0;
}
