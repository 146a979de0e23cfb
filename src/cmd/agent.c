/* agent.c — `k8c agent`: a node agent joining a server with its token, as k3s agents do.
 * The CA to trust comes from --ca-file or, as k3s does, from the server's /cacerts,
 * accepted only when it matches the CA hash inside the K10 token. The agent runs the
 * real node agent (the kubelet, src/kubelet/) or, with --simulate N, simulated nodes,
 * over the HTTPS client. */
#include "cmd/cmd.h"

#include "agent/simnodes.h"
#include "apiserver/secure_file.h"
#include "apiserver/token.h"
#include "client/client_http.h"
#include "client/join_certs.h"
#include "cmd/agent_flags.h"
#include "kubelet/nodestatus.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "nodenet/nodenet.h"

#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct agent_flags {
  const char *server;
  const char *token;
  const char *data_dir;
  const char *ca_file;
  const char *node_name;
  const char *cluster_cidr;
  const char *service_cidr;
  int simulate;
  int simulate_first_index;
  int simulate_ready_delay_ms;
  int verbosity;
  struct kubelet_config agent;
  struct nodenet_config net;
};

static void
agent_usage(FILE *out)
{
  fprintf(
      out,
      "usage: k8c agent --server https://HOST:PORT --token TOKEN [flags]\n\n"
      "  --server URL                 the API server to join (required)\n"
      "  --token TOKEN                the server's join token (DATA_DIR/server/token on the\n"
      "                               server; required; or K8C_TOKEN in the environment)\n"
      "  --ca-file PATH               the server's CA; default: fetched from the server and\n"
      "                               checked against the CA hash in a K10 token\n"
      "  --data-dir DIR               state directory (default /var/lib/k8c)\n"
      "  --node-name NAME             this node's name (real agent; default the hostname)\n"
      "  --simulate N                 run N simulated nodes instead of a real node\n"
      "  --simulate-first-index I     name them sim-node-<I> onwards (default 0), so that\n"
      "                               several agents do not collide\n"
      "  --simulate-ready-delay MS    their pods turn Ready MS after Running (default 0)\n"
      "  --cluster-cidr CIDR          pod network, as given to the server (default 10.42.0.0/16)\n"
      "  --service-cidr CIDR          service network, as given to the server\n"
      "                               (default 10.43.0.0/16)\n"
      "  -v N                         log verbosity 0-3 (default 2)\n");
  agent_flags_usage(out);
}

static int
parse_flags(int argc, char **argv, struct agent_flags *f)
{
  static const struct option opts[] = {
      {"server", required_argument, NULL, 's'},
      {"token", required_argument, NULL, 't'},
      {"ca-file", required_argument, NULL, 'c'},
      {"data-dir", required_argument, NULL, 'd'},
      {"node-name", required_argument, NULL, 'n'},
      {"simulate", required_argument, NULL, 'N'},
      {"simulate-first-index", required_argument, NULL, 'I'},
      {"simulate-ready-delay", required_argument, NULL, 'R'},
      {"cluster-cidr", required_argument, NULL, 'C'},
      {"service-cidr", required_argument, NULL, 'S'},
      {"v", required_argument, NULL, 'v'},
      AGENT_FLAG_OPTIONS,
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "v:h", opts, NULL)) != -1) {
    switch (ch) {
    case 's':
      f->server = optarg;
      break;
    case 't':
      f->token = optarg;
      break;
    case 'c':
      f->ca_file = optarg;
      break;
    case 'd':
      f->data_dir = optarg;
      break;
    case 'n':
      f->node_name = optarg;
      break;
    case 'N':
      f->simulate = atoi(optarg);
      break;
    case 'I':
      f->simulate_first_index = atoi(optarg);
      break;
    case 'R':
      f->simulate_ready_delay_ms = atoi(optarg);
      break;
    case 'C':
      f->cluster_cidr = optarg;
      break;
    case 'S':
      f->service_cidr = optarg;
      break;
    case 'v':
      f->verbosity = atoi(optarg);
      break;
    case 'h':
      agent_usage(stdout);
      exit(0);
    default: {
      int bad = 0;
      if (agent_net_flag_set(&f->net, ch, optarg))
        break;
      if (agent_flag_set(&f->agent, ch, optarg, &bad)) {
        if (bad == 0)
          break;
        fprintf(stderr, "k8c agent: invalid value \"%s\"\n", optarg);
      }
      agent_usage(stderr);
      return -1;
    }
    }
  }
  if (optind < argc) {
    fprintf(stderr, "k8c agent: unexpected argument \"%s\"\n", argv[optind]);
    return -1;
  }
  if (f->token == NULL)
    f->token = getenv("K8C_TOKEN");
  if (f->server == NULL || f->token == NULL || f->token[0] == '\0') {
    fprintf(stderr, "k8c agent: --server and --token are required\n");
    agent_usage(stderr);
    return -1;
  }
  return 0;
}

