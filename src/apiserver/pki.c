/* pki.c — which certificates k8c's server has and when they are made (k3s's bootstrap):
 * two CAs created once and kept forever, and leaf certificates (API serving, admin
 * client) re-issued whenever they no longer fit — missing SAN, near expiry, wrong CA.
 * Files are read back as text so a loaded CA is byte-for-byte what was written. */
#include "apiserver/pki.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "apiserver/pki_cert.h"
#include "apiserver/secure_file.h"
#include "lib/log.h"
#include "lib/mem.h"

#define DAY_SECONDS (24 * 60 * 60)
#define CLOCK_SKEW_SECONDS (5 * 60)

/* One certificate as files: parsed objects plus the exact PEM text. */
struct pki_entry {
  struct pki_keypair kp;
  char *cert_pem; /* owned */
  char *key_pem;  /* owned, secret */
};

/* The SANs the serving certificate must carry (pointers borrowed; arrays owned). */
struct san_set {
  const char **dns;
  const char **ips;
};

static const char *const default_san_dns[] = {"localhost",
                                              "kubernetes",
                                              "kubernetes.default",
                                              "kubernetes.default.svc",
                                              "kubernetes.default.svc.cluster.local",
                                              NULL};
static const char *const default_san_ips[] = {"127.0.0.1", "::1", NULL};
static const char *const admin_orgs[] = {"system:masters", NULL};
/* The API server's identity towards kubelets (kubeadm's apiserver-kubelet-client). */
static const char *const kubelet_client_orgs[] = {"system:masters", NULL};

static int ensure_ca(const char *tls_dir, const char *name, const char *cn_prefix,
                     struct pki_entry *out, k8c_err *err);
static int ensure_leaf(const char *tls_dir, const char *name, const struct pki_cert_spec *spec,
                       const struct pki_entry *ca, struct pki_entry *out, k8c_err *err);
static bool leaf_still_good(const struct pki_entry *leaf, const struct pki_cert_spec *spec,
                            const struct pki_entry *ca, time_t now, const char **why);
static int entry_read(const char *tls_dir, const char *name, struct pki_entry *out, k8c_err *err);
static int entry_create(const char *tls_dir, const char *name, const struct pki_cert_spec *spec,
                        const struct pki_entry *issuer, struct pki_entry *out, k8c_err *err);
static void entry_clear(struct pki_entry *e);
static int san_set_build(const struct pki_config *cfg, struct san_set *out, k8c_err *err);
static void san_set_free(struct san_set *s);

