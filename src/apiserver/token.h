/* token.h — the server (join) token, as k3s keeps it in DATA_DIR/server/token:
 * "K10" + hex SHA-256 of the server CA file + "::server:" + 32 random hex characters.
 * The CA hash lets a joining agent pin the CA before it trusts anything the server
 * sends; the secret part is what authenticates it. */
#ifndef K8C_APISERVER_TOKEN_H
#define K8C_APISERVER_TOKEN_H

#include <stdbool.h>

#include "lib/err.h"

/* Returns the token in DATA_DIR/server/token, creating it (mode 0600) on first use.
 * The CA hash is taken from DATA_DIR/server/tls/server-ca.crt, so run pki_ensure
 * first. *token_out is caller-owned and secret (wipe with secure_free_secret). */
int token_ensure(const char *data_dir, char **token_out, k8c_err *err);

/* The parts of a token. A bare secret (no "K10" prefix) is accepted too, with
 * ca_hash empty and username "server". Fixed-size: nothing to free. */
struct token_parts {
  char ca_hash[65]; /* lowercase hex SHA-256 or "" */
  char username[64];
  char secret[256];
};
int token_parse(const char *token, struct token_parts *out, k8c_err *err);

/* Lowercase hex SHA-256 of data (what a token's CA hash is computed from: the CA
 * certificate file's bytes). out must hold 65 bytes. */
void token_ca_hash(const char *data, size_t len, char out[65]);

/* Compares two secrets in time that depends only on their lengths, not their
 * contents. NULL equals nothing. */
bool token_equal(const char *a, const char *b);

#endif
