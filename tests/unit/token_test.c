/* token_test.c — the server token: format, CA pinning hash, stability across starts,
 * file mode, parsing, and the constant-time comparison's results. */
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "apiserver/pki.h"
#include "apiserver/secure_file.h"
#include "apiserver/token.h"
#include "lib/mem.h"
#include "testlib.h"

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static char *
fresh_pki_dir(struct pki *p)
{
  char *dir = xstrdup("/tmp/k8c-token-test-XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  struct pki_config cfg = {.data_dir = dir};
  k8c_err err = {0};
  if (pki_ensure(&cfg, p, &err) < 0)
    abort();
  return dir;
}

static void
remove_tree(char *dir)
{
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

TEST(token_is_created_once_with_ca_hash)
{
  struct pki p;
  char *dir = fresh_pki_dir(&p);
  k8c_err err = {0};
  char *token = NULL, *again = NULL;
  CHECK_INT(token_ensure(dir, &token, &err), 0);
  CHECK(token != NULL && strncmp(token, "K10", 3) == 0);
  char hash[65];
  token_ca_hash(p.server_ca_cert_pem, strlen(p.server_ca_cert_pem), hash);
  CHECK_INT(strlen(hash), 64);
  CHECK(strncmp(token + 3, hash, 64) == 0);
  CHECK(strncmp(token + 67, "::server:", 9) == 0);
  CHECK_INT(strlen(token), 3 + 64 + 9 + 32);

  char *path = xasprintf("%s/server/token", dir);
  struct stat st;
  CHECK_INT(stat(path, &st), 0);
  CHECK_INT(st.st_mode & 07777, 0600);
  CHECK_INT(token_ensure(dir, &again, &err), 0);
  CHECK_STR(again, token);

  struct token_parts parts;
  CHECK_INT(token_parse(token, &parts, &err), 0);
  CHECK_STR(parts.ca_hash, hash);
  CHECK_STR(parts.username, "server");
  CHECK_INT(strlen(parts.secret), 32);
  CHECK(strstr(token, parts.secret) != NULL);

  /* Two clusters get different secrets. */
  struct pki q;
  char *dir2 = fresh_pki_dir(&q);
  char *other = NULL;
  CHECK_INT(token_ensure(dir2, &other, &err), 0);
  CHECK(!token_equal(token, other));
  secure_free_secret(other);
  pki_free(&q);
  remove_tree(dir2);

  free(path);
  secure_free_secret(token);
  secure_free_secret(again);
  pki_free(&p);
  remove_tree(dir);
}

TEST(token_needs_the_ca_first)
{
  char *dir = xstrdup("/tmp/k8c-token-test-XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  k8c_err err = {0};
  char *token = NULL;
  CHECK_INT(token_ensure(dir, &token, &err), -1);
  CHECK(token == NULL);
  CHECK(strstr(err.message, "server-ca.crt") != NULL);
  k8c_err_clear(&err);
  remove_tree(dir);
}

TEST(token_parse_forms)
{
  struct token_parts parts;
  k8c_err err = {0};
  CHECK_INT(token_parse("justasecret", &parts, &err), 0);
  CHECK_STR(parts.secret, "justasecret");
  CHECK_STR(parts.ca_hash, "");
  CHECK_INT(token_parse("K10abc::server:x", &parts, &err), -1);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  char bad_hex[200];
  snprintf(bad_hex, sizeof bad_hex, "K10%064d::server:s", 0);
  bad_hex[3] = 'G';
  CHECK_INT(token_parse(bad_hex, &parts, &err), -1);
  k8c_err_clear(&err);
  char good[200];
  snprintf(good, sizeof good, "K10%064d::node:s3cr3t", 0);
  CHECK_INT(token_parse(good, &parts, &err), 0);
  CHECK_STR(parts.username, "node");
  CHECK_STR(parts.secret, "s3cr3t");
  CHECK_INT(token_parse("", &parts, &err), -1);
  k8c_err_clear(&err);
}

TEST(token_equal_compares_exactly)
{
  CHECK(token_equal("abc", "abc"));
  CHECK(token_equal("", ""));
  CHECK(!token_equal("abc", "abd"));
  CHECK(!token_equal("abc", "abcd"));
  CHECK(!token_equal("abcd", "abc"));
  CHECK(!token_equal("abc", ""));
  CHECK(!token_equal(NULL, "abc"));
  CHECK(!token_equal("abc", NULL));
  CHECK(!token_equal(NULL, NULL));
}

TEST_MAIN()
