/* server.c — `k8c server`: flags (k3s's names), then the PKI, the store, the registry
 * and the HTTPS API, bootstrap objects, and a clean shutdown on SIGINT/SIGTERM. */
#include "apiserver/server.h"
#include "agent/simnodes.h"
#include "apiserver/kubeconfig.h"
#include "apiserver/pki.h"
#include "apiserver/secure_file.h"
#include "apiserver/token.h"
#include "auth/satoken.h"
#include "client/client.h"
#include "client/leaderelection.h"
#include "cmd/agent_flags.h"
#include "cmd/cmd.h"
#include "cmd/server_bootstrap.h"
#include "controllers/manager.h"
#include "ingress/ingress.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "nodenet/nodenet.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"
#include "storage/compactor.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/storage.h"

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct server_flags {
  const char *data_dir;
  int port;
  const char *bind_address;
  const char *advertise_address;
  const char *write_kubeconfig;
  unsigned kubeconfig_mode;
  bool disable_agent;
  bool disable_controller_manager;
  bool disable_scheduler;
  bool disable_leader_election;
  bool disable_ingress;
  int ingress_http_port;
  int ingress_https_port;
  const char *token;
  const char *node_name;
  const char *cluster_cidr;
  const char *service_cidr;
  const char *datastore_endpoint;
  const char *tls_sans[16];
  int tls_san_count;
  int verbosity;
  int simulate;
  int simulate_ready_delay_ms;
  int node_monitor_grace;      /* seconds without a heartbeat before a node is Unknown */
  const char *root_ca_pem;     /* not a flag: the CA published as kube-root-ca.crt */
  struct kubelet_config agent; /* the in-process node agent's flags */
  struct nodenet_config net;   /* and its node networking */
};

static void
server_usage(FILE *out)
{
  fprintf(out,
          "usage: k8c server [flags]\n\n"
          "  --data-dir DIR               state directory (default /var/lib/k8c)\n"
          "  --https-listen-port PORT     API port (default 6443)\n"
          "  --bind-address ADDR          address to listen on (default 0.0.0.0)\n"
          "  --advertise-address ADDR     address clients reach the API at (default 127.0.0.1)\n"
          "  --tls-san NAME|IP            extra subject alternative name (repeatable)\n"
          "  --write-kubeconfig FILE      admin kubeconfig (default /etc/k8c/k8c.yaml)\n"
          "  --write-kubeconfig-mode MODE its file mode, octal (default 0600)\n"
          "  --token TOKEN                shared secret for joining agents (default: generated)\n"
          "  --node-name NAME             this node's name (default: hostname)\n"
          "  --cluster-cidr CIDR          pod network (default 10.42.0.0/16)\n"
          "  --service-cidr CIDR          service network (default 10.43.0.0/16)\n"
          "  --datastore-endpoint URL     store (default: embedded SQLite under --data-dir)\n"
          "  --disable-agent              do not run a node agent in this process\n"
          "  --disable-controller-manager do not run the controllers in this process\n"
          "  --disable-scheduler          do not run the scheduler in this process\n"
          "  --disable-leader-election    run the scheduler and controllers without\n"
          "                               holding their Leases (kube-system/kube-scheduler,\n"
          "                               kube-system/kube-controller-manager)\n"
          "  --disable-ingress            do not run the ingress controller (nginx)\n"
          "  --ingress-http-port PORT     ingress HTTP port (default 80)\n"
          "  --ingress-https-port PORT    ingress HTTPS port (default 443)\n"
          "  --simulate N                 also run N simulated nodes (sim-node-0000 ...)\n"
          "  --simulate-ready-delay MS    their pods turn Ready MS after Running (default 0)\n"
          "  --node-monitor-grace-period S  heartbeat grace before a node is Unknown (default 40)\n"
          "  -v, --v LEVEL                log verbosity 0-3 (default 2)\n");
  agent_flags_usage(out);
}

