/* kubeconfig.c — renders the admin kubeconfig as YAML and writes it. The only values
 * that are not base64 are fixed names and the server URL, which is emitted as a
 * double-quoted YAML scalar with escapes, so no input can change the document shape. */
#include "apiserver/kubeconfig.h"

#include <nettle/base64.h>
#include <string.h>

#include "apiserver/secure_file.h"
#include "lib/buf.h"
#include "lib/mem.h"

static void put_base64(buf *b, const char *text);
static void put_quoted(buf *b, const char *text);

int
kubeconfig_write(const char *path, unsigned mode, const char *server_url, const char *ca_pem,
                 const char *cert_pem, const char *key_pem, k8c_err *err)
{
  if (path == NULL || path[0] == '\0' || server_url == NULL || ca_pem == NULL ||
      cert_pem == NULL || key_pem == NULL)
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
  buf b;
  buf_init(&b);
  buf_puts(&b, "apiVersion: v1\n"
               "kind: Config\n"
               "clusters:\n"
               "- cluster:\n"
               "    certificate-authority-data: ");
  put_base64(&b, ca_pem);
  buf_puts(&b, "\n    server: ");
  put_quoted(&b, server_url);
  buf_puts(&b, "\n  name: default\n"
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
               "    client-certificate-data: ");
  put_base64(&b, cert_pem);
  buf_puts(&b, "\n    client-key-data: ");
  put_base64(&b, key_pem);
  buf_puts(&b, "\n");
  size_t len = 0;
  char *text = buf_steal(&b, &len);
  return text;
}

/* ---- helpers ---- */

static void
put_base64(buf *b, const char *text)
{
  size_t len = strlen(text);
  char *encoded = xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
  base64_encode_raw(encoded, len, (const uint8_t *)text);
  size_t enc_len = BASE64_ENCODE_RAW_LENGTH(len);
  buf_append(b, encoded, enc_len);
  explicit_bzero(encoded, enc_len);
  free(encoded);
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
