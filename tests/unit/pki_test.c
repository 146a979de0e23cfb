/* pki_test.c — the certificate bootstrap on real temp dirs (files, modes, reuse,
 * renewal), the certificates' contents parsed back with GnuTLS, issuing client
 * certificates, and client-certificate authentication over a real TLS handshake. */
#include <ftw.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apiserver/pki.h"
#include "apiserver/pki_cert.h"
#include "apiserver/secure_file.h"
#include "lib/mem.h"
#include "testlib.h"

/* ---- fixtures ---- */

static char *
make_temp_dir(void)
{
  char *dir = xstrdup("/tmp/k8c-pki-test-XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  return dir;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static void
remove_tree(char *dir)
{
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

static int
file_mode(const char *dir, const char *rel)
{
  char *path = xasprintf("%s/%s", dir, rel);
  struct stat st;
  int mode = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
  free(path);
  return mode;
}

static char *
read_text(const char *dir, const char *rel)
{
  char *path = xasprintf("%s/%s", dir, rel);
  char *text = NULL;
  k8c_err err = {0};
  if (secure_read_file(path, &text, NULL, &err) <= 0)
    text = NULL;
  k8c_err_clear(&err);
  free(path);
  return text;
}

static gnutls_x509_crt_t
parse_cert(const char *pem)
{
  gnutls_x509_crt_t crt;
  gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
  if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
    abort();
  return crt;
}

static bool
verifies_against(const char *leaf_pem, const char *ca_pem)
{
  gnutls_x509_crt_t leaf = parse_cert(leaf_pem), ca = parse_cert(ca_pem);
  unsigned status = 1;
  int rc = gnutls_x509_crt_verify(leaf, &ca, 1, 0, &status);
  gnutls_x509_crt_deinit(leaf);
  gnutls_x509_crt_deinit(ca);
  return rc >= 0 && status == 0;
}

static void
dn_value(const char *pem, const char *oid, unsigned idx, char *out, size_t cap)
{
  gnutls_x509_crt_t crt = parse_cert(pem);
  size_t size = cap;
  if (gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, out, &size) < 0)
    out[0] = '\0';
  gnutls_x509_crt_deinit(crt);
}

static int
ensure(const char *dir, const char *const *ips, const char *const *dns, struct pki *p)
{
  struct pki_config cfg = {.data_dir = dir, .san_ips = ips, .san_dns = dns};
  k8c_err err = {0};
  int rc = pki_ensure(&cfg, p, &err);
  if (rc < 0)
    fprintf(stderr, "pki_ensure: %s\n", err.message);
  k8c_err_clear(&err);
  return rc;
}

/* ---- bootstrap ---- */

TEST(fresh_dir_gets_all_files_with_safe_modes)
{
  char *dir = make_temp_dir();
  struct pki p;
  CHECK_INT(ensure(dir, NULL, NULL, &p), 0);
  CHECK_INT(file_mode(dir, "server"), 0700);
  CHECK_INT(file_mode(dir, "server/tls"), 0700);
  static const char *const names[] = {"server-ca", "client-ca", "serving-kube-apiserver",
                                      "client-admin"};
  for (size_t i = 0; i < 4; i++) {
    char *key = xasprintf("server/tls/%s.key", names[i]);
    char *crt = xasprintf("server/tls/%s.crt", names[i]);
    CHECK_INT(file_mode(dir, key), 0600);
    CHECK(file_mode(dir, crt) >= 0);
    CHECK((file_mode(dir, crt) & 022) == 0);
    free(key);
    free(crt);
  }
  char *ca_file = read_text(dir, "server/tls/server-ca.crt");
  CHECK_STR(ca_file, p.server_ca_cert_pem);
  char *key_file = read_text(dir, "server/tls/client-admin.key");
  CHECK_STR(key_file, p.admin_key_pem);
  CHECK(strstr(p.admin_key_pem, "PRIVATE KEY") != NULL);
  char cn[256];
  dn_value(p.server_ca_cert_pem, GNUTLS_OID_X520_COMMON_NAME, 0, cn, sizeof cn);
  CHECK(strncmp(cn, "k8c-server-ca@", 14) == 0);
  CHECK(atoll(cn + 14) > 1600000000);
  dn_value(p.client_ca_cert_pem, GNUTLS_OID_X520_COMMON_NAME, 0, cn, sizeof cn);
  CHECK(strncmp(cn, "k8c-client-ca@", 14) == 0);
  free(ca_file);
  secure_free_secret(key_file);
  pki_free(&p);
  CHECK(p.server_ca_cert_pem == NULL);
  remove_tree(dir);
}

TEST(second_start_loads_the_same_files)
{
  char *dir = make_temp_dir();
  struct pki a, b;
  CHECK_INT(ensure(dir, NULL, NULL, &a), 0);
  CHECK_INT(ensure(dir, NULL, NULL, &b), 0);
  CHECK_STR(b.server_ca_cert_pem, a.server_ca_cert_pem);
  CHECK_STR(b.server_ca_key_pem, a.server_ca_key_pem);
  CHECK_STR(b.client_ca_cert_pem, a.client_ca_cert_pem);
  CHECK_STR(b.serving_cert_pem, a.serving_cert_pem);
  CHECK_STR(b.serving_key_pem, a.serving_key_pem);
  CHECK_STR(b.admin_cert_pem, a.admin_cert_pem);
  CHECK(strcmp(a.server_ca_cert_pem, a.client_ca_cert_pem) != 0);
  pki_free(&a);
  pki_free(&b);
  remove_tree(dir);
}

static bool
has_ip_san(gnutls_x509_crt_t crt, const unsigned char *ip, size_t len)
{
  for (unsigned seq = 0;; seq++) {
    unsigned char got[64];
    size_t size = sizeof got;
    int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, got, &size, NULL);
    if (type < 0)
      return false;
    if (type == GNUTLS_SAN_IPADDRESS && size == len && memcmp(got, ip, len) == 0)
      return true;
  }
}

static bool
has_dns_san(gnutls_x509_crt_t crt, const char *name)
{
  for (unsigned seq = 0;; seq++) {
    char got[256];
    size_t size = sizeof got;
    int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, got, &size, NULL);
    if (type < 0)
      return false;
    if (type == GNUTLS_SAN_DNSNAME && strcmp(got, name) == 0)
      return true;
  }
}