static int
parse_flags(int argc, char **argv, struct server_flags *f)
{
  static const struct option opts[] = {
      {"data-dir", required_argument, NULL, 'd'},
      {"https-listen-port", required_argument, NULL, 'p'},
      {"bind-address", required_argument, NULL, 'b'},
      {"advertise-address", required_argument, NULL, 'a'},
      {"tls-san", required_argument, NULL, 's'},
      {"write-kubeconfig", required_argument, NULL, 'k'},
      {"write-kubeconfig-mode", required_argument, NULL, 'm'},
      {"disable-agent", no_argument, NULL, 'D'},
      {"disable-controller-manager", no_argument, NULL, 'C'},
      {"disable-scheduler", no_argument, NULL, 'Z'},
      {"disable-leader-election", no_argument, NULL, 'L'},
      {"disable-ingress", no_argument, NULL, 'I'},
      {"ingress-http-port", required_argument, NULL, 'H'},
      {"ingress-https-port", required_argument, NULL, 'T'},
      {"token", required_argument, NULL, 't'},
      {"node-name", required_argument, NULL, 'n'},
      {"cluster-cidr", required_argument, NULL, 'c'},
      {"service-cidr", required_argument, NULL, 'S'},
      {"datastore-endpoint", required_argument, NULL, 'e'},
      {"simulate", required_argument, NULL, 'N'},
      {"simulate-ready-delay", required_argument, NULL, 'R'},
      {"node-monitor-grace-period", required_argument, NULL, 'G'},
      {"v", required_argument, NULL, 'v'},
      AGENT_FLAG_OPTIONS,
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "v:h", opts, NULL)) != -1) {
    switch (c) {
    case 'd':
      f->data_dir = optarg;
      break;
    case 'p':
      f->port = atoi(optarg);
      break;
    case 'b':
      f->bind_address = optarg;
      break;
    case 'a':
      f->advertise_address = optarg;
      break;
    case 's':
      if (f->tls_san_count < 15)
        f->tls_sans[f->tls_san_count++] = optarg;
      break;
    case 'k':
      f->write_kubeconfig = optarg;
      break;
    case 'm':
      f->kubeconfig_mode = (unsigned)strtoul(optarg, NULL, 8);
      break;
    case 'D':
      f->disable_agent = true;
      break;
    case 'C':
      f->disable_controller_manager = true;
      break;
    case 'Z':
      f->disable_scheduler = true;
      break;
    case 'L':
      f->disable_leader_election = true;
      break;
    case 'I':
      f->disable_ingress = true;
      break;
    case 'H':
      f->ingress_http_port = atoi(optarg);
      break;
    case 'T':
      f->ingress_https_port = atoi(optarg);
      break;
    case 't':
      f->token = optarg;
      break;
    case 'n':
      f->node_name = optarg;
      break;
    case 'c':
      f->cluster_cidr = optarg;
      break;
    case 'S':
      f->service_cidr = optarg;
      break;
    case 'e':
      f->datastore_endpoint = optarg;
      break;
    case 'N':
      f->simulate = atoi(optarg);
      break;
    case 'R':
      f->simulate_ready_delay_ms = atoi(optarg);
      break;
    case 'G':
      f->node_monitor_grace = atoi(optarg);
      break;
    case 'v':
      f->verbosity = atoi(optarg);
      break;
    case 'h':
      server_usage(stdout);
      exit(0);
    default: {
      int bad = 0;
      if (agent_net_flag_set(&f->net, c, optarg))
        break;
      if (agent_flag_set(&f->agent, c, optarg, &bad)) {
        if (bad == 0)
          break;
        fprintf(stderr, "k8c server: invalid value \"%s\"\n", optarg);
      }
      server_usage(stderr);
      return -1;
    }
    }
  }
  if (f->port <= 0 || f->port > 65535) {
    fprintf(stderr, "k8c server: invalid --https-listen-port\n");
    return -1;
  }
  return 0;
}

