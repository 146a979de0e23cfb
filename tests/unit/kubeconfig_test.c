/* kubeconfig_test.c — the admin kubeconfig: parsed back with libyaml, base64 fields
 * decode to the PEMs given, modes, parent creation, atomic replacement, and (when the
 * binary is installed) kubectl 1.32 reading the same client certificate. */
#include <arpa/inet.h>
#include <dirent.h>
#include <ftw.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <nettle/base64.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "apiserver/kubeconfig.h"
#include "apiserver/pki.h"
#include "apiserver/secure_file.h"
#include "lib/mem.h"
#include "testlib.h"

#define KUBECTL "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static char *
make_temp_dir(void)
{
  char *dir = xstrdup("/tmp/k8c-kubeconfig-test-XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  return dir;
}

static void
remove_tree(char *dir)
{
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

/* Follows a path of mapping keys and sequence indexes ("users", "#0", "user", ...)
 * through a libyaml document; returns the scalar's text or NULL. */
static const char *
yaml_lookup(yaml_document_t *doc, const char *const *path)
{
  yaml_node_t *node = yaml_document_get_root_node(doc);
  for (size_t i = 0; node && path[i]; i++) {
    yaml_node_t *next = NULL;
    if (path[i][0] == '#' && node->type == YAML_SEQUENCE_NODE) {
      long idx = atol(path[i] + 1);
      yaml_node_item_t *items = node->data.sequence.items.start;
      if (idx < node->data.sequence.items.top - items)
        next = yaml_document_get_node(doc, items[idx]);
    } else if (node->type == YAML_MAPPING_NODE) {
      for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
           pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(doc, pair->key);
        if (key->type == YAML_SCALAR_NODE && strcmp((char *)key->data.scalar.value, path[i]) == 0)
          next = yaml_document_get_node(doc, pair->value);
      }
    }
    node = next;
  }
  return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static bool
load_yaml(const char *path, yaml_document_t *doc)
{
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  bool ok = yaml_parser_load(&parser, doc) && yaml_document_get_root_node(doc) != NULL;
  yaml_parser_delete(&parser);
  fclose(f);
  return ok;
}

static char *
base64_decode_text(const char *b64)
{
  struct base64_decode_ctx ctx;
  size_t len = strlen(b64), out_len = BASE64_DECODE_LENGTH(len);
  char *out = xmalloc(out_len + 1);
  base64_decode_init(&ctx);
  if (!base64_decode_update(&ctx, &out_len, (uint8_t *)out, len, b64) || !base64_decode_final(&ctx))
    out_len = 0;
  out[out_len] = '\0';
  return out;
}

static char *
base64_encode_text(const char *text)
{
  size_t len = strlen(text);
  char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
  base64_encode_raw(out, len, (const uint8_t *)text);
  out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
  return out;
}

static void
check_field_decodes_to(yaml_document_t *doc, const char *const *path, const char *want)
{
  const char *b64 = yaml_lookup(doc, path);
  CHECK(b64 != NULL);
  if (b64 == NULL)
    return;
  char *decoded = base64_decode_text(b64);
  CHECK_STR(decoded, want);
  secure_free_secret(decoded);
}

TEST(kubeconfig_parses_and_embeds_credentials)
{
  char *dir = make_temp_dir();
  struct pki p;
  struct pki_config cfg = {.data_dir = dir};
  k8c_err err = {0};
  CHECK_INT(pki_ensure(&cfg, &p, &err), 0);
  char *path = xasprintf("%s/etc/k8c/k8c.yaml", dir);
  CHECK_INT(kubeconfig_write(path, 0, "https://127.0.0.1:6443", p.server_ca_cert_pem,
                             p.admin_cert_pem, p.admin_key_pem, &err),
            0);
  struct stat st;
  CHECK_INT(stat(path, &st), 0);
  CHECK_INT(st.st_mode & 07777, 0600);

  yaml_document_t doc;
  CHECK(load_yaml(path, &doc));
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"apiVersion", NULL}), "v1");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"kind", NULL}), "Config");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"current-context", NULL}), "default");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"clusters", "#0", "name", NULL}), "default");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"clusters", "#0", "cluster", "server", NULL}),
            "https://127.0.0.1:6443");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"contexts", "#0", "context", "user", NULL}),
            "default");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"contexts", "#0", "context", "cluster", NULL}),
            "default");
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"users", "#0", "name", NULL}), "default");
  check_field_decodes_to(
      &doc, (const char *[]){"clusters", "#0", "cluster", "certificate-authority-data", NULL},
      p.server_ca_cert_pem);
  check_field_decodes_to(&doc,
                         (const char *[]){"users", "#0", "user", "client-certificate-data", NULL},
                         p.admin_cert_pem);
  check_field_decodes_to(&doc, (const char *[]){"users", "#0", "user", "client-key-data", NULL},
                         p.admin_key_pem);
  yaml_document_delete(&doc);

  if (access(KUBECTL, X_OK) == 0) {
    char *cmd = xasprintf(KUBECTL " config view --kubeconfig '%s' --raw "
                                  "-o jsonpath='{.users[0].user.client-certificate-data}'",
                          path);
    FILE *out = popen(cmd, "r");
    CHECK(out != NULL);
    char got[8192] = "";
    size_t n = out ? fread(got, 1, sizeof got - 1, out) : 0;
    got[n] = '\0';
    CHECK_INT(out ? pclose(out) : -1, 0);
    char *want = base64_encode_text(p.admin_cert_pem);
    CHECK_STR(got, want);
    free(want);
    free(cmd);
  } else {
    printf("note: %s not installed; skipping the kubectl cross-check\n", KUBECTL);
  }
  free(path);
  pki_free(&p);
  remove_tree(dir);
}