/* The CA file the client verifies the server with: --ca-file, or the server's CA
 * fetched and checked against the token's hash, saved as DATA_DIR/agent/server-ca.crt.
 * Caller frees. */
static char *
resolve_ca_file(const struct agent_flags *f, k8c_err *err)
{
  if (f->ca_file)
    return xstrdup(f->ca_file);
  struct token_parts parts;
  if (token_parse(f->token, &parts, err) < 0)
    return NULL;
  bool has_hash = parts.ca_hash[0] != '\0';
  char hash[sizeof parts.ca_hash];
  memcpy(hash, parts.ca_hash, sizeof hash);
  explicit_bzero(&parts, sizeof parts);
  if (!has_hash) {
    k8c_error(err, 400, K8C_REASON_BAD_REQUEST,
              "the token carries no CA hash (not a K10 token): pass --ca-file");
    return NULL;
  }
  cleanup_free char *pem = NULL;
  size_t len = 0;
  if (client_http_fetch_ca(f->server, hash, &pem, &len, err) < 0)
    return NULL;
  cleanup_free char *dir = xasprintf("%s/agent", f->data_dir);
  char *path = xasprintf("%s/server-ca.crt", dir);
  if (secure_mkdir_p(dir, 0700, err) < 0 || secure_write_file(path, pem, len, 0644, err) < 0) {
    free(path);
    return NULL;
  }
  return path;
}

/* How often the waiting main thread returns the heap's free pages to the kernel. */
#define AGENT_TRIM_SECONDS 5

/* The kubelet's serving certificate from the server (its streaming endpoint: logs,
 * exec, port-forward), stored in f->agent; false (streaming off) if the server refuses. */
static bool
fetch_serving_cert(struct agent_flags *f, const char *ca_file, struct join_serving_cert *cert)
{
  char ip[64];
  if (f->agent.node_ip && f->agent.node_ip[0])
    snprintf(ip, sizeof ip, "%s", f->agent.node_ip);
  else
    node_first_ipv4(ip, sizeof ip);
  k8c_err err = {0};
  if (join_fetch_serving_cert(f->server, ca_file, f->token, f->node_name, ip, cert, &err) < 0) {
    log_error("k8c agent: kubelet serving certificate: %s; logs, exec and port-forward will not "
              "reach this node",
              err.message);
    k8c_err_clear(&err);
    return false;
  }
  f->agent.serving_cert_pem = cert->cert_pem;
  f->agent.serving_key_pem = cert->key_pem;
  f->agent.client_ca_pem = cert->client_ca_pem;
  return true;
}

