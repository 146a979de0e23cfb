/* curl_global.c — libcurl's global initialisation, once per process (see curl_global.h).
 * Debian's libcurl is built with libssh2, and curl_global_init starts libssh2, which in
 * turn initialises OpenSSL's libcrypto (algorithm tables, error strings): about 1.5 MiB
 * of resident memory in every k8c process for a protocol (scp/sftp) k8c never speaks.
 * libssh2 counts its initialisations and only the first decides about crypto, so
 * starting it first with LIBSSH2_INIT_NO_CRYPTO (public libssh2 API) skips that work;
 * curl's own TLS is GnuTLS and is unaffected. */
#include "lib/curl_global.h"

#include <curl/curl.h>
#include <libssh2.h>
#include <pthread.h>

struct curl_global_state {
  pthread_once_t once;
  bool ok;
};

/* process-wide by nature: libcurl's global state is itself per process */
static struct curl_global_state curl_global = {PTHREAD_ONCE_INIT, false};

static void
curl_global_init_now(void)
{
  if (libssh2_init(LIBSSH2_INIT_NO_CRYPTO) != 0)
    return;
  curl_global.ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool
curl_global_once(void)
{
  if (pthread_once(&curl_global.once, curl_global_init_now) != 0)
    return false;
  return curl_global.ok;
}
