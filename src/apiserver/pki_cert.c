/* pki_cert.c — making and reading one X.509 certificate with GnuTLS: ECDSA P-256 keys,
 * SHA-256 signatures, X.509 v3 with basic constraints, key usage, extended key usage,
 * subject/authority key ids and SANs — the shape Go's crypto/x509 (kubectl) expects.
 * Error messages name what failed, never the key material. */
#include "apiserver/pki_cert.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <strings.h>

#include "lib/mem.h"

static int gnutls_fail(k8c_err *err, const char *what, int rc);
static int set_subject(gnutls_x509_crt_t crt, const struct pki_cert_spec *spec, k8c_err *err);
static int set_usage(gnutls_x509_crt_t crt, enum pki_usage usage, k8c_err *err);
static int set_sans(gnutls_x509_crt_t crt, const struct pki_cert_spec *spec, k8c_err *err);
static int set_key_ids(gnutls_x509_crt_t crt, const struct pki_keypair *issuer, k8c_err *err);
static int set_random_serial(gnutls_x509_crt_t crt, k8c_err *err);
static int sign_cert(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer_crt,
                     gnutls_x509_privkey_t issuer_key, k8c_err *err);
static char *datum_to_string(gnutls_datum_t *d, bool secret);
static bool key_matches_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);

int
pki_cert_create(const struct pki_cert_spec *spec, const struct pki_keypair *issuer,
                struct pki_keypair *out, k8c_err *err)
{
  struct pki_keypair kp = {0};
  int rc = gnutls_x509_privkey_init(&kp.key);
  if (rc < 0)
    return gnutls_fail(err, "initialising key", rc);
  rc = gnutls_x509_privkey_generate2(kp.key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
  if (rc < 0) {
    pki_keypair_clear(&kp);
    return gnutls_fail(err, "generating ECDSA P-256 key", rc);
  }
  rc = gnutls_x509_crt_init(&kp.crt);
  if (rc < 0) {
    pki_keypair_clear(&kp);
    return gnutls_fail(err, "initialising certificate", rc);
  }
  if ((rc = gnutls_x509_crt_set_version(kp.crt, 3)) < 0 ||
      (rc = gnutls_x509_crt_set_key(kp.crt, kp.key)) < 0 ||
      (rc = gnutls_x509_crt_set_activation_time(kp.crt, spec->not_before)) < 0 ||
      (rc = gnutls_x509_crt_set_expiration_time(kp.crt, spec->not_after)) < 0) {
    pki_keypair_clear(&kp);
    return gnutls_fail(err, "filling certificate", rc);
  }
  if (set_random_serial(kp.crt, err) < 0 || set_subject(kp.crt, spec, err) < 0 ||
      set_usage(kp.crt, spec->usage, err) < 0 || set_sans(kp.crt, spec, err) < 0 ||
      set_key_ids(kp.crt, issuer, err) < 0) {
    pki_keypair_clear(&kp);
    return -1;
  }
  gnutls_x509_crt_t issuer_crt = issuer ? issuer->crt : kp.crt;
  gnutls_x509_privkey_t issuer_key = issuer ? issuer->key : kp.key;
  if (issuer_key == NULL) {
    pki_keypair_clear(&kp);
    return k8c_error(err, 500, K8C_REASON_INTERNAL, "issuer has no private key");
  }
  if (sign_cert(kp.crt, issuer_crt, issuer_key, err) < 0) {
    pki_keypair_clear(&kp);
    return -1;
  }
  *out = kp;
  return 0;
}

int
pki_keypair_load(const char *cert_pem, const char *key_pem, struct pki_keypair *out, k8c_err *err)
{
  struct pki_keypair kp = {0};
  gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
  int rc = gnutls_x509_crt_init(&kp.crt);
  if (rc < 0)
    return gnutls_fail(err, "initialising certificate", rc);
  rc = gnutls_x509_crt_import(kp.crt, &d, GNUTLS_X509_FMT_PEM);
  if (rc < 0) {
    pki_keypair_clear(&kp);
    return gnutls_fail(err, "parsing certificate", rc);
  }
  if (key_pem != NULL) {
    gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
    rc = gnutls_x509_privkey_init(&kp.key);
    if (rc >= 0)
      rc = gnutls_x509_privkey_import(kp.key, &kd, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
      pki_keypair_clear(&kp);
      return gnutls_fail(err, "parsing private key", rc);
    }
    if (!key_matches_cert(kp.crt, kp.key)) {
      pki_keypair_clear(&kp);
      return k8c_error(err, 500, K8C_REASON_INTERNAL,
                       "private key does not belong to the certificate");
    }
  }
  *out = kp;
  return 0;
}

int
pki_keypair_export(const struct pki_keypair *kp, char **cert_pem, char **key_pem, k8c_err *err)
{
  gnutls_datum_t d = {NULL, 0};
  int rc = gnutls_x509_crt_export2(kp->crt, GNUTLS_X509_FMT_PEM, &d);
  if (rc < 0)
    return gnutls_fail(err, "exporting certificate", rc);
  char *cert = datum_to_string(&d, false);
  if (key_pem != NULL) {
    rc = kp->key ? gnutls_x509_privkey_export2(kp->key, GNUTLS_X509_FMT_PEM, &d)
                 : GNUTLS_E_INVALID_REQUEST;
    if (rc < 0) {
      free(cert);
      return gnutls_fail(err, "exporting private key", rc);
    }
    *key_pem = datum_to_string(&d, true);
  }
  *cert_pem = cert;
  return 0;
}

void
pki_keypair_clear(struct pki_keypair *kp)
{
  if (kp->crt)
    gnutls_x509_crt_deinit(kp->crt);
  if (kp->key)
    gnutls_x509_privkey_deinit(kp->key);
  kp->crt = NULL;
  kp->key = NULL;
}

bool
pki_cert_signed_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
  unsigned status = 0;
  if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) < 0)
    return false;
  return status == 0;
}