/* The real node agent until SIGINT/SIGTERM. */
static int
run_real_agent(struct agent_flags *f, k8c_client *client, const char *ca_file, sigset_t *sigs)
{
  /* a few malloc arenas, not one per pod worker: the agent's memory is mostly small
   * short-lived objects and its threads rarely contend */
  mallopt(M_ARENA_MAX, 2);
  /* a fixed mmap threshold: glibc would otherwise raise it to the size of the largest
   * block freed (an nft batch of megabytes), after which such blocks come from the heap
   * and leave it fragmented instead of going back to the kernel when freed */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  char host[256] = "";
  if (f->node_name == NULL || f->node_name[0] == '\0')
    f->node_name = gethostname(host, sizeof host) == 0 && host[0] ? host : "k8c-node";
  f->agent.node_name = f->node_name;
  cleanup_free char *data_dir = NULL;
  agent_flags_finish(&f->agent, f->data_dir, &data_dir);
  struct join_serving_cert cert = {0};
  fetch_serving_cert(f, ca_file, &cert);
  k8c_err err = {0};
  struct kubelet *kl = kubelet_start(client, &f->agent, &err);
  if (kl == NULL) {
    log_error("k8c agent: %s", err.message);
    k8c_err_clear(&err);
    join_serving_cert_free(&cert);
    return 1;
  }
  agent_net_flags_finish(&f->net, &f->agent);
  f->net.cluster_cidr = f->cluster_cidr;
  f->net.service_cidr = f->service_cidr;
  struct nodenet *net = nodenet_start(client, &f->net, &err);
  if (net == NULL) {
    log_error("k8c agent: node networking: %s", err.message);
    k8c_err_clear(&err);
    kubelet_stop(kl);
    join_serving_cert_free(&cert);
    return 1;
  }
  if (kubelet_wait_ready(kl, 60000))
    log_info("k8c agent: node %s joined %s", f->node_name, f->server);
  else
    log_warn("k8c agent: node %s not ready within 60 s; still trying", f->node_name);
  /* Bursts (start-up, a pull, pods starting) leave the heap mostly free chunks that
   * glibc keeps (8 MiB held for 1 MiB in use, idle); hand them back while waiting. */
  struct timespec trim_every = {AGENT_TRIM_SECONDS, 0};
  int sig;
  while ((sig = sigtimedwait(sigs, NULL, &trim_every)) < 0)
    (void)malloc_trim(0);
  log_info("k8c agent: signal %d, shutting down", sig);
  nodenet_stop(net);
  kubelet_stop(kl);
  join_serving_cert_free(&cert); /* the streaming endpoint held it until here */
  return 0;
}

int
cmd_agent(int argc, char **argv)
{
  struct agent_flags f = {
      .data_dir = "/var/lib/k8c",
      .cluster_cidr = "10.42.0.0/16",
      .service_cidr = "10.43.0.0/16",
      .verbosity = 2,
  };
  if (parse_flags(argc, argv, &f) < 0)
    return 2;
  log_set_level((enum log_level)(f.verbosity < 0 ? 0 : f.verbosity > 3 ? 3 : f.verbosity));
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  k8c_err err = {0};
  cleanup_free char *ca_file = resolve_ca_file(&f, &err);
  if (ca_file == NULL) {
    log_error("k8c agent: server CA: %s", err.message);
    k8c_err_clear(&err);
    return 1;
  }
  struct client_http_config ccfg = {
      .server = f.server,
      .ca_file = ca_file,
      .token = f.token,
      .user_agent = "k8c-agent",
      .field_manager = "k8c-agent",
  };
  k8c_client *client = client_http_new(&ccfg, &err);
  if (client == NULL) {
    log_error("k8c agent: %s", err.message);
    k8c_err_clear(&err);
    return 1;
  }
  if (f.simulate <= 0) {
    int rc = run_real_agent(&f, client, ca_file, &sigs);
    client_free(client);
    return rc;
  }
  struct simnodes_config scfg = {.count = f.simulate,
                                 .first_index = f.simulate_first_index,
                                 .cluster_cidr = f.cluster_cidr,
                                 .ready_delay_ms = f.simulate_ready_delay_ms};
  simnodes *sim = simnodes_start(client, &scfg, &err);
  if (sim == NULL) {
    log_error("k8c agent: --simulate: %s", err.message);
    k8c_err_clear(&err);
    client_free(client);
    return 1;
  }
  if (simnodes_wait_registered(sim, 60000))
    log_info("k8c agent: %d simulated nodes registered with %s", f.simulate, f.server);
  else
    log_warn("k8c agent: not every simulated node registered within 60 s; still trying");
  int sig = 0;
  sigwait(&sigs, &sig);
  log_info("k8c agent: signal %d, shutting down", sig);
  simnodes_stop(sim);
  client_free(client);
  return 0;
}
