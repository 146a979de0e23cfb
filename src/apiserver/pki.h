/* pki.h — k8c's certificate authority bootstrap (like k3s): two CAs (server, client),
 * the API serving certificate, the admin client certificate, issuing more client
 * certificates, and verifying the client certificate of a TLS connection.
 *
 * Design: everything lives as PEM files under DATA_DIR/server/tls/ (dirs 0700, keys
 * 0600); the first start creates them, later starts load them and renew only the leaf
 * certificates that need it, so the CAs (and every kubeconfig that pins them) stay. */
#ifndef K8C_APISERVER_PKI_H
#define K8C_APISERVER_PKI_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

/* What pki_ensure needs. The SAN lists are NULL-terminated (either may be NULL) and add
 * to the names that are always present: 127.0.0.1, ::1, localhost, kubernetes,
 * kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.cluster.local.
 * Typical extras: the node's addresses, the kubernetes service IP (10.43.0.1), the
 * hostname. IPs are textual IPv4 or IPv6. */
struct pki_config {
  const char *data_dir;
  const char *const *san_ips;
  const char *const *san_dns;
};

/* The credentials the server runs with, as PEM text. Every field is owned by the
 * struct and released (keys wiped first) by pki_free(). The *_key_pem fields are
 * secrets: never log them. */
struct pki {
  char *tls_dir;                 /* DATA_DIR/server/tls */
  char *server_ca_cert_pem;      /* trust anchor for the API serving certificate */
  char *server_ca_key_pem;       /* secret; signs serving certificates */
  char *serving_cert_pem;        /* kube-apiserver certificate with all SANs */
  char *serving_key_pem;         /* secret */
  char *client_ca_cert_pem;      /* trust anchor for client certificates */
  char *client_ca_key_pem;       /* secret; signs client certificates */
  char *admin_cert_pem;          /* CN=system:admin, O=system:masters */
  char *admin_key_pem;           /* secret */
  char *kubelet_client_cert_pem; /* CN=kube-apiserver-kubelet-client, O=system:masters */
  char *kubelet_client_key_pem;  /* secret */
};

/* The common name the API server uses towards kubelets (logs, exec, port-forward). */
#define PKI_KUBELET_CLIENT_CN "kube-apiserver-kubelet-client"

/* Leaf lifetimes and the renewal window (k3s's numbers). */
#define PKI_CA_VALID_DAYS 3650
#define PKI_LEAF_VALID_DAYS 365
#define PKI_RENEW_BEFORE_DAYS 90

/* Creates or loads DATA_DIR/server/tls/{server-ca,client-ca,serving-kube-apiserver,
 * client-admin,client-kube-apiserver-kubelet}.{crt,key}. Regenerates the serving certificate when a
 * required SAN is missing, it expires within PKI_RENEW_BEFORE_DAYS, or it is not signed by the
 * server CA; likewise the admin certificate (expiry or wrong CA). CAs are never replaced. Fills
 * *out (release with pki_free) on success. */
int pki_ensure(const struct pki_config *cfg, struct pki *out, k8c_err *err);

/* Releases every field (wiping key material) and zeroes the struct. NULL is fine. */
void pki_free(struct pki *p);

/* Issues a client certificate signed by the client CA: subject CN=cn and one O=
 * per entry of the NULL-terminated orgs (may be NULL); clientAuth, valid
 * PKI_LEAF_VALID_DAYS, fresh ECDSA P-256 key. *cert_pem and *key_pem are
 * caller-owned (free; wipe the key with secure_free_secret). Nothing is written to
 * disk. */
int pki_issue_client_cert(const struct pki *p, const char *cn, const char *const *orgs,
                          char **cert_pem, char **key_pem, k8c_err *err);

/* Issues a serving certificate signed by the server CA (e.g. a kubelet's streaming
 * endpoint): CN=cn, serverAuth, the NULL-terminated SAN lists (may be NULL). Outputs
 * are caller-owned as for pki_issue_client_cert. Nothing is written to disk. */
int pki_issue_serving_cert(const struct pki *p, const char *cn, const char *const *san_dns,
                           const char *const *san_ips, char **cert_pem, char **key_pem,
                           k8c_err *err);

/* Loads the ServiceAccount token signing key (ECDSA P-256, PEM) from TLS_DIR/service.key,
 * creating it (0600) on first use. *key_pem is a secret the caller frees with
 * secure_free_secret. */
int pki_service_key_ensure(const struct pki *p, char **key_pem, k8c_err *err);

/* ---- client certificate authentication ---- */

#define PKI_MAX_GROUPS 8
#define PKI_NAME_MAX 256

/* Who a verified client certificate says the caller is (Kubernetes x509 authn:
 * user = subject CN, groups = subject O values). Fixed-size: nothing to free. */
struct pki_identity {
  bool authenticated; /* false: no certificate was presented */
  char user[PKI_NAME_MAX];
  char groups[PKI_MAX_GROUPS][PKI_NAME_MAX];
  size_t n_groups;
};

/* Holds the client CA as a ready trust list, built once. It is read-only after
 * creation, so one verifier may be shared by every connection thread. */
struct pki_verifier;

/* Parses client_ca_pem (one or more certificates). Returns NULL and fills err on bad
 * input. The caller owns the result (pki_verifier_free). */
struct pki_verifier *pki_verifier_new(const char *client_ca_pem, k8c_err *err);
void pki_verifier_free(struct pki_verifier *v);

/* Checks the certificate chain the peer of session presented (after the handshake).
 * No certificate: returns 0 with out->authenticated = false (try bearer tokens next).
 * A valid chain to the client CA with clientAuth usage: returns 0, out filled.
 * Anything else (bad signature, unknown CA, expired, wrong usage, unusable subject):
 * returns -1 with a 401 Unauthorized error. */
int pki_verifier_check(const struct pki_verifier *v, gnutls_session_t session,
                       struct pki_identity *out, k8c_err *err);

/* One-shot form of the two calls above (builds and frees a verifier each time; use
 * the verifier in the server's hot path). */
int pki_verify_client(gnutls_session_t session, const char *client_ca_pem, struct pki_identity *id,
                      k8c_err *err);

#endif