TEST(serving_cert_carries_sans_and_server_usage)
{
  char *dir = make_temp_dir();
  const char *ips[] = {"10.43.0.1", "192.168.5.10", "fd00::5", NULL};
  const char *dns[] = {"node1.example", NULL};
  struct pki p;
  CHECK_INT(ensure(dir, ips, dns, &p), 0);
  gnutls_x509_crt_t crt = parse_cert(p.serving_cert_pem);
  static const char *const want_dns[] = {"localhost",
                                         "kubernetes",
                                         "kubernetes.default",
                                         "kubernetes.default.svc",
                                         "kubernetes.default.svc.cluster.local",
                                         "node1.example"};
  for (size_t i = 0; i < 6; i++) {
    if (!has_dns_san(crt, want_dns[i]))
      testlib_fail(__FILE__, __LINE__, "missing DNS SAN %s", want_dns[i]);
  }
  static const unsigned char lo4[] = {127, 0, 0, 1}, svc[] = {10, 43, 0, 1},
                             node[] = {192, 168, 5, 10};
  static const unsigned char lo6[16] = {[15] = 1};
  static const unsigned char fd00[16] = {0xfd, 0x00, [15] = 5};
  CHECK(has_ip_san(crt, lo4, 4));
  CHECK(has_ip_san(crt, lo6, 16));
  CHECK(has_ip_san(crt, svc, 4));
  CHECK(has_ip_san(crt, node, 4));
  CHECK(has_ip_san(crt, fd00, 16));
  CHECK(gnutls_x509_crt_check_hostname(crt, "kubernetes.default.svc") != 0);
  CHECK(gnutls_x509_crt_check_hostname(crt, "10.43.0.1") != 0);
  CHECK(gnutls_x509_crt_check_hostname(crt, "evil.example") == 0);

  char oid[128];
  size_t size = sizeof oid;
  CHECK_INT(gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &size, NULL), 0);
  CHECK_STR(oid, GNUTLS_KP_TLS_WWW_SERVER);
  unsigned critical = 0;
  CHECK_INT(gnutls_x509_crt_get_basic_constraints(crt, &critical, NULL, NULL), 0);
  CHECK_INT(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);
  unsigned bits = 0;
  CHECK_INT(gnutls_x509_crt_get_pk_algorithm(crt, &bits), GNUTLS_PK_ECDSA);
  unsigned char id[64];
  size = sizeof id;
  CHECK_INT(gnutls_x509_crt_get_subject_key_id(crt, id, &size, NULL), 0);
  size = sizeof id;
  CHECK_INT(gnutls_x509_crt_get_authority_key_id(crt, id, &size, NULL), 0);
  time_t left = gnutls_x509_crt_get_expiration_time(crt) - time(NULL);
  CHECK(left > 364L * 86400 && left <= 366L * 86400);
  CHECK(verifies_against(p.serving_cert_pem, p.server_ca_cert_pem));
  CHECK(!verifies_against(p.serving_cert_pem, p.client_ca_cert_pem));
  gnutls_x509_crt_deinit(crt);

  gnutls_x509_crt_t ca = parse_cert(p.server_ca_cert_pem);
  CHECK_INT(gnutls_x509_crt_get_basic_constraints(ca, &critical, NULL, NULL), 1);
  CHECK(critical != 0);
  unsigned usage = 0;
  CHECK(gnutls_x509_crt_get_key_usage(ca, &usage, NULL) >= 0);
  CHECK((usage & GNUTLS_KEY_KEY_CERT_SIGN) != 0);
  left = gnutls_x509_crt_get_expiration_time(ca) - time(NULL);
  CHECK(left > 3649L * 86400 && left <= 3651L * 86400);
  gnutls_x509_crt_deinit(ca);
  pki_free(&p);
  remove_tree(dir);
}