static int
split_sans(const struct server_flags *f, const char **ips, const char **dns, size_t max)
{
  size_t ni = 0, nd = 0;
  ips[ni++] = f->advertise_address;
  ips[ni++] = "10.43.0.1"; /* the kubernetes service IP of the default service CIDR */
  for (int i = 0; i < f->tls_san_count && ni + 1 < max && nd + 1 < max; i++) {
    const char *s = f->tls_sans[i];
    bool is_ip = strspn(s, "0123456789.") == strlen(s) || strchr(s, ':') != NULL;
    if (is_ip)
      ips[ni++] = s;
    else
      dns[nd++] = s;
  }
  ips[ni] = NULL;
  dns[nd] = NULL;
  return 0;
}

/* A component that runs only while this server holds its Lease (or always, with
 * --disable-leader-election): the elector's callbacks start and stop it. */
struct led_component {
  const char *lease; /* "kube-scheduler", "kube-controller-manager" */
  struct registry *reg;
  const struct server_flags *flags;
  informer_factory *informers; /* shared by the components of this process */
  void *(*start)(struct registry *reg, const struct server_flags *flags,
                 informer_factory *informers, k8c_err *err);
  void (*stop)(void *running);
  void *running;
  leader_elector *elector;
};

static void *
start_scheduler(struct registry *reg, const struct server_flags *flags, informer_factory *informers,
                k8c_err *err)
{
  struct scheduler_config scfg = {.informers = informers};
  return scheduler_start(reg, &scfg, err);
}

static void
stop_scheduler(void *running)
{
  scheduler_stop(running);
}

/* The ServiceAccount token issuer, signing with the key kept beside the certificates. */
static struct satoken_issuer *
service_account_issuer(const struct pki *pki, k8c_err *err)
{
  char *key = NULL;
  if (pki_service_key_ensure(pki, &key, err) < 0)
    return NULL;
  struct satoken_issuer *issuer = satoken_issuer_new(key, NULL, err);
  secure_free_secret(key);
  return issuer;
}

static void *
start_controllers(struct registry *reg, const struct server_flags *flags,
                  informer_factory *informers, k8c_err *err)
{
  struct controller_config ccfg = {.node_monitor_grace_seconds = flags->node_monitor_grace,
                                   .cluster_cidr = flags->cluster_cidr,
                                   .root_ca_pem = flags->root_ca_pem,
                                   .shared_informers = informers};
  return controller_manager_start(reg, &ccfg, err);
}

static void
stop_controllers(void *running)
{
  controller_manager_stop(running);
}

static void
led_component_start(void *ctx)
{
  struct led_component *c = ctx;
  k8c_err err = {0};
  c->running = c->start(c->reg, c->flags, c->informers, &err);
  if (c->running == NULL)
    log_error("k8c server: %s: %s", c->lease, err.message);
  k8c_err_clear(&err);
}

static void
led_component_stop(void *ctx)
{
  struct led_component *c = ctx;
  c->stop(c->running);
  c->running = NULL;
}

/* Starts c at once, or an elector that starts it while leading. */
static int
led_component_run(struct led_component *c, k8c_client *client, bool elect, k8c_err *err)
{
  if (!elect) {
    c->running = c->start(c->reg, c->flags, c->informers, err);
    return c->running ? 0 : -1;
  }
  struct leader_election_config lcfg = {
      .name = c->lease,
      .callbacks = {.on_started_leading = led_component_start,
                    .on_stopped_leading = led_component_stop,
                    .ctx = c},
  };
  c->elector = leader_elector_new(client, &lcfg, err);
  return c->elector ? 0 : -1;
}

/* Stops the elector (which stops c if it leads and releases the Lease) or c itself. */
static void
led_component_end(struct led_component *c)
{
  if (c->elector)
    leader_elector_stop(c->elector);
  else if (c->running)
    c->stop(c->running);
  c->elector = NULL;
  c->running = NULL;
}

