/* kubeconfig.c — renders the admin kubeconfig as YAML and writes it. The only values
 * that are not base64 are fixed names and the server URL, which is emitted as a
 * double-quoted YAML scalar with escapes, so no input can change the document shape. */
#include "apiserver/kubeconfig.h"

#include <nettle/base64.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/secure_file.h"
#include "lib/buf.h"
#include "lib/mem.h"

static char *base64_of(const char *text);
static void put_quoted(buf *b, const char *text);

int
kubeconfig_write(const char *path, unsigned mode, const char *server_url, const char *ca_pem,
                 const char *cert_pem, const char *key_pem, k8c_err *err)
{
  if (path == NULL || path[0] == '\0' || server_url == NULL || ca_pem == NULL || cert_pem == NULL ||
      key_pem == NULL)
    return k8c_error(err, 400, K8C_REASON_BAD_REQUEST, "kubeconfig: missing path or credential");
  if (mode == 0)
    mode = 0600;
  if (secure_mkdir_parent(path, 0755, err) < 0)
    return k8c_err_prefix(err, "kubeconfig");
  char *text = kubeconfig_render(server_url, ca_pem, cert_pem, key_pem);
  int rc = secure_write_file(path, text, strlen(text), (mode_t)(mode & 07777), err);
  secure_free_secret(text);
  if (rc < 0)
    return k8c_err_prefix(err, "kubeconfig");
  return 0;
}

char *
kubeconfig_render(const char *server_url, const char *ca_pem, const char *cert_pem,
                  const char *key_pem)
{
  static const char layout[] = "apiVersion: v1\n"
                               "kind: Config\n"
                               "clusters:\n"
                               "- cluster:\n"
                               "    certificate-authority-data: %s\n"
                               "    server: %s\n"
                               "  name: default\n"
                               "contexts:\n"
                               "- context:\n"
                               "    cluster: default\n"
                               "    user: default\n"
                               "  name: default\n"
                               "current-context: default\n"
                               "preferences: {}\n"
                               "users:\n"
                               "- name: default\n"
                               "  user:\n"
                               "    client-certificate-data: %s\n"
                               "    client-key-data: %s\n";
  buf server;
  buf_init(&server);
  put_quoted(&server, server_url);
  char *ca64 = base64_of(ca_pem), *cert64 = base64_of(cert_pem), *key64 = base64_of(key_pem);
  /* Sized exactly up front: a growing buffer would leave copies of the key behind. */
  int len = snprintf(NULL, 0, layout, ca64, buf_cstr(&server), cert64, key64);
  char *text = xmalloc((size_t)(len > 0 ? len : 0) + 1);
  text[0] = '\0';
  if (len > 0)
    snprintf(text, (size_t)len + 1, layout, ca64, buf_cstr(&server), cert64, key64);
  buf_free(&server);
  free(ca64);
  free(cert64);
  secure_free_secret(key64);
  return text;
}

/* ---- helpers ---- */

static char *
base64_of(const char *text)
{
  size_t len = strlen(text);
  size_t enc_len = BASE64_ENCODE_RAW_LENGTH(len);
  char *encoded = xmalloc(enc_len + 1);
  base64_encode_raw(encoded, len, (const uint8_t *)text);
  encoded[enc_len] = '\0';
  return encoded;
}

static void
put_quoted(buf *b, const char *text)
{
  buf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\')
      buf_printf(b, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      buf_printf(b, "\\x%02x", *p);
    else
      buf_append(b, p, 1);
  }
  buf_puts(b, "\"");
}