int
pki_ensure(const struct pki_config *cfg, struct pki *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  if (cfg->data_dir == NULL || cfg->data_dir[0] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "pki: data dir is required");
  struct san_set sans = {0};
  if (san_set_build(cfg, &sans, err) < 0)
    return -1;

  char *tls_dir = xasprintf("%s/server/tls", cfg->data_dir);
  struct pki_entry server_ca = {0}, client_ca = {0}, serving = {0}, admin = {0},
                   kubelet_client = {0};
  time_t now = time(NULL);
  struct pki_cert_spec serving_spec = {
      .cn = "kube-apiserver",
      .usage = PKI_USAGE_SERVER,
      .san_dns = sans.dns,
      .san_ips = sans.ips,
      .not_before = now - CLOCK_SKEW_SECONDS,
      .not_after = now + (time_t)PKI_LEAF_VALID_DAYS * DAY_SECONDS,
  };
  struct pki_cert_spec admin_spec = {
      .cn = "system:admin",
      .orgs = admin_orgs,
      .usage = PKI_USAGE_CLIENT,
      .not_before = now - CLOCK_SKEW_SECONDS,
      .not_after = now + (time_t)PKI_LEAF_VALID_DAYS * DAY_SECONDS,
  };
  struct pki_cert_spec kubelet_client_spec = admin_spec;
  kubelet_client_spec.cn = PKI_KUBELET_CLIENT_CN;
  kubelet_client_spec.orgs = kubelet_client_orgs;
  int rc = -1;
  if (secure_mkdir_p(tls_dir, 0700, err) < 0 ||
      ensure_ca(tls_dir, "server-ca", "k8c-server-ca", &server_ca, err) < 0 ||
      ensure_ca(tls_dir, "client-ca", "k8c-client-ca", &client_ca, err) < 0 ||
      ensure_leaf(tls_dir, "serving-kube-apiserver", &serving_spec, &server_ca, &serving, err) <
          0 ||
      ensure_leaf(tls_dir, "client-admin", &admin_spec, &client_ca, &admin, err) < 0 ||
      ensure_leaf(tls_dir, "client-kube-apiserver-kubelet", &kubelet_client_spec, &client_ca,
                  &kubelet_client, err) < 0) {
    k8c_err_prefix(err, "pki");
    goto done;
  }
  out->tls_dir = steal_ptr(tls_dir);
  out->server_ca_cert_pem = steal_ptr(server_ca.cert_pem);
  out->server_ca_key_pem = steal_ptr(server_ca.key_pem);
  out->client_ca_cert_pem = steal_ptr(client_ca.cert_pem);
  out->client_ca_key_pem = steal_ptr(client_ca.key_pem);
  out->serving_cert_pem = steal_ptr(serving.cert_pem);
  out->serving_key_pem = steal_ptr(serving.key_pem);
  out->admin_cert_pem = steal_ptr(admin.cert_pem);
  out->admin_key_pem = steal_ptr(admin.key_pem);
  out->kubelet_client_cert_pem = steal_ptr(kubelet_client.cert_pem);
  out->kubelet_client_key_pem = steal_ptr(kubelet_client.key_pem);
  rc = 0;
done:
  entry_clear(&server_ca);
  entry_clear(&client_ca);
  entry_clear(&serving);
  entry_clear(&admin);
  entry_clear(&kubelet_client);
  san_set_free(&sans);
  free(tls_dir);
  return rc;
}

void
pki_free(struct pki *p)
{
  if (p == NULL)
    return;
  free(p->tls_dir);
  free(p->server_ca_cert_pem);
  secure_free_secret(p->server_ca_key_pem);
  free(p->serving_cert_pem);
  secure_free_secret(p->serving_key_pem);
  free(p->client_ca_cert_pem);
  secure_free_secret(p->client_ca_key_pem);
  free(p->admin_cert_pem);
  secure_free_secret(p->admin_key_pem);
  free(p->kubelet_client_cert_pem);
  secure_free_secret(p->kubelet_client_key_pem);
  memset(p, 0, sizeof *p);
}

int
pki_issue_client_cert(const struct pki *p, const char *cn, const char *const *orgs, char **cert_pem,
                      char **key_pem, k8c_err *err)
{
  *cert_pem = NULL;
  *key_pem = NULL;
  if (cn == NULL || cn[0] == '\0')
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "client certificate needs a common name");
  if (p->client_ca_cert_pem == NULL || p->client_ca_key_pem == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "client CA is not loaded");
  struct pki_keypair ca = {0}, leaf = {0};
  if (pki_keypair_load(p->client_ca_cert_pem, p->client_ca_key_pem, &ca, err) < 0)
    return k8c_err_prefix(err, "loading client CA");
  time_t now = time(NULL);
  struct pki_cert_spec spec = {
      .cn = cn,
      .orgs = orgs,
      .usage = PKI_USAGE_CLIENT,
      .not_before = now - CLOCK_SKEW_SECONDS,
      .not_after = now + (time_t)PKI_LEAF_VALID_DAYS * DAY_SECONDS,
  };
  int rc = pki_cert_create(&spec, &ca, &leaf, err);
  if (rc == 0)
    rc = pki_keypair_export(&leaf, cert_pem, key_pem, err);
  pki_keypair_clear(&ca);
  pki_keypair_clear(&leaf);
  if (rc < 0)
    return k8c_err_prefix(err, "issuing client certificate for %s", cn);
  return 0;
}