/* How often the waiting main thread hands free heap pages back to the system. A burst
 * (nodes registering while kubectl polls 1,000-node lists) leaves ~40 MiB of freed
 * chunks inside the arenas; at 10 s they stayed resident for up to 10 s after it (1,000
 * simulated nodes: 68-98 MiB until the trim, 44-46 MiB after). A trim costs ~1 ms CPU. */
#define SERVER_TRIM_SECONDS 2

/* glibc's defaults suit a few threads, not ~100 (API connections, informers, workers):
 * one arena per thread up to 8 per core, each keeping its own free chunks, and an mmap
 * threshold that rises to the largest block ever freed, so that every later list
 * response of that size is carved from (and fragments) an arena instead of being
 * unmapped when sent. A few arenas and a fixed threshold keep the heap close to what is
 * in use (the 30k-pod figures are in bench/RESULTS.md). */
static void
server_tune_malloc(void)
{
  if (mallopt(M_ARENA_MAX, 4) != 1 || mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1 ||
      mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024) != 1)
    log_warn("k8c server: malloc tuning not applied");
}

int
cmd_server(int argc, char **argv)
{
  server_tune_malloc();
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct server_flags f = {
      .data_dir = "/var/lib/k8c",
      .port = 6443,
      .bind_address = "0.0.0.0",
      .advertise_address = "127.0.0.1",
      .write_kubeconfig = "/etc/k8c/k8c.yaml",
      .kubeconfig_mode = 0600,
      .cluster_cidr = "10.42.0.0/16",
      .service_cidr = "10.43.0.0/16",
      .datastore_endpoint = "",
      .verbosity = 2,
  };
  if (parse_flags(argc, argv, &f) < 0)
    return 2;
  log_set_level((enum log_level)(f.verbosity < 0 ? 0 : f.verbosity > 3 ? 3 : f.verbosity));

  /* Signals are taken by sigwait below; every thread started after this inherits the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  k8c_err err = {0};
  const char *ips[20], *dns[20];
  split_sans(&f, ips, dns, 20);
  struct pki_config pcfg = {.data_dir = f.data_dir, .san_ips = ips, .san_dns = dns};
  struct pki pki = {0};
  if (pki_ensure(&pcfg, &pki, &err) < 0) {
    log_error("k8c server: certificates: %s", err.message);
    return 1;
  }
  char *token = NULL;
  if (f.token) {
    token = xstrdup(f.token);
  } else if (token_ensure(f.data_dir, &token, &err) < 0) {
    log_error("k8c server: token: %s", err.message);
    pki_free(&pki);
    return 1;
  }
  storage *store = storage_open(f.datastore_endpoint, f.data_dir, &err);
  if (store == NULL) {
    log_error("k8c server: opening the datastore: %s", err.message);
    pki_free(&pki);
    free(token);
    return 1;
  }
  /* A WAL of its working size from the start: its commits' syncs then flush data only. */
  sqlite_store_preallocate_wal(store, SQLITE_WAL_WORKING_BYTES);
  struct registry reg;
  struct registry_config rcfg = {
      .service_cidr = f.service_cidr, .node_port_min = 30000, .node_port_max = 32767};
  if (registry_init(&reg, store, &rcfg, &err) < 0) {
    log_error("k8c server: %s", err.message);
    store->ops->destroy(store);
    pki_free(&pki);
    free(token);
    return 1;
  }
  struct satoken_issuer *sa_tokens = service_account_issuer(&pki, &err);
  if (sa_tokens == NULL) {
    log_error("k8c server: service account tokens: %s", err.message);
    registry_destroy(&reg);
    store->ops->destroy(store);
    pki_free(&pki);
    free(token);
    return 1;
  }
  reg.token_issuer = sa_tokens;
  f.root_ca_pem = pki.server_ca_cert_pem;
  struct apiserver_config acfg = {
      .bind_address = f.bind_address,
      .port = f.port,
      .serving_cert_pem = pki.serving_cert_pem,
      .serving_key_pem = pki.serving_key_pem,
      .client_ca_pem = pki.client_ca_cert_pem,
      .server_ca_pem = pki.server_ca_cert_pem,
      .token = token,
      .advertise_address = f.advertise_address,
      .reg = &reg,
      .kubelet_client_cert_pem = pki.kubelet_client_cert_pem,
      .kubelet_client_key_pem = pki.kubelet_client_key_pem,
      .pki = &pki,
  };
  struct compactor *compactor = NULL;
  /* One list+watch and one parsed cache per collection for the whole process: the
   * scheduler, the controllers and the simulated nodes share them. */
  k8c_client *informer_client = client_inprocess_new(&reg, "k8c-informers");
  informer_factory *informers = informer_factory_new(informer_client, 0);
  struct led_component controllers = {.lease = "kube-controller-manager",
                                      .reg = &reg,
                                      .flags = &f,
                                      .informers = informers,
                                      .start = start_controllers,
                                      .stop = stop_controllers};
  struct led_component scheduler = {.lease = "kube-scheduler",
                                    .reg = &reg,
                                    .flags = &f,
                                    .informers = informers,
                                    .start = start_scheduler,
                                    .stop = stop_scheduler};
  k8c_client *le_client = NULL;
  k8c_client *sim_client = NULL;
  simnodes *sim = NULL;
  k8c_client *ingress_client = NULL;
  struct ingress_controller *ingress = NULL;
  k8c_client *agent_client = NULL;
  struct kubelet *kubelet = NULL;
  k8c_client *net_client = NULL;
  struct nodenet *net = NULL;
  char *agent_data_dir = NULL;
  char *kubelet_cert = NULL, *kubelet_key = NULL;
  char host[256] = "";
  struct apiserver *api = apiserver_start(&acfg, &err);
  int rc = 1;
  if (api == NULL) {
    log_error("k8c server: %s", err.message);
    goto out;
  }
  struct bootstrap_config bcfg = {
      .advertise_address = f.advertise_address, .port = f.port, .service_cidr = f.service_cidr};
  if (server_bootstrap(&reg, &bcfg, &err) < 0) {
    log_error("k8c server: bootstrap: %s", err.message);
    goto out;
  }
  compactor = compactor_start(store, 300, &err);
  if (compactor == NULL) {
    log_error("k8c server: %s", err.message);
    goto out;
  }
  if (!f.disable_leader_election)
    le_client = client_inprocess_new(&reg, "k8c-leader-election");
  if ((!f.disable_controller_manager &&
       led_component_run(&controllers, le_client, !f.disable_leader_election, &err) < 0) ||
      (!f.disable_scheduler &&
       led_component_run(&scheduler, le_client, !f.disable_leader_election, &err) < 0)) {
    log_error("k8c server: %s", err.message);
    goto out;
  }
  if (f.simulate > 0) {
    sim_client = client_inprocess_new(&reg, "k8c-simnodes");
    struct simnodes_config scfg = {.count = f.simulate,
                                   .cluster_cidr = f.cluster_cidr,
                                   .ready_delay_ms = f.simulate_ready_delay_ms,
                                   .informers = informers};
    sim = simnodes_start(sim_client, &scfg, &err);
    if (sim == NULL) {
      log_error("k8c server: --simulate: %s", err.message);
      goto out;
    }
  }
  if (!f.disable_ingress) {
    char *data = realpath(f.data_dir, NULL);
    char *state = xasprintf("%s/server/ingress", data ? data : f.data_dir);
    ingress_client = client_inprocess_new(&reg, "k8c-ingress");
    struct ingress_config icfg = {.state_dir = state,
                                  .http_address =
                                      strcmp(f.bind_address, "0.0.0.0") ? f.bind_address : NULL,
                                  .http_port = f.ingress_http_port,
                                  .https_port = f.ingress_https_port,
                                  .publish_address = f.advertise_address};
    ingress = ingress_start(ingress_client, NULL, &icfg, &err);
    free(state);
    free(data);
    if (ingress == NULL) {
      log_error("k8c server: ingress: %s", err.message);
      goto out;
    }
  }
  if (!f.disable_agent) {
    if (f.node_name == NULL || f.node_name[0] == '\0')
      f.node_name = gethostname(host, sizeof host) == 0 && host[0] ? host : "k8c-node";
    agent_client = client_inprocess_new(&reg, "kubelet");
    f.agent.node_name = f.node_name;
    agent_flags_finish(&f.agent, f.data_dir, &agent_data_dir);
    /* the streaming endpoint's certificate, from this server's own CA */
    const char *sans[] = {f.node_name, NULL};
    if (pki_issue_serving_cert(&pki, f.node_name, sans, NULL, &kubelet_cert, &kubelet_key, &err) <
        0) {
      log_error("k8c server: node agent certificate: %s", err.message);
      goto out;
    }
    f.agent.serving_cert_pem = kubelet_cert;
    f.agent.serving_key_pem = kubelet_key;
    f.agent.client_ca_pem = pki.client_ca_cert_pem;
    kubelet = kubelet_start(agent_client, &f.agent, &err);
    if (kubelet == NULL) {
      log_error("k8c server: node agent: %s", err.message);
      goto out;
    }
    net_client = client_inprocess_new(&reg, "k8c-nodenet");
    agent_net_flags_finish(&f.net, &f.agent);
    f.net.cluster_cidr = f.cluster_cidr;
    f.net.service_cidr = f.service_cidr;
    net = nodenet_start(net_client, &f.net, &err);
    if (net == NULL) {
      log_error("k8c server: node networking: %s", err.message);
      goto out;
    }
  }
  if (f.write_kubeconfig && f.write_kubeconfig[0]) {
    char *url = xasprintf("https://%s:%d",
                          strchr(f.advertise_address, ':') ? "[::1]" : f.advertise_address, f.port);
    int krc = kubeconfig_write(f.write_kubeconfig, f.kubeconfig_mode, url, pki.server_ca_cert_pem,
                               pki.admin_cert_pem, pki.admin_key_pem, &err);
    free(url);
    if (krc < 0) {
      log_error("k8c server: writing kubeconfig: %s", err.message);
      goto out;
    }
  }
  apiserver_set_ready(api);
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  log_info("k8c server ready on https://%s:%d in %.1f ms (kubeconfig %s)", f.bind_address, f.port,
           ms, f.write_kubeconfig);
  /* Bursts (a mass create, paged lists under load) leave free chunks scattered in the
   * arenas that glibc keeps; hand their pages back while waiting for a signal. */
  struct timespec trim_every = {SERVER_TRIM_SECONDS, 0};
  int sig;
  while ((sig = sigtimedwait(&sigs, NULL, &trim_every)) < 0)
    (void)malloc_trim(0);
  log_info("k8c server: signal %d, shutting down", sig);
  rc = 0;
out:
  nodenet_stop(net);
  if (net_client)
    client_free(net_client);
  kubelet_stop(kubelet);
  if (agent_client)
    client_free(agent_client);
  free(agent_data_dir);
  free(kubelet_cert);
  if (kubelet_key)
    secure_free_secret(kubelet_key);
  ingress_stop(ingress);
  if (ingress_client)
    client_free(ingress_client);
  simnodes_stop(sim);
  if (sim_client)
    client_free(sim_client);
  led_component_end(&scheduler);
  led_component_end(&controllers);
  if (le_client)
    client_free(le_client);
  informer_factory_stop(informers);
  informer_factory_free(informers);
  client_free(informer_client);
  compactor_stop(compactor);
  apiserver_stop(api);
  registry_destroy(&reg);
  satoken_issuer_free(sa_tokens);
  store->ops->destroy(store);
  pki_free(&pki);
  free(token);
  k8c_err_clear(&err);
  return rc;
}
