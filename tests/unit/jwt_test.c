/* jwt_test.c — ES256 JWTs and ServiceAccount token claims: round trips, and every way a
 * token must be refused (tampering, another key, another algorithm, expiry, audience). */
#include "auth/jwt.h"
#include "auth/satoken.h"
#include "lib/mem.h"
#include "testlib.h"

#include <string.h>

static struct jwt_signer *
fresh_signer(char **pem_out)
{
  char *pem = NULL;
  k8c_err err = {0};
  CHECK_INT(jwt_generate_key(&pem, &err), 0);
  struct jwt_signer *s = jwt_signer_new(pem, &err);
  CHECK(s != NULL);
  if (pem_out)
    *pem_out = pem;
  else
    free(pem);
  return s;
}

TEST(sign_verify_round_trip_many)
{
  struct jwt_signer *s = fresh_signer(NULL);
  /* 64 signatures: about half have r or s with the high bit set, which DER pads. */
  for (int i = 0; i < 64; i++) {
    json_t *claims = json_pack("{s:i,s:s}", "n", i, "sub", "someone");
    k8c_err err = {0};
    char *token = jwt_sign(s, claims, &err);
    CHECK(token != NULL);
    CHECK(jwt_looks_like(token));
    json_t *back = jwt_verify(s, token, strlen(token), &err);
    CHECK(back != NULL && json_equal(back, claims));
    json_decref(back);
    json_decref(claims);
    free(token);
  }
  jwt_signer_free(s);
}

TEST(tampered_wrong_key_and_malformed_refused)
{
  struct jwt_signer *s = fresh_signer(NULL), *other = fresh_signer(NULL);
  json_t *claims = json_pack("{s:s}", "sub", "a");
  k8c_err err = {0};
  char *token = jwt_sign(s, claims, &err);
  CHECK(token != NULL);
  /* another key: its key id differs */
  CHECK(jwt_verify(other, token, strlen(token), &err) == NULL);
  CHECK_INT(err.status, 401);
  k8c_err_clear(&err);
  /* a flipped payload character */
  char *bad = xstrdup(token);
  char *payload = strchr(bad, '.') + 1;
  payload[2] = payload[2] == 'A' ? 'B' : 'A';
  CHECK(jwt_verify(s, bad, strlen(bad), &err) == NULL);
  CHECK(strstr(err.message, "invalid bearer token") != NULL);
  k8c_err_clear(&err);
  free(bad);
  /* alg none with an empty signature */
  const char *none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.";
  CHECK(jwt_verify(s, none, strlen(none), &err) == NULL);
  CHECK(strstr(err.message, "algorithm") != NULL);
  k8c_err_clear(&err);
  static const char *const junk[] = {"", "a.b", "a.b.c.d", "!!.??.==", "eyJ9.eyJ9.AAAA", NULL};
  for (int i = 0; junk[i]; i++) {
    CHECK(jwt_verify(s, junk[i], strlen(junk[i]), &err) == NULL);
    CHECK_INT(err.status, 401);
    k8c_err_clear(&err);
  }
  CHECK(!jwt_looks_like("K10abc::server:secret"));
  json_decref(claims);
  free(token);
  jwt_signer_free(s);
  jwt_signer_free(other);
}

TEST(serviceaccount_claims_and_checks)
{
  char *pem = NULL;
  jwt_signer_free(fresh_signer(&pem));
  k8c_err err = {0};
  struct satoken_issuer *t = satoken_issuer_new(pem, NULL, &err);
  CHECK(t != NULL);
  CHECK_STR(satoken_issuer_name(t), SATOKEN_DEFAULT_ISSUER);
  time_t now = 1800000000;
  struct satoken_request req = {.ns = "team",
                                .sa_name = "robot",
                                .sa_uid = "sa-uid",
                                .expiration_seconds = 600,
                                .bound_kind = "Pod",
                                .bound_name = "web-1",
                                .bound_uid = "pod-uid",
                                .now = now};
  char *token = satoken_issue(t, &req, &err);
  CHECK(token != NULL);
  struct satoken_subject who;
  CHECK_INT(satoken_validate(t, token, now + 10, &who, &err), 0);
  CHECK_STR(who.ns, "team");
  CHECK_STR(who.sa_name, "robot");
  CHECK_STR(who.sa_uid, "sa-uid");
  CHECK_STR(who.bound_kind, "Pod");
  CHECK_STR(who.bound_name, "web-1");
  CHECK_STR(who.bound_uid, "pod-uid");
  CHECK_INT((long long)who.expires, (long long)(now + 600));
  /* expired (past the minute of leeway), and not yet valid */
  CHECK_INT(satoken_validate(t, token, now + 600 + 61, &who, &err), -1);
  CHECK(strstr(err.message, "expired") != NULL);
  k8c_err_clear(&err);
  CHECK_INT(satoken_validate(t, token, now - 120, &who, &err), -1);
  k8c_err_clear(&err);
  free(token);

  /* a token for another audience does not authenticate to the API server */
  const char *aud[] = {"vault", NULL};
  req.audiences = aud;
  token = satoken_issue(t, &req, &err);
  CHECK_INT(satoken_validate(t, token, now, &who, &err), -1);
  CHECK(strstr(err.message, "audiences") != NULL);
  k8c_err_clear(&err);
  free(token);

  /* another issuer with the same key */
  struct satoken_issuer *elsewhere = satoken_issuer_new(pem, "https://other.example", &err);
  req.audiences = NULL;
  token = satoken_issue(elsewhere, &req, &err);
  CHECK_INT(satoken_validate(t, token, now, &who, &err), -1);
  CHECK(strstr(err.message, "issuer") != NULL);
  k8c_err_clear(&err);
  free(token);
  satoken_issuer_free(elsewhere);
  satoken_issuer_free(t);
  free(pem);
}

TEST_MAIN()