TEST(admin_cert_verifies_against_client_ca_with_identity)
{
  char *dir = make_temp_dir();
  struct pki p;
  CHECK_INT(ensure(dir, NULL, NULL, &p), 0);
  CHECK(verifies_against(p.admin_cert_pem, p.client_ca_cert_pem));
  CHECK(!verifies_against(p.admin_cert_pem, p.server_ca_cert_pem));
  char value[256];
  dn_value(p.admin_cert_pem, GNUTLS_OID_X520_COMMON_NAME, 0, value, sizeof value);
  CHECK_STR(value, "system:admin");
  dn_value(p.admin_cert_pem, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, value, sizeof value);
  CHECK_STR(value, "system:masters");
  gnutls_x509_crt_t crt = parse_cert(p.admin_cert_pem);
  char oid[128];
  size_t size = sizeof oid;
  CHECK_INT(gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &size, NULL), 0);
  CHECK_STR(oid, GNUTLS_KP_TLS_WWW_CLIENT);
  gnutls_x509_crt_deinit(crt);
  pki_free(&p);
  remove_tree(dir);
}

TEST(cert_from_another_ca_does_not_verify)
{
  char *dir_a = make_temp_dir(), *dir_b = make_temp_dir();
  struct pki a, b;
  CHECK_INT(ensure(dir_a, NULL, NULL, &a), 0);
  CHECK_INT(ensure(dir_b, NULL, NULL, &b), 0);
  CHECK(strcmp(a.client_ca_cert_pem, b.client_ca_cert_pem) != 0);
  CHECK(!verifies_against(b.admin_cert_pem, a.client_ca_cert_pem));
  CHECK(!verifies_against(b.serving_cert_pem, a.server_ca_cert_pem));
  pki_free(&a);
  pki_free(&b);
  remove_tree(dir_a);
  remove_tree(dir_b);
}

