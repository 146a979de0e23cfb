/* serviceaccount_token_test.c — TokenRequest, token authentication and ServiceAccount
 * admission on a real registry: what a token says, when it stops working (its
 * ServiceAccount or bound pod gone or replaced), the errors upstream gives, and the
 * kube-api-access volume pods get. */
#include "auth/jwt.h"
#include "auth/satoken.h"
#include "client_fixture.h"
#include "lib/mem.h"
#include "registry/core/serviceaccount_token.h"

#include <stdlib.h>
#include <string.h>

struct sa_fixture {
  struct client_fixture f;
  struct satoken_issuer *issuer;
  const struct api_resource *sas, *pods;
};

static void
sa_open(struct sa_fixture *x)
{
  CHECK_INT(client_fixture_open(&x->f), 0);
  char *pem = NULL;
  k8c_err err = {0};
  CHECK_INT(jwt_generate_key(&pem, &err), 0);
  x->issuer = satoken_issuer_new(pem, NULL, &err);
  free(pem);
  CHECK(x->issuer != NULL);
  x->f.reg.token_issuer = x->issuer;
  x->sas = api_resource_find("", "v1", "serviceaccounts");
  x->pods = api_resource_find("", "v1", "pods");
}

static void
sa_close(struct sa_fixture *x)
{
  client_fixture_close(&x->f);
  satoken_issuer_free(x->issuer);
}

static json_t *
create(struct sa_fixture *x, const struct api_resource *res, const char *text, k8c_err *err)
{
  json_t *obj = json_of(text), *out = NULL;
  client_create(x->f.client, res, "default", obj, NULL, &out, err);
  json_decref(obj);
  return out;
}

static json_t *
token_request(struct sa_fixture *x, const char *sa, const char *spec_json, k8c_err *err)
{
  char text[512];
  snprintf(text, sizeof text,
           "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":%s}",
           spec_json);
  json_t *req = json_of(text), *out = NULL;
  client_request_token(x->f.client, "default", sa, req, &out, err);
  json_decref(req);
  return out;
}

static const char *
token_of(const json_t *answer)
{
  return json_string_value(json_object_get(json_object_get(answer, "status"), "token"));
}