int
pki_issue_serving_cert(const struct pki *p, const char *cn, const char *const *san_dns,
                       const char *const *san_ips, char **cert_pem, char **key_pem, k8c_err *err)
{
  *cert_pem = NULL;
  *key_pem = NULL;
  if (p->server_ca_cert_pem == NULL || p->server_ca_key_pem == NULL)
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "server CA is not loaded");
  struct pki_keypair ca = {0}, leaf = {0};
  if (pki_keypair_load(p->server_ca_cert_pem, p->server_ca_key_pem, &ca, err) < 0)
    return k8c_err_prefix(err, "loading server CA");
  time_t now = time(NULL);
  struct pki_cert_spec spec = {
      .cn = cn,
      .usage = PKI_USAGE_SERVER,
      .san_dns = san_dns,
      .san_ips = san_ips,
      .not_before = now - CLOCK_SKEW_SECONDS,
      .not_after = now + (time_t)PKI_LEAF_VALID_DAYS * DAY_SECONDS,
  };
  int rc = pki_cert_create(&spec, &ca, &leaf, err);
  if (rc == 0)
    rc = pki_keypair_export(&leaf, cert_pem, key_pem, err);
  pki_keypair_clear(&ca);
  pki_keypair_clear(&leaf);
  if (rc < 0)
    return k8c_err_prefix(err, "issuing serving certificate for %s", cn);
  return 0;
}

/* ---- CAs and leaves ---- */

static int
ensure_ca(const char *tls_dir, const char *name, const char *cn_prefix, struct pki_entry *out,
          k8c_err *err)
{
  int found = entry_read(tls_dir, name, out, err);
  if (found < 0)
    return k8c_err_prefix(err, "loading %s (refusing to replace an existing CA)", name);
  if (found > 0) {
    if (gnutls_x509_crt_get_expiration_time(out->kp.crt) < time(NULL))
      log_warn("pki: %s has expired; remove %s/%s.* to create a new CA", name, tls_dir, name);
    return 0;
  }
  time_t now = time(NULL);
  cleanup_free char *cn = xasprintf("%s@%lld", cn_prefix, (long long)now);
  struct pki_cert_spec spec = {
      .cn = cn,
      .usage = PKI_USAGE_CA,
      .not_before = now - CLOCK_SKEW_SECONDS,
      .not_after = now + (time_t)PKI_CA_VALID_DAYS * DAY_SECONDS,
  };
  if (entry_create(tls_dir, name, &spec, NULL, out, err) < 0)
    return k8c_err_prefix(err, "creating %s", name);
  log_info("pki: created %s/%s.crt (%s)", tls_dir, name, cn);
  return 0;
}

static int
ensure_leaf(const char *tls_dir, const char *name, const struct pki_cert_spec *spec,
            const struct pki_entry *ca, struct pki_entry *out, k8c_err *err)
{
  k8c_err read_err = {0};
  int found = entry_read(tls_dir, name, out, &read_err);
  const char *why = "it does not exist";
  if (found < 0) {
    log_warn("pki: re-issuing %s: %s", name, read_err.message);
    k8c_err_clear(&read_err);
    why = NULL;
  } else if (found > 0) {
    if (leaf_still_good(out, spec, ca, time(NULL), &why))
      return 0;
    entry_clear(out);
  }
  if (why != NULL)
    log_info("pki: issuing %s because %s", name, why);
  if (entry_create(tls_dir, name, spec, ca, out, err) < 0)
    return k8c_err_prefix(err, "issuing %s", name);
  return 0;
}

static bool
leaf_still_good(const struct pki_entry *leaf, const struct pki_cert_spec *spec,
                const struct pki_entry *ca, time_t now, const char **why)
{
  if (!pki_cert_signed_by(leaf->kp.crt, ca->kp.crt)) {
    *why = "it is not signed by the current CA (or is not valid now)";
    return false;
  }
  time_t expires = gnutls_x509_crt_get_expiration_time(leaf->kp.crt);
  if (expires == (time_t)-1 || expires - now < (time_t)PKI_RENEW_BEFORE_DAYS * DAY_SECONDS) {
    *why = "it expires within the renewal window";
    return false;
  }
  if (!pki_cert_has_sans(leaf->kp.crt, spec->san_dns, spec->san_ips)) {
    *why = "a required subject alternative name is missing";
    return false;
  }
  return true;
}

/* ---- files ---- */

/* 1: both files read and parsed; 0: the certificate file is absent (create anew);
 * -1: unreadable, unparsable, key missing or not matching. */
