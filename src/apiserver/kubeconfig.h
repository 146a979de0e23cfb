/* kubeconfig.h — writing an admin kubeconfig like k3s's /etc/rancher/k3s/k3s.yaml:
 * one cluster, one user and one context, all named "default", with the CA, client
 * certificate and key embedded as base64 *-data fields. */
#ifndef K8C_APISERVER_KUBECONFIG_H
#define K8C_APISERVER_KUBECONFIG_H

#include "lib/err.h"

/* Writes the kubeconfig to path atomically (temporary file + rename) with the given
 * file mode (0 means 0600), creating missing parent directories (0755). All strings
 * are borrowed; key_pem is secret and is never logged. */
int kubeconfig_write(const char *path, unsigned mode, const char *server_url, const char *ca_pem,
                     const char *cert_pem, const char *key_pem, k8c_err *err);

/* Returns the kubeconfig text kubeconfig_write would write (caller frees; it contains
 * the key, so wipe it with secure_free_secret). */
char *kubeconfig_render(const char *server_url, const char *ca_pem, const char *cert_pem,
                        const char *key_pem);

#endif