TEST(token_request_and_authentication)
{
  struct sa_fixture x;
  sa_open(&x);
  k8c_err err = {0};
  json_t *sa = create(&x, x.sas, "{\"metadata\":{\"name\":\"robot\"}}", &err);
  CHECK(sa != NULL);
  json_t *answer = token_request(&x, "robot", "{}", &err);
  CHECK(answer != NULL);
  CHECK_STR(json_string_value(json_object_get(answer, "kind")), "TokenRequest");
  CHECK_INT(
      json_integer_value(json_object_get(json_object_get(answer, "spec"), "expirationSeconds")),
      3600);
  CHECK(json_string_value(
            json_object_get(json_object_get(answer, "status"), "expirationTimestamp")) != NULL);
  struct satoken_subject who;
  CHECK_INT(registry_token_authenticate(&x.f.reg, token_of(answer), &who, &err), 0);
  CHECK_STR(who.sa_name, "robot");
  CHECK_STR(who.sa_uid, json_string_value(json_object_get(json_object_get(sa, "metadata"), "uid")));

  /* the ServiceAccount deleted and made again: the old token no longer authenticates */
  CHECK_INT(client_delete(x.f.client, x.sas, "default", "robot", NULL, NULL, NULL, &err), 0);
  json_decref(create(&x, x.sas, "{\"metadata\":{\"name\":\"robot\"}}", &err));
  CHECK_INT(registry_token_authenticate(&x.f.reg, token_of(answer), &who, &err), -1);
  CHECK_INT(err.status, 401);
  k8c_err_clear(&err);
  json_decref(answer);
  json_decref(sa);

  /* upstream's errors */
  CHECK(token_request(&x, "robot", "{\"expirationSeconds\":599}", &err) == NULL);
  CHECK_INT(err.status, 422);
  CHECK(strstr(err.message, "may not specify a duration less than 10 minutes") != NULL);
  k8c_err_clear(&err);
  CHECK(token_request(&x, "ghost", "{}", &err) == NULL);
  CHECK_INT(err.status, 404);
  CHECK_STR(err.message, "serviceaccounts \"ghost\" not found");
  k8c_err_clear(&err);
  CHECK(token_request(&x, "robot", "{\"boundObjectRef\":{\"kind\":\"Node\",\"name\":\"n\"}}",
                      &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  sa_close(&x);
}

TEST(bound_pod_tokens_and_admission)
{
  struct sa_fixture x;
  sa_open(&x);
  k8c_err err = {0};
  json_decref(create(&x, x.sas, "{\"metadata\":{\"name\":\"default\"}}", &err));
  json_t *pod =
      create(&x, x.pods,
             "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[{\"name\":\"c\","
             "\"image\":\"nginx\"}],\"initContainers\":[{\"name\":\"i\",\"image\":\"busybox\"}]}}",
             &err);
  CHECK(pod != NULL);
  json_t *spec = json_object_get(pod, "spec");
  CHECK_STR(json_string_value(json_object_get(spec, "serviceAccountName")), "default");
  json_t *vol = json_array_get(json_object_get(spec, "volumes"), 0);
  const char *vname = json_string_value(json_object_get(vol, "name"));
  CHECK(vname != NULL && strncmp(vname, "kube-api-access-", 16) == 0 && strlen(vname) == 21);
  json_t *sources = json_object_get(json_object_get(vol, "projected"), "sources");
  CHECK_INT(json_array_size(sources), 3);
  CHECK_INT(
      json_integer_value(json_object_get(
          json_object_get(json_array_get(sources, 0), "serviceAccountToken"), "expirationSeconds")),
      3607);
  static const char *const lists[] = {"containers", "initContainers"};
  for (int i = 0; i < 2; i++) {
    json_t *mount = json_array_get(
        json_object_get(json_array_get(json_object_get(spec, lists[i]), 0), "volumeMounts"), 0);
    CHECK_STR(json_string_value(json_object_get(mount, "mountPath")),
              "/var/run/secrets/kubernetes.io/serviceaccount");
    CHECK(json_is_true(json_object_get(mount, "readOnly")));
  }

  /* a token bound to the pod: the kubelet's lifetime is extended to a year */
  const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
  char spec_json[256];
  snprintf(spec_json, sizeof spec_json,
           "{\"expirationSeconds\":3607,\"boundObjectRef\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
           "\"name\":\"web\",\"uid\":\"%s\"}}",
           uid);
  json_t *answer = token_request(&x, "default", spec_json, &err);
  CHECK(answer != NULL);
  struct satoken_subject who;
  CHECK_INT(registry_token_authenticate(&x.f.reg, token_of(answer), &who, &err), 0);
  CHECK_STR(who.bound_kind, "Pod");
  CHECK_STR(who.bound_uid, uid);
  CHECK(who.expires - time(NULL) > 300 * 24 * 3600);
  /* a wrong uid is a conflict; another ServiceAccount cannot bind to this pod */
  CHECK(token_request(&x, "default",
                      "{\"boundObjectRef\":{\"kind\":\"Pod\",\"name\":\"web\",\"uid\":\"nope\"}}",
                      &err) == NULL);
  CHECK_INT(err.status, 409);
  k8c_err_clear(&err);
  json_decref(create(&x, x.sas, "{\"metadata\":{\"name\":\"other\"}}", &err));
  CHECK(token_request(&x, "other", "{\"boundObjectRef\":{\"kind\":\"Pod\",\"name\":\"web\"}}",
                      &err) == NULL);
  CHECK_INT(err.status, 400);
  k8c_err_clear(&err);
  /* the pod gone: its token is refused */
  json_t *opts = json_of("{\"gracePeriodSeconds\":0}");
  CHECK_INT(client_delete(x.f.client, x.pods, "default", "web", opts, NULL, NULL, &err), 0);
  json_decref(opts);
  CHECK_INT(registry_token_authenticate(&x.f.reg, token_of(answer), &who, &err), -1);
  CHECK_INT(err.status, 401);
  k8c_err_clear(&err);
  json_decref(answer);
  json_decref(pod);

  /* automount switched off on the ServiceAccount; a missing named account is refused */
  json_decref(create(&x, x.sas,
                     "{\"metadata\":{\"name\":\"quiet\"},\"automountServiceAccountToken\":false}",
                     &err));
  pod = create(&x, x.pods,
               "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"serviceAccountName\":\"quiet\","
               "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}",
               &err);
  CHECK(pod != NULL && json_object_get(json_object_get(pod, "spec"), "volumes") == NULL);
  json_decref(pod);
  CHECK(create(&x, x.pods,
               "{\"metadata\":{\"name\":\"g\"},\"spec\":{\"serviceAccountName\":\"ghost\","
               "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}",
               &err) == NULL);
  CHECK_INT(err.status, 403);
  CHECK(strstr(err.message, "error looking up service account default/ghost") != NULL);
  k8c_err_clear(&err);
  sa_close(&x);
}

static char *
token_volume_of(const json_t *pod)
{
  json_t *vols = json_object_get(json_object_get(pod, "spec"), "volumes");
  size_t i;
  json_t *v;
  json_array_foreach (vols, i, v) {
    const char *name = json_string_value(json_object_get(v, "name"));
    if (name && strncmp(name, "kube-api-access-", 16) == 0)
      return xstrdup(name);
  }
  return NULL;
}

/* The pods of one ServiceAccount get the same token volume name (a function of the
 * account's uid), another account another one; a pod whose own volume has that name
 * gets a different one. */
TEST(token_volume_names_follow_the_service_account)
{
  struct sa_fixture x;
  sa_open(&x);
  k8c_err err = {0};
  json_decref(create(&x, x.sas, "{\"metadata\":{\"name\":\"default\"}}", &err));
  json_decref(create(&x, x.sas, "{\"metadata\":{\"name\":\"robot\"}}", &err));
  static const char *const pods[] = {
      "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}"
      "}",
      "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"containers\":[{\"name\":\"d\",\"image\":\"y\"}]}"
      "}",
      "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"serviceAccountName\":\"robot\",\"containers\":[{"
      "\"name\":\"c\",\"image\":\"x\"}]}}",
  };
  char *names[3];
  for (int i = 0; i < 3; i++) {
    json_t *pod = create(&x, x.pods, pods[i], &err);
    CHECK(pod != NULL);
    names[i] = token_volume_of(pod);
    CHECK(names[i] != NULL && strlen(names[i]) == 21);
    json_decref(pod);
  }
  CHECK_STR(names[0], names[1]);
  CHECK(strcmp(names[0], names[2]) != 0);
  char body[256];
  snprintf(
      body, sizeof body,
      "{\"metadata\":{\"name\":\"own\"},\"spec\":{\"volumes\":[{\"name\":\"%s\",\"emptyDir\":{}}],"
      "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
      names[0]);
  json_t *pod = create(&x, x.pods, body, &err);
  CHECK(pod != NULL);
  char *own = token_volume_of(pod); /* the first kube-api-access-* volume is the pod's own */
  CHECK_STR(own, names[0]);
  free(own);
  json_t *vols = json_object_get(json_object_get(pod, "spec"), "volumes");
  CHECK_INT((int)json_array_size(vols), 2);
  const char *added = json_string_value(json_object_get(json_array_get(vols, 1), "name"));
  CHECK(added != NULL && strncmp(added, "kube-api-access-", 16) == 0 &&
        strcmp(added, names[0]) != 0);
  json_decref(pod);
  for (int i = 0; i < 3; i++)
    free(names[i]);
  sa_close(&x);
}

TEST_MAIN()