TEST(new_san_reissues_serving_cert_and_keeps_cas)
{
  char *dir = make_temp_dir();
  struct pki a, b;
  CHECK_INT(ensure(dir, NULL, NULL, &a), 0);
  const char *ips[] = {"10.0.0.7", NULL};
  const char *dns[] = {"api.k8c.test", NULL};
  CHECK_INT(ensure(dir, ips, dns, &b), 0);
  CHECK_STR(b.server_ca_cert_pem, a.server_ca_cert_pem);
  CHECK_STR(b.client_ca_cert_pem, a.client_ca_cert_pem);
  CHECK_STR(b.admin_cert_pem, a.admin_cert_pem);
  CHECK(strcmp(b.serving_cert_pem, a.serving_cert_pem) != 0);
  CHECK(verifies_against(b.serving_cert_pem, a.server_ca_cert_pem));
  gnutls_x509_crt_t crt = parse_cert(b.serving_cert_pem);
  CHECK(gnutls_x509_crt_check_hostname(crt, "10.0.0.7") != 0);
  CHECK(gnutls_x509_crt_check_hostname(crt, "api.k8c.test") != 0);
  gnutls_x509_crt_deinit(crt);
  char *on_disk = read_text(dir, "server/tls/serving-kube-apiserver.crt");
  CHECK_STR(on_disk, b.serving_cert_pem);
  free(on_disk);
  pki_free(&a);
  pki_free(&b);
  remove_tree(dir);
}

/* Replaces DATA_DIR/server/tls/serving-kube-apiserver.* with a certificate issued by
 * issuer that expires in days_left days. */
static void
plant_serving_cert(const char *dir, const char *issuer_cert, const char *issuer_key, int days_left)
{
  struct pki_keypair issuer = {0}, leaf = {0};
  k8c_err err = {0};
  if (pki_keypair_load(issuer_cert, issuer_key, &issuer, &err) < 0)
    abort();
  static const char *const dns[] = {"localhost",
                                    "kubernetes",
                                    "kubernetes.default",
                                    "kubernetes.default.svc",
                                    "kubernetes.default.svc.cluster.local",
                                    NULL};
  static const char *const ips[] = {"127.0.0.1", "::1", NULL};
  time_t now = time(NULL);
  struct pki_cert_spec spec = {.cn = "kube-apiserver",
                               .usage = PKI_USAGE_SERVER,
                               .san_dns = dns,
                               .san_ips = ips,
                               .not_before = now - 60,
                               .not_after = now + (time_t)days_left * 86400};
  char *cert = NULL, *key = NULL;
  if (pki_cert_create(&spec, &issuer, &leaf, &err) < 0 ||
      pki_keypair_export(&leaf, &cert, &key, &err) < 0)
    abort();
  char *crt_path = xasprintf("%s/server/tls/serving-kube-apiserver.crt", dir);
  char *key_path = xasprintf("%s/server/tls/serving-kube-apiserver.key", dir);
  if (secure_write_file(key_path, key, strlen(key), 0600, &err) < 0 ||
      secure_write_file(crt_path, cert, strlen(cert), 0644, &err) < 0)
    abort();
  free(crt_path);
  free(key_path);
  free(cert);
  secure_free_secret(key);
  pki_keypair_clear(&issuer);
  pki_keypair_clear(&leaf);
}

TEST(serving_cert_near_expiry_or_from_foreign_ca_is_reissued)
{
  char *dir = make_temp_dir();
  struct pki a, b, c, d;
  CHECK_INT(ensure(dir, NULL, NULL, &a), 0);

  plant_serving_cert(dir, a.server_ca_cert_pem, a.server_ca_key_pem, 200);
  CHECK_INT(ensure(dir, NULL, NULL, &b), 0); /* 200 days left: kept */
  char *planted = read_text(dir, "server/tls/serving-kube-apiserver.crt");
  CHECK_STR(b.serving_cert_pem, planted);
  free(planted);

  plant_serving_cert(dir, a.server_ca_cert_pem, a.server_ca_key_pem, 30);
  planted = read_text(dir, "server/tls/serving-kube-apiserver.crt");
  CHECK_INT(ensure(dir, NULL, NULL, &c), 0); /* 30 days left: renewed */
  CHECK(strcmp(c.serving_cert_pem, planted) != 0);
  gnutls_x509_crt_t crt = parse_cert(c.serving_cert_pem);
  CHECK(gnutls_x509_crt_get_expiration_time(crt) - time(NULL) > 300L * 86400);
  gnutls_x509_crt_deinit(crt);
  CHECK_STR(c.server_ca_cert_pem, a.server_ca_cert_pem);
  free(planted);

  /* Signed by the client CA instead of the server CA: renewed. */
  plant_serving_cert(dir, a.client_ca_cert_pem, a.client_ca_key_pem, 200);
  CHECK_INT(ensure(dir, NULL, NULL, &d), 0);
  CHECK(verifies_against(d.serving_cert_pem, a.server_ca_cert_pem));
  pki_free(&a);
  pki_free(&b);
  pki_free(&c);
  pki_free(&d);
  remove_tree(dir);
}