bool
pki_cert_has_sans(gnutls_x509_crt_t crt, const char *const *san_dns, const char *const *san_ips)
{
  for (size_t i = 0; san_dns && san_dns[i]; i++) {
    bool found = false;
    for (unsigned seq = 0; !found; seq++) {
      char name[512];
      size_t size = sizeof name - 1;
      int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name, &size, NULL);
      if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        break;
      if (type == GNUTLS_SAN_DNSNAME) {
        name[size] = '\0';
        found = strcasecmp(name, san_dns[i]) == 0;
      }
    }
    if (!found)
      return false;
  }
  for (size_t i = 0; san_ips && san_ips[i]; i++) {
    unsigned char want[16];
    size_t want_len = pki_parse_ip(san_ips[i], want);
    bool found = false;
    for (unsigned seq = 0; !found; seq++) {
      unsigned char got[64];
      size_t size = sizeof got;
      int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, got, &size, NULL);
      if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        break;
      if (type == GNUTLS_SAN_IPADDRESS)
        found = size == want_len && memcmp(got, want, want_len) == 0;
    }
    if (!found)
      return false;
  }
  return true;
}

size_t
pki_parse_ip(const char *text, unsigned char out[16])
{
  if (inet_pton(AF_INET, text, out) == 1)
    return 4;
  if (inet_pton(AF_INET6, text, out) == 1)
    return 16;
  return 0;
}

/* ---- helpers ---- */

static int
gnutls_fail(k8c_err *err, const char *what, int rc)
{
  return k8c_error(err, 500, K8C_REASON_INTERNAL, "%s: %s", what, gnutls_strerror(rc));
}

static int
set_subject(gnutls_x509_crt_t crt, const struct pki_cert_spec *spec, k8c_err *err)
{
  for (size_t i = 0; spec->orgs && spec->orgs[i]; i++) {
    int rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, spec->orgs[i],
                                           (unsigned)strlen(spec->orgs[i]));
    if (rc < 0)
      return gnutls_fail(err, "setting subject organization", rc);
  }
  int rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, spec->cn,
                                         (unsigned)strlen(spec->cn));
  if (rc < 0)
    return gnutls_fail(err, "setting subject common name", rc);
  return 0;
}