TEST(kubeconfig_mode_and_atomic_replace)
{
  char *dir = make_temp_dir();
  char *path = xasprintf("%s/kube.yaml", dir);
  k8c_err err = {0};
  CHECK_INT(kubeconfig_write(path, 0644, "https://a:1", "CA1", "CERT1", "KEY1", &err), 0);
  struct stat st;
  CHECK_INT(stat(path, &st), 0);
  CHECK_INT(st.st_mode & 07777, 0644);
  CHECK_INT(kubeconfig_write(path, 0640, "https://b:2", "CA2", "CERT2", "KEY2", &err), 0);
  CHECK_INT(stat(path, &st), 0);
  CHECK_INT(st.st_mode & 07777, 0640);
  yaml_document_t doc;
  CHECK(load_yaml(path, &doc));
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"clusters", "#0", "cluster", "server", NULL}),
            "https://b:2");
  check_field_decodes_to(&doc, (const char *[]){"users", "#0", "user", "client-key-data", NULL},
                         "KEY2");
  yaml_document_delete(&doc);
  /* Only the file itself is left: no temporary files. */
  DIR *d = opendir(dir);
  int entries = 0;
  for (struct dirent *e; d && (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.')
      entries++;
  if (d)
    closedir(d);
  CHECK_INT(entries, 1);
  free(path);
  remove_tree(dir);
}

TEST(kubeconfig_server_url_cannot_break_the_yaml)
{
  char *dir = make_temp_dir();
  char *path = xasprintf("%s/kube.yaml", dir);
  k8c_err err = {0};
  const char *url = "https://x\"\\\n  evil: yes:6443";
  CHECK_INT(kubeconfig_write(path, 0, url, "CA", "CERT", "KEY", &err), 0);
  yaml_document_t doc;
  CHECK(load_yaml(path, &doc));
  CHECK_STR(yaml_lookup(&doc, (const char *[]){"clusters", "#0", "cluster", "server", NULL}), url);
  CHECK(yaml_lookup(&doc, (const char *[]){"clusters", "#0", "cluster", "evil", NULL}) == NULL);
  yaml_document_delete(&doc);
  CHECK_INT(kubeconfig_write("", 0, url, "CA", "CERT", "KEY", &err), -1);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  free(path);
  remove_tree(dir);
}

/* ---- kubectl against a TLS endpoint using these credentials ---- */

struct tiny_server {
  int listen_fd;
  const struct pki *pki;
  struct pki_identity identity; /* what the last request authenticated as */
  int verify_rc;
  int requests;
};

/* Serves up to a few HTTPS requests on listen_fd, answering "ok" to each, and records
 * the client identity pki_verifier_check found. Bounded by poll timeouts. */
static void *
run_tiny_server(void *arg)
{
  struct tiny_server *s = arg;
  const struct pki *p = s->pki;
  gnutls_certificate_credentials_t cred;
  gnutls_certificate_allocate_credentials(&cred);
  gnutls_datum_t crt = {(unsigned char *)p->serving_cert_pem,
                        (unsigned)strlen(p->serving_cert_pem)};
  gnutls_datum_t key = {(unsigned char *)p->serving_key_pem, (unsigned)strlen(p->serving_key_pem)};
  gnutls_datum_t trust = {(unsigned char *)p->client_ca_cert_pem,
                          (unsigned)strlen(p->client_ca_cert_pem)};
  gnutls_certificate_set_x509_key_mem(cred, &crt, &key, GNUTLS_X509_FMT_PEM);
  gnutls_certificate_set_x509_trust_mem(cred, &trust, GNUTLS_X509_FMT_PEM);
  k8c_err err = {0};
  struct pki_verifier *v = pki_verifier_new(p->client_ca_cert_pem, &err);
  s->verify_rc = -2;
  for (int i = 0; i < 4 && v; i++) {
    struct pollfd pfd = {.fd = s->listen_fd, .events = POLLIN};
    if (poll(&pfd, 1, 15000) <= 0)
      break;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
      break;
    gnutls_session_t session;
    gnutls_init(&session, GNUTLS_SERVER);
    gnutls_set_default_priority(session);
    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(session, fd);
    gnutls_handshake_set_timeout(session, 10000);
    int rc;
    do {
      rc = gnutls_handshake(session);
    } while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc == 0) {
      s->verify_rc = pki_verifier_check(v, session, &s->identity, &err);
      k8c_err_clear(&err);
      char req[4096];
      size_t have = 0;
      while (have < sizeof req - 1 && !memmem(req, have, "\r\n\r\n", 4)) {
        ssize_t n = gnutls_record_recv(session, req + have, sizeof req - 1 - have);
        if (n <= 0)
          break;
        have += (size_t)n;
      }
      static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: 2\r\nConnection: close\r\n\r\nok";
      gnutls_record_send(session, reply, sizeof reply - 1);
      gnutls_bye(session, GNUTLS_SHUT_WR);
      s->requests++;
    }
    gnutls_deinit(session);
    close(fd);
    if (s->requests > 0)
      break;
  }
  pki_verifier_free(v);
  gnutls_certificate_free_credentials(cred);
  return NULL;
}