TEST(damaged_ca_is_an_error_not_a_silent_replacement)
{
  char *dir = make_temp_dir();
  struct pki a;
  CHECK_INT(ensure(dir, NULL, NULL, &a), 0);
  /* Put the server CA's key beside the client CA certificate. */
  char *path = xasprintf("%s/server/tls/client-ca.key", dir);
  k8c_err err = {0};
  CHECK_INT(secure_write_file(path, a.server_ca_key_pem, strlen(a.server_ca_key_pem), 0600, &err),
            0);
  struct pki_config cfg = {.data_dir = dir};
  struct pki b;
  CHECK_INT(pki_ensure(&cfg, &b, &err), -1);
  CHECK_INT(err.status, 500);
  CHECK(strstr(err.message, "client-ca") != NULL);
  CHECK(strstr(err.message, "PRIVATE") == NULL);
  k8c_err_clear(&err);
  char *still = read_text(dir, "server/tls/client-ca.crt");
  CHECK_STR(still, a.client_ca_cert_pem);
  free(still);
  free(path);
  pki_free(&a);
  remove_tree(dir);
}

TEST(invalid_san_ip_is_rejected)
{
  char *dir = make_temp_dir();
  const char *ips[] = {"10.0.0.300", NULL};
  struct pki_config cfg = {.data_dir = dir, .san_ips = ips};
  struct pki p;
  k8c_err err = {0};
  CHECK_INT(pki_ensure(&cfg, &p, &err), -1);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  remove_tree(dir);
}

TEST(issued_client_cert_carries_cn_and_orgs)
{
  char *dir = make_temp_dir();
  struct pki p;
  CHECK_INT(ensure(dir, NULL, NULL, &p), 0);
  const char *orgs[] = {"system:nodes", "k8c:agents", NULL};
  char *cert = NULL, *key = NULL;
  k8c_err err = {0};
  CHECK_INT(pki_issue_client_cert(&p, "system:node:n1", orgs, &cert, &key, &err), 0);
  CHECK(verifies_against(cert, p.client_ca_cert_pem));
  char value[256];
  dn_value(cert, GNUTLS_OID_X520_COMMON_NAME, 0, value, sizeof value);
  CHECK_STR(value, "system:node:n1");
  dn_value(cert, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, value, sizeof value);
  CHECK_STR(value, "system:nodes");
  dn_value(cert, GNUTLS_OID_X520_ORGANIZATION_NAME, 1, value, sizeof value);
  CHECK_STR(value, "k8c:agents");
  struct pki_keypair kp = {0};
  CHECK_INT(pki_keypair_load(cert, key, &kp, &err), 0);
  pki_keypair_clear(&kp);
  free(cert);
  secure_free_secret(key);
  CHECK_INT(pki_issue_client_cert(&p, "", NULL, &cert, &key, &err), -1);
  CHECK_INT(err.status, 400);
  CHECK(cert == NULL && key == NULL);
  k8c_err_clear(&err);
  pki_free(&p);
  remove_tree(dir);
}

/* ---- client certificate authentication over a real handshake ---- */

struct tls_client {
  int fd;
  const char *server_ca_pem;
  const char *cert_pem; /* NULL: present no certificate */
  const char *key_pem;
  int handshake_rc;
  gnutls_pcert_st pcert;
  gnutls_privkey_t key;
};