static int
set_usage(gnutls_x509_crt_t crt, enum pki_usage usage, k8c_err *err)
{
  bool is_ca = usage == PKI_USAGE_CA;
  int rc = gnutls_x509_crt_set_basic_constraints(crt, is_ca ? 1 : 0, -1);
  if (rc < 0)
    return gnutls_fail(err, "setting basic constraints", rc);
  unsigned key_usage =
      is_ca ? (GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE)
            : (GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT);
  rc = gnutls_x509_crt_set_key_usage(crt, key_usage);
  if (rc < 0)
    return gnutls_fail(err, "setting key usage", rc);
  if (is_ca)
    return 0;
  const char *purpose =
      usage == PKI_USAGE_SERVER ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT;
  rc = gnutls_x509_crt_set_key_purpose_oid(crt, purpose, 0);
  if (rc < 0)
    return gnutls_fail(err, "setting extended key usage", rc);
  return 0;
}

static int
set_sans(gnutls_x509_crt_t crt, const struct pki_cert_spec *spec, k8c_err *err)
{
  for (size_t i = 0; spec->san_dns && spec->san_dns[i]; i++) {
    const char *name = spec->san_dns[i];
    int rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                  (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
    if (rc < 0)
      return gnutls_fail(err, "adding DNS subject alternative name", rc);
  }
  for (size_t i = 0; spec->san_ips && spec->san_ips[i]; i++) {
    unsigned char ip[16];
    size_t len = pki_parse_ip(spec->san_ips[i], ip);
    if (len == 0)
      return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "invalid IP address for SAN: %s",
                       spec->san_ips[i]);
    int rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, (unsigned)len,
                                                  GNUTLS_FSAN_APPEND);
    if (rc < 0)
      return gnutls_fail(err, "adding IP subject alternative name", rc);
  }
  return 0;
}

static int
set_key_ids(gnutls_x509_crt_t crt, const struct pki_keypair *issuer, k8c_err *err)
{
  unsigned char id[64];
  size_t size = sizeof id;
  int rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &size);
  if (rc < 0)
    return gnutls_fail(err, "computing subject key id", rc);
  rc = gnutls_x509_crt_set_subject_key_id(crt, id, size);
  if (rc < 0)
    return gnutls_fail(err, "setting subject key id", rc);
  if (issuer != NULL) {
    size = sizeof id;
    rc = gnutls_x509_crt_get_subject_key_id(issuer->crt, id, &size, NULL);
    if (rc < 0)
      return gnutls_fail(err, "reading issuer key id", rc);
  }
  rc = gnutls_x509_crt_set_authority_key_id(crt, id, size);
  if (rc < 0)
    return gnutls_fail(err, "setting authority key id", rc);
  return 0;
}

static int
set_random_serial(gnutls_x509_crt_t crt, k8c_err *err)
{
  unsigned char serial[16];
  int rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
  if (rc < 0)
    return gnutls_fail(err, "generating serial number", rc);
  /* Positive and minimally encoded in DER: top bit clear, next bit set. */
  serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
  rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
  if (rc < 0)
    return gnutls_fail(err, "setting serial number", rc);
  return 0;
}

static int
sign_cert(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer_crt, gnutls_x509_privkey_t issuer_key,
          k8c_err *err)
{
  gnutls_privkey_t signer = NULL;
  int rc = gnutls_privkey_init(&signer);
  if (rc >= 0)
    rc = gnutls_privkey_import_x509(signer, issuer_key, 0);
  if (rc >= 0)
    rc = gnutls_x509_crt_privkey_sign(crt, issuer_crt, signer, GNUTLS_DIG_SHA256, 0);
  if (signer)
    gnutls_privkey_deinit(signer);
  if (rc < 0)
    return gnutls_fail(err, "signing certificate", rc);
  return 0;
}

static char *
datum_to_string(gnutls_datum_t *d, bool secret)
{
  char *s = xstrndup((const char *)d->data, d->size);
  if (secret)
    gnutls_memset(d->data, 0, d->size);
  gnutls_free(d->data);
  d->data = NULL;
  d->size = 0;
  return s;
}

static bool
key_matches_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
  unsigned char a[64], b[64];
  size_t alen = sizeof a, blen = sizeof b;
  if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &alen) < 0 ||
      gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &blen) < 0)
    return false;
  return alen == blen && memcmp(a, b, alen) == 0;
}