TEST(kubectl_trusts_the_serving_cert_and_presents_the_admin_cert)
{
  if (access(KUBECTL, X_OK) != 0) {
    printf("note: %s not installed; skipping the TLS check with kubectl\n", KUBECTL);
    return;
  }
  char *dir = make_temp_dir();
  struct pki p;
  struct pki_config cfg = {.data_dir = dir};
  k8c_err err = {0};
  CHECK_INT(pki_ensure(&cfg, &p, &err), 0);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  CHECK_INT(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
  CHECK_INT(listen(lfd, 4), 0);
  CHECK_INT(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
  char *url = xasprintf("https://127.0.0.1:%d", ntohs(addr.sin_port));
  char *path = xasprintf("%s/kube.yaml", dir);
  CHECK_INT(
      kubeconfig_write(path, 0, url, p.server_ca_cert_pem, p.admin_cert_pem, p.admin_key_pem, &err),
      0);

  struct tiny_server server = {.listen_fd = lfd, .pki = &p};
  pthread_t thread;
  pthread_create(&thread, NULL, run_tiny_server, &server);
  char *cmd = xasprintf("timeout 30 " KUBECTL " --kubeconfig '%s' get --raw /healthz 2>&1", path);
  FILE *out = popen(cmd, "r");
  char got[4096] = "";
  size_t n = out ? fread(got, 1, sizeof got - 1, out) : 0;
  got[n] = '\0';
  int status = out ? pclose(out) : -1;
  pthread_join(thread, NULL);
  if (status != 0)
    printf("kubectl said: %s\n", got);
  CHECK_INT(status, 0);
  CHECK_STR(got, "ok");
  CHECK_INT(server.verify_rc, 0);
  CHECK(server.identity.authenticated);
  CHECK_STR(server.identity.user, "system:admin");
  CHECK_STR(server.identity.groups[0], "system:masters");
  close(lfd);
  free(cmd);
  free(url);
  free(path);
  pki_free(&p);
  remove_tree(dir);
}

TEST_MAIN()
