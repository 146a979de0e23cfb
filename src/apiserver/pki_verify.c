/* pki_verify.c — Kubernetes x509 client authentication over a GnuTLS session: the
 * peer's chain must verify against the client CA with the clientAuth purpose; the
 * subject CN is the user and the subject O values are the groups. The trust list is
 * built once per verifier, so the per-connection cost is one chain verification. */
#include "apiserver/pki.h"

#include <gnutls/x509.h>
#include <string.h>

#include "lib/mem.h"

#define MAX_PEER_CHAIN 8

struct pki_verifier {
  gnutls_x509_trust_list_t trust; /* read-only after pki_verifier_new */
};

static int unauthorized(k8c_err *err, const char *fmt, const char *detail);
static int import_chain(const gnutls_datum_t *raw, unsigned n, gnutls_x509_crt_t *chain,
                        k8c_err *err);
static int identity_from_cert(gnutls_x509_crt_t crt, struct pki_identity *out, k8c_err *err);

struct pki_verifier *
pki_verifier_new(const char *client_ca_pem, k8c_err *err)
{
  if (client_ca_pem == NULL || client_ca_pem[0] == '\0') {
    k8c_error(err, 500, K8C_REASON_INTERNAL, "client CA is empty");
    return NULL;
  }
  struct pki_verifier *v = xcalloc(1, sizeof *v);
  int rc = gnutls_x509_trust_list_init(&v->trust, 0);
  if (rc < 0) {
    free(v);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "creating trust list: %s", gnutls_strerror(rc));
    return NULL;
  }
  gnutls_datum_t d = {(unsigned char *)client_ca_pem, (unsigned)strlen(client_ca_pem)};
  rc = gnutls_x509_trust_list_add_trust_mem(v->trust, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
  if (rc <= 0) {
    pki_verifier_free(v);
    k8c_error(err, 500, K8C_REASON_INTERNAL, "loading client CA: %s",
              rc < 0 ? gnutls_strerror(rc) : "no certificate found");
    return NULL;
  }
  return v;
}

void
pki_verifier_free(struct pki_verifier *v)
{
  if (v == NULL)
    return;
  if (v->trust)
    gnutls_x509_trust_list_deinit(v->trust, 1);
  free(v);
}

int
pki_verifier_check(const struct pki_verifier *v, gnutls_session_t session, struct pki_identity *out,
                   k8c_err *err)
{
  memset(out, 0, sizeof *out);
  if (gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_X509)
    return 0;
  unsigned n = 0;
  const gnutls_datum_t *raw = gnutls_certificate_get_peers(session, &n);
  if (raw == NULL || n == 0)
    return 0;
  if (n > MAX_PEER_CHAIN)
    return unauthorized(err, "client certificate chain is too long%s", "");

  gnutls_x509_crt_t chain[MAX_PEER_CHAIN] = {0};
  if (import_chain(raw, n, chain, err) < 0)
    return -1;
  gnutls_typed_vdata_st purpose = {
      .type = GNUTLS_DT_KEY_PURPOSE_OID,
      .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
      .size = 0,
  };
  unsigned status = 0;
  int rc = gnutls_x509_trust_list_verify_crt2(v->trust, chain, n, &purpose, 1, 0, &status, NULL);
  int result;
  if (rc < 0) {
    result = unauthorized(err, "verifying client certificate: %s", gnutls_strerror(rc));
  } else if (status != 0) {
    gnutls_datum_t why = {NULL, 0};
    const char *text = "verification failed";
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0) >= 0)
      text = (const char *)why.data;
    result = unauthorized(err, "client certificate rejected: %s", text);
    gnutls_free(why.data);
  } else {
    result = identity_from_cert(chain[0], out, err);
  }
  for (unsigned i = 0; i < n; i++)
    gnutls_x509_crt_deinit(chain[i]);
  return result;
}

int
pki_verify_client(gnutls_session_t session, const char *client_ca_pem, struct pki_identity *id,
                  k8c_err *err)
{
  struct pki_verifier *v = pki_verifier_new(client_ca_pem, err);
  if (v == NULL)
    return -1;
  int rc = pki_verifier_check(v, session, id, err);
  pki_verifier_free(v);
  return rc;
}

/* ---- helpers ---- */

static int
unauthorized(k8c_err *err, const char *fmt, const char *detail)
{
  return k8c_error(err, 401, K8C_REASON_UNAUTHORIZED, fmt, detail);
}

static int
import_chain(const gnutls_datum_t *raw, unsigned n, gnutls_x509_crt_t *chain, k8c_err *err)
{
  for (unsigned i = 0; i < n; i++) {
    int rc = gnutls_x509_crt_init(&chain[i]);
    if (rc >= 0)
      rc = gnutls_x509_crt_import(chain[i], &raw[i], GNUTLS_X509_FMT_DER);
    if (rc < 0) {
      for (unsigned j = 0; j <= i; j++)
        if (chain[j])
          gnutls_x509_crt_deinit(chain[j]);
      return unauthorized(err, "parsing client certificate: %s", gnutls_strerror(rc));
    }
  }
  return 0;
}

/* Copies one subject attribute; fails on names that do not fit (truncating a user
 * name could turn it into someone else's). */
static int
read_dn_value(gnutls_x509_crt_t crt, const char *oid, unsigned idx, char *dst, k8c_err *err)
{
  size_t size = PKI_NAME_MAX;
  int rc = gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, dst, &size);
  if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
    return unauthorized(err, "client certificate subject is too long%s", "");
  if (rc < 0)
    return rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE
               ? 0
               : unauthorized(err, "reading client certificate subject: %s", gnutls_strerror(rc));
  if (strlen(dst) != size)
    return unauthorized(err, "client certificate subject has an embedded NUL%s", "");
  return 1;
}

static int
identity_from_cert(gnutls_x509_crt_t crt, struct pki_identity *out, k8c_err *err)
{
  int rc = read_dn_value(crt, GNUTLS_OID_X520_COMMON_NAME, 0, out->user, err);
  if (rc <= 0 || out->user[0] == '\0') {
    memset(out, 0, sizeof *out);
    return rc < 0 ? -1 : unauthorized(err, "client certificate has no common name%s", "");
  }
  for (unsigned i = 0; i < PKI_MAX_GROUPS; i++) {
    rc = read_dn_value(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, out->groups[i], err);
    if (rc < 0) {
      memset(out, 0, sizeof *out);
      return -1;
    }
    if (rc == 0)
      break;
    out->n_groups++;
  }
  out->authenticated = true;
  return 0;
}