/* Always offers the configured certificate, whatever CAs the server asked for, so the
 * server side sees exactly what the test chose (GnuTLS would otherwise hold back a
 * certificate that does not match the server's request). */
static int
offer_configured_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int n_req,
                      const gnutls_pk_algorithm_t *algos, int n_algos, gnutls_pcert_st **pcert,
                      unsigned *pcert_length, gnutls_privkey_t *key)
{
  struct tls_client *c = gnutls_session_get_ptr(session);
  *pcert = &c->pcert;
  *pcert_length = 1;
  *key = c->key;
  return 0;
}

static void *
run_tls_client(void *arg)
{
  struct tls_client *c = arg;
  gnutls_certificate_credentials_t cred;
  gnutls_session_t session;
  gnutls_certificate_allocate_credentials(&cred);
  gnutls_datum_t ca = {(unsigned char *)c->server_ca_pem, (unsigned)strlen(c->server_ca_pem)};
  gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
  if (c->cert_pem) {
    gnutls_datum_t crt = {(unsigned char *)c->cert_pem, (unsigned)strlen(c->cert_pem)};
    gnutls_datum_t key = {(unsigned char *)c->key_pem, (unsigned)strlen(c->key_pem)};
    if (gnutls_pcert_import_x509_raw(&c->pcert, &crt, GNUTLS_X509_FMT_PEM, 0) < 0 ||
        gnutls_privkey_init(&c->key) < 0 ||
        gnutls_privkey_import_x509_raw(c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
      abort();
    gnutls_certificate_set_retrieve_function2(cred, offer_configured_cert);
  }
  gnutls_init(&session, GNUTLS_CLIENT);
  gnutls_session_set_ptr(session, c);
  gnutls_set_default_priority(session);
  gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
  gnutls_server_name_set(session, GNUTLS_NAME_DNS, "kubernetes", strlen("kubernetes"));
  gnutls_session_set_verify_cert(session, "kubernetes", 0);
  gnutls_transport_set_int(session, c->fd);
  do {
    c->handshake_rc = gnutls_handshake(session);
  } while (c->handshake_rc < 0 && !gnutls_error_is_fatal(c->handshake_rc));
  if (c->handshake_rc == 0)
    gnutls_bye(session, GNUTLS_SHUT_WR);
  gnutls_deinit(session);
  gnutls_certificate_free_credentials(cred);
  if (c->cert_pem) {
    gnutls_pcert_deinit(&c->pcert);
    gnutls_privkey_deinit(c->key);
  }
  return NULL;
}

/* Runs one handshake: the server side uses p's serving cert and asks for a client
 * certificate (as libmicrohttpd does with a trust store); then pki_verifier_check. */
static int
handshake_and_check(const struct pki *p, const char *cert_pem, const char *key_pem,
                    struct pki_identity *id, k8c_err *err)
{
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
    abort();
  struct tls_client client = {.fd = fds[1],
                              .server_ca_pem = p->server_ca_cert_pem,
                              .cert_pem = cert_pem,
                              .key_pem = key_pem};
  pthread_t thread;
  pthread_create(&thread, NULL, run_tls_client, &client);

  gnutls_certificate_credentials_t cred;
  gnutls_session_t session;
  gnutls_certificate_allocate_credentials(&cred);
  gnutls_datum_t crt = {(unsigned char *)p->serving_cert_pem,
                        (unsigned)strlen(p->serving_cert_pem)};
  gnutls_datum_t key = {(unsigned char *)p->serving_key_pem, (unsigned)strlen(p->serving_key_pem)};
  CHECK_INT(gnutls_certificate_set_x509_key_mem(cred, &crt, &key, GNUTLS_X509_FMT_PEM), 0);
  gnutls_datum_t trust = {(unsigned char *)p->client_ca_cert_pem,
                          (unsigned)strlen(p->client_ca_cert_pem)};
  CHECK_INT(gnutls_certificate_set_x509_trust_mem(cred, &trust, GNUTLS_X509_FMT_PEM), 1);
  gnutls_init(&session, GNUTLS_SERVER);
  gnutls_set_default_priority(session);
  gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
  gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
  gnutls_transport_set_int(session, fds[0]);
  int rc;
  do {
    rc = gnutls_handshake(session);
  } while (rc < 0 && !gnutls_error_is_fatal(rc));
  CHECK_INT(rc, 0);

  struct pki_verifier *v = pki_verifier_new(p->client_ca_cert_pem, err);
  CHECK(v != NULL);
  int result = v ? pki_verifier_check(v, session, id, err) : -1;
  pki_verifier_free(v);

  char drain[64];
  while (gnutls_record_recv(session, drain, sizeof drain) > 0) {
  }
  pthread_join(thread, NULL);
  CHECK_INT(client.handshake_rc, 0);
  gnutls_deinit(session);
  gnutls_certificate_free_credentials(cred);
  close(fds[0]);
  close(fds[1]);
  return result;
}

TEST(verifier_accepts_admin_cert_over_tls)
{
  char *dir = make_temp_dir();
  struct pki p;
  CHECK_INT(ensure(dir, NULL, NULL, &p), 0);
  struct pki_identity id;
  k8c_err err = {0};
  CHECK_INT(handshake_and_check(&p, p.admin_cert_pem, p.admin_key_pem, &id, &err), 0);
  CHECK(id.authenticated);
  CHECK_STR(id.user, "system:admin");
  CHECK_INT(id.n_groups, 1);
  CHECK_STR(id.groups[0], "system:masters");

  const char *orgs[] = {"system:nodes", "g2", NULL};
  char *cert = NULL, *key = NULL;
  CHECK_INT(pki_issue_client_cert(&p, "system:node:n1", orgs, &cert, &key, &err), 0);
  CHECK_INT(handshake_and_check(&p, cert, key, &id, &err), 0);
  CHECK(id.authenticated);
  CHECK_STR(id.user, "system:node:n1");
  CHECK_INT(id.n_groups, 2);
  CHECK_STR(id.groups[1], "g2");
  free(cert);
  secure_free_secret(key);
  pki_free(&p);
  remove_tree(dir);
}

TEST(verifier_reports_no_cert_as_unauthenticated)
{
  char *dir = make_temp_dir();
  struct pki p;
  CHECK_INT(ensure(dir, NULL, NULL, &p), 0);
  struct pki_identity id;
  k8c_err err = {0};
  CHECK_INT(handshake_and_check(&p, NULL, NULL, &id, &err), 0);
  CHECK(!id.authenticated);
  CHECK_INT(err.status, 0);
  pki_free(&p);
  remove_tree(dir);
}

TEST(verifier_rejects_cert_from_another_ca_with_401)
{
  char *dir_a = make_temp_dir(), *dir_b = make_temp_dir();
  struct pki a, b;
  CHECK_INT(ensure(dir_a, NULL, NULL, &a), 0);
  CHECK_INT(ensure(dir_b, NULL, NULL, &b), 0);
  struct pki_identity id;
  k8c_err err = {0};
  CHECK_INT(handshake_and_check(&a, b.admin_cert_pem, b.admin_key_pem, &id, &err), -1);
  CHECK_INT(err.status, 401);
  CHECK_STR(err.reason, "Unauthorized");
  CHECK(strstr(err.message, "signer") != NULL || strstr(err.message, "issuer") != NULL);
  CHECK(!id.authenticated);
  k8c_err_clear(&err);
  /* A certificate from the right CA but for serving (no clientAuth) is refused too. */
  CHECK_INT(handshake_and_check(&a, a.serving_cert_pem, a.serving_key_pem, &id, &err), -1);
  CHECK_INT(err.status, 401);
  CHECK(strstr(err.message, "purpose") != NULL);
  k8c_err_clear(&err);
  pki_free(&a);
  pki_free(&b);
  remove_tree(dir_a);
  remove_tree(dir_b);
}

TEST(verifier_rejects_garbage_ca)
{
  k8c_err err = {0};
  CHECK(pki_verifier_new("not a certificate", &err) == NULL);
  CHECK_INT(err.status, 500);
  k8c_err_clear(&err);
}

TEST_MAIN()
