/* pki_cert.h — internal to the PKI: one certificate with its key as GnuTLS objects,
 * creating (self-signed or issued), loading, exporting and inspecting them.
 * pki.c decides *which* certificates exist; this file knows *how* to make one. */
#ifndef K8C_APISERVER_PKI_CERT_H
#define K8C_APISERVER_PKI_CERT_H

#include <gnutls/x509.h>
#include <stdbool.h>
#include <time.h>

#include "lib/err.h"

/* A certificate and (optionally) its private key. Owned by whoever holds the struct;
 * release with pki_keypair_clear. */
struct pki_keypair {
  gnutls_x509_crt_t crt;
  gnutls_x509_privkey_t key; /* NULL when only the certificate is known */
};

enum pki_usage {
  PKI_USAGE_CA,     /* basicConstraints CA:TRUE, keyCertSign|cRLSign */
  PKI_USAGE_SERVER, /* digitalSignature|keyEncipherment, extKeyUsage serverAuth */
  PKI_USAGE_CLIENT, /* digitalSignature|keyEncipherment, extKeyUsage clientAuth */
};

/* What to put in a new certificate. Lists are NULL-terminated and may be NULL. */
struct pki_cert_spec {
  const char *cn;
  const char *const *orgs;
  enum pki_usage usage;
  const char *const *san_dns;
  const char *const *san_ips; /* textual IPv4/IPv6 */
  time_t not_before;
  time_t not_after;
};

/* Generates a fresh ECDSA P-256 key and a certificate for it, signed with SHA-256 by
 * issuer (or self-signed when issuer is NULL). out must be zeroed; on success it owns
 * both objects. */
int pki_cert_create(const struct pki_cert_spec *spec, const struct pki_keypair *issuer,
                    struct pki_keypair *out, k8c_err *err);

/* Parses PEM text; key_pem may be NULL. When both are given, fails unless the key
 * belongs to the certificate. out must be zeroed. */
int pki_keypair_load(const char *cert_pem, const char *key_pem, struct pki_keypair *out,
                     k8c_err *err);

/* PEM text of the certificate and (if key_pem is not NULL) of the key; caller-owned. */
int pki_keypair_export(const struct pki_keypair *kp, char **cert_pem, char **key_pem, k8c_err *err);

void pki_keypair_clear(struct pki_keypair *kp);

/* True if ca's key signed crt (and crt is currently valid). */
bool pki_cert_signed_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca);

/* True if crt's subjectAltName holds every listed DNS name and IP. */
bool pki_cert_has_sans(gnutls_x509_crt_t crt, const char *const *san_dns,
                       const char *const *san_ips);

/* Parses a textual IPv4 or IPv6 address into network-order bytes (4 or 16); returns
 * the length, or 0 if text is not an IP address. */
size_t pki_parse_ip(const char *text, unsigned char out[16]);

#endif