static int
entry_read(const char *tls_dir, const char *name, struct pki_entry *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  cleanup_free char *crt_path = xasprintf("%s/%s.crt", tls_dir, name);
  cleanup_free char *key_path = xasprintf("%s/%s.key", tls_dir, name);
  int have_crt = secure_read_file(crt_path, &out->cert_pem, NULL, err);
  if (have_crt <= 0)
    return have_crt;
  int have_key = secure_read_file(key_path, &out->key_pem, NULL, err);
  if (have_key <= 0) {
    entry_clear(out);
    if (have_key == 0)
      return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s exists but %s is missing", crt_path,
                       key_path);
    return -1;
  }
  if (pki_keypair_load(out->cert_pem, out->key_pem, &out->kp, err) < 0) {
    entry_clear(out);
    return k8c_err_prefix(err, "%s", crt_path);
  }
  return 1;
}

/* Writes the key first and the certificate last: a certificate file on disk always
 * has its key beside it, and a lone key (crash in between) is simply replaced. */
static int
entry_create(const char *tls_dir, const char *name, const struct pki_cert_spec *spec,
             const struct pki_entry *issuer, struct pki_entry *out, k8c_err *err)
{
  memset(out, 0, sizeof *out);
  if (pki_cert_create(spec, issuer ? &issuer->kp : NULL, &out->kp, err) < 0 ||
      pki_keypair_export(&out->kp, &out->cert_pem, &out->key_pem, err) < 0) {
    entry_clear(out);
    return -1;
  }
  cleanup_free char *crt_path = xasprintf("%s/%s.crt", tls_dir, name);
  cleanup_free char *key_path = xasprintf("%s/%s.key", tls_dir, name);
  if (secure_write_file(key_path, out->key_pem, strlen(out->key_pem), 0600, err) < 0 ||
      secure_write_file(crt_path, out->cert_pem, strlen(out->cert_pem), 0644, err) < 0) {
    entry_clear(out);
    return -1;
  }
  return 0;
}

static void
entry_clear(struct pki_entry *e)
{
  pki_keypair_clear(&e->kp);
  free(e->cert_pem);
  secure_free_secret(e->key_pem);
  e->cert_pem = NULL;
  e->key_pem = NULL;
}

/* ---- SANs ---- */

static size_t
list_len(const char *const *list)
{
  size_t n = 0;
  while (list && list[n])
    n++;
  return n;
}

static bool
dns_listed(const char **list, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(list[i], name) == 0)
      return true;
  return false;
}

static bool
ip_listed(const char **list, size_t n, const unsigned char *ip, size_t len)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char other[16];
    if (pki_parse_ip(list[i], other) == len && memcmp(other, ip, len) == 0)
      return true;
  }
  return false;
}

static int
san_set_build(const struct pki_config *cfg, struct san_set *out, k8c_err *err)
{
  size_t n_dns = 0, n_ips = 0;
  out->dns = xcalloc(list_len(default_san_dns) + list_len(cfg->san_dns) + 1, sizeof(char *));
  out->ips = xcalloc(list_len(default_san_ips) + list_len(cfg->san_ips) + 1, sizeof(char *));
  for (int pass = 0; pass < 2; pass++) {
    const char *const *dns = pass == 0 ? default_san_dns : cfg->san_dns;
    const char *const *ips = pass == 0 ? default_san_ips : cfg->san_ips;
    for (size_t i = 0; dns && dns[i]; i++) {
      if (dns[i][0] == '\0' || strlen(dns[i]) > 253) {
        san_set_free(out);
        return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "pki: invalid DNS SAN \"%s\"", dns[i]);
      }
      if (!dns_listed(out->dns, n_dns, dns[i]))
        out->dns[n_dns++] = dns[i];
    }
    for (size_t i = 0; ips && ips[i]; i++) {
      unsigned char ip[16];
      size_t len = pki_parse_ip(ips[i], ip);
      if (len == 0) {
        san_set_free(out);
        return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "pki: invalid IP SAN \"%s\"", ips[i]);
      }
      if (!ip_listed(out->ips, n_ips, ip, len))
        out->ips[n_ips++] = ips[i];
    }
  }
  return 0;
}

static void
san_set_free(struct san_set *s)
{
  free(s->dns);
  free(s->ips);
  s->dns = NULL;
  s->ips = NULL;
}
