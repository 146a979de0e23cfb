/* pull.c — image_pull: resolve endpoints, fetch manifest (index → this platform), config
 * and layers with digest checks, then install the image.
 *
 * Endpoints are tried in order (mirrors first); the error kept for the caller is the most
 * telling one (a registry's "manifest unknown" beats a fallback's DNS failure), so
 * ErrImagePull shows what actually went wrong. Blobs are fetched once per store. */
#include "kubelet/images/auth.h"
#include "kubelet/images/images_internal.h"
#include "kubelet/images/reference.h"
#include "kubelet/images/registry_http.h"
#include "lib/log.h"
#include "lib/mem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define BLOB_ATTEMPTS 3

struct endpoint_session {
  const struct registry_endpoint *ep;
  int timeout;
  char *authorization; /* owned; NULL until a challenge was answered */
};

/* GET with one round of authentication: a 401 with a challenge is answered and the request
 * repeated once. */
static int
session_get(struct endpoint_session *s, const char *url, const char *accept,
            registry_http_sink sink, void *ctx, int64_t resume_from,
            struct registry_http_response *resp, k8c_err *err)
{
  struct registry_http_options opts = {
      .config = s->ep->config,
      .timeout_seconds = s->timeout,
      .authorization = s->authorization,
      .accept = accept,
      .resume_from = resume_from,
  };
  if (registry_http_get(url, &opts, sink, ctx, resp, err) < 0)
    return -1;
  if (resp->status != 401 || resp->www_authenticate == NULL || s->authorization != NULL)
    return 0;
  struct auth_challenge challenge;
  if (auth_challenge_parse(resp->www_authenticate, &challenge) < 0)
    return 0;
  char *authorization =
      auth_authorize(&challenge, s->ep->repository, s->ep->config, s->timeout, err);
  auth_challenge_free(&challenge);
  if (authorization == NULL)
    return -1;
  s->authorization = authorization;
  registry_http_response_free(resp);
  opts.authorization = s->authorization;
  return registry_http_get(url, &opts, sink, ctx, resp, err);
}

/* Fetches a manifest by tag or digest into *body; verifies it against want_digest when
 * that is not NULL. out_digest gets the body's digest. */
static int
fetch_manifest(struct endpoint_session *s, const char *reference, const char *want_digest,
               buf *body, char **content_type, char out_digest[DIGEST_STRING_LEN + 1], k8c_err *err)
{
  cleanup_free char *url =
      xasprintf("%s/%s/manifests/%s", s->ep->api_base, s->ep->repository, reference);
  struct registry_http_response resp;
  buf_reset(body);
  int rc = session_get(s, url, MANIFEST_ACCEPT, registry_http_sink_buf, body, 0, &resp, err);
  if (rc == 0 && (resp.status < 200 || resp.status >= 300))
    rc = registry_http_status_error(&resp, s->ep->host, err);
  else if (rc < 0)
    k8c_err_prefix(err, "%s", s->ep->host);
  if (rc == 0) {
    digest_buffer(body->data ? body->data : "", body->len, out_digest);
    const char *expected = want_digest ? want_digest : resp.content_digest;
    if (expected && digest_hex(expected) && strcmp(expected, out_digest) != 0)
      rc = k8c_error(err, 422, K8C_REASON_INVALID,
                     "%s: manifest digest mismatch: expected %s, got %s", s->ep->host, expected,
                     out_digest);
    *content_type = resp.content_type ? xstrdup(resp.content_type) : NULL;
  }
  registry_http_response_free(&resp);
  return rc;
}

struct blob_download {
  int fd;
  struct digester digest;
  int64_t written;
  int64_t expected_size; /* -1 when unknown */
  int64_t resumed_from;  /* the offset this attempt asked for */
  bool attempt_started;
  char failure[256];
};

static int
blob_sink(void *ctx, long status, const void *data, size_t len)
{
  struct blob_download *d = ctx;
  if (!d->attempt_started) {
    d->attempt_started = true;
    if (d->resumed_from > 0 && status != 206) {
      /* the registry ignored the Range: start over */
      if (ftruncate(d->fd, 0) != 0 || lseek(d->fd, 0, SEEK_SET) != 0) {
        snprintf(d->failure, sizeof(d->failure), "truncating: %s", strerror(errno));
        return -1;
      }
      digester_init(&d->digest);
      d->written = 0;
    }
  }
  if (d->expected_size >= 0 && d->written + (int64_t)len > d->expected_size) {
    snprintf(d->failure, sizeof(d->failure), "more than the %lld bytes the manifest gives",
             (long long)d->expected_size);
    return -1;
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(d->fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(d->failure, sizeof(d->failure), "writing: %s", strerror(errno));
      return -1;
    }
    p += n;
    left -= (size_t)n;
  }
  digester_update(&d->digest, data, len);
  d->written += (int64_t)len;
  return 0;
}

static int
fetch_blob(struct image_store *store, struct endpoint_session *s, const struct descriptor *desc,
           k8c_err *err)
{
  if (blob_exists(store, desc->digest))
    return 0;
  cleanup_free char *url =
      xasprintf("%s/%s/blobs/%s", s->ep->api_base, s->ep->repository, desc->digest);
  cleanup_free char *tmp = NULL;
  struct blob_download d = {.expected_size = desc->size};
  d.fd = blob_temp_open(store, &tmp, err);
  if (d.fd < 0)
    return -1;
  digester_init(&d.digest);
  int rc = -1;
  for (int attempt = 0; attempt < BLOB_ATTEMPTS; attempt++) {
    int64_t before = d.written;
    d.resumed_from = d.written;
    d.attempt_started = false;
    d.failure[0] = '\0';
    struct registry_http_response resp;
    k8c_err_clear(err);
    rc = session_get(s, url, NULL, blob_sink, &d, d.written, &resp, err);
    if (rc == 0 && (resp.status < 200 || resp.status >= 300)) {
      rc = registry_http_status_error(&resp, s->ep->host, err);
      registry_http_response_free(&resp);
      break; /* the registry answered: retrying will not change its mind */
    }
    registry_http_response_free(&resp);
    if (d.failure[0] != '\0') {
      rc = k8c_error(err, 422, K8C_REASON_INVALID, "%s: blob %s: %s", s->ep->host, desc->digest,
                     d.failure);
      break;
    }
    if (rc == 0)
      break;
    k8c_err_prefix(err, "%s: blob %s", s->ep->host, desc->digest);
    if (d.written == before)
      break; /* no progress: the registry is not going to deliver */
    log_info("images: resuming blob %s at %lld bytes", desc->digest, (long long)d.written);
  }
  close(d.fd);
  if (rc < 0) {
    unlink(tmp);
    return -1;
  }
  if (d.expected_size >= 0 && d.written != d.expected_size) {
    unlink(tmp);
    return k8c_error(err, 422, K8C_REASON_INVALID, "%s: blob %s: got %lld bytes, expected %lld",
                     s->ep->host, desc->digest, (long long)d.written, (long long)d.expected_size);
  }
  char actual[DIGEST_STRING_LEN + 1];
  digester_final(&d.digest, actual);
  if (blob_commit(store, tmp, desc->digest, actual, err) < 0)
    return k8c_err_prefix(err, "%s: blob %s", s->ep->host, desc->digest);
  return 0;
}

/* Fetches everything the image needs from one endpoint; *manifest_digest (caller frees)
 * names the platform manifest now in the blob store, *resolved_digest what the reference
 * resolved to (the index's digest for a multi-platform image: what RepoDigests show). */
static int
pull_from_endpoint(struct image_store *store, const struct image_ref *ref,
                   struct endpoint_session *s, char **manifest_digest, char **resolved_digest,
                   k8c_err *err)
{
  buf body;
  buf_init(&body);
  cleanup_free char *content_type = NULL;
  char digest[DIGEST_STRING_LEN + 1] = "";
  int rc = fetch_manifest(s, image_ref_manifest_ref(ref), ref->digest, &body, &content_type, digest,
                          err);
  char resolved[DIGEST_STRING_LEN + 1];
  memcpy(resolved, digest, sizeof(resolved));
  json_t *doc = NULL;
  if (rc == 0) {
    doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
    if (!json_is_object(doc))
      rc = k8c_error(err, 422, K8C_REASON_INVALID, "%s: manifest is not JSON", s->ep->host);
  }
  if (rc == 0 && manifest_is_index(content_type, doc)) {
    cleanup_free char *chosen = manifest_index_select(doc, err);
    json_decref(doc);
    doc = NULL;
    free(content_type);
    content_type = NULL;
    rc = chosen ? fetch_manifest(s, chosen, chosen, &body, &content_type, digest, err) : -1;
    if (rc == 0) {
      doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
      if (!json_is_object(doc) || manifest_is_index(content_type, doc))
        rc = k8c_error(err, 422, K8C_REASON_INVALID,
                       "%s: platform manifest is not an image manifest", s->ep->host);
    }
  }
  struct manifest m = {0};
  if (rc == 0)
    rc = manifest_parse(doc, &m, err);
  json_decref(doc);
  char stored[DIGEST_STRING_LEN + 1];
  if (rc == 0)
    rc = blob_put(store, body.data ? body.data : "", body.len, stored, err);
  buf_free(&body);
  if (rc == 0)
    rc = fetch_blob(store, s, &m.config, err);
  for (size_t i = 0; rc == 0 && i < m.n_layers; i++)
    rc = fetch_blob(store, s, &m.layers[i], err);
  manifest_free(&m);
  if (rc == 0) {
    *manifest_digest = xstrdup(digest);
    *resolved_digest = xstrdup(resolved);
  }
  return rc;
}

/* Which of two endpoint errors says more: content problems, then the registry's own
 * refusals, then transport failures. */
static int
error_rank(const k8c_err *e)
{
  switch (e->status) {
  case 422:
    return 3;
  case 401:
  case 403:
  case 404:
  case 429:
    return 2;
  default:
    return 1;
  }
}

struct image_info *
image_pull(struct image_store *store, const char *ref_text, const struct image_pull_options *opts,
           k8c_err *err)
{
  struct image_ref ref;
  if (image_ref_parse(ref_text, &ref, err) < 0)
    return NULL;
  cleanup_free char *name = image_ref_string(&ref);
  struct registry_endpoint *endpoints = NULL;
  size_t n_endpoints = 0;
  if (registries_endpoints(opts ? opts->registries : NULL, &ref,
                           !(opts && opts->disable_default_endpoint), &endpoints, &n_endpoints,
                           err) < 0) {
    image_ref_free(&ref);
    return NULL;
  }
  int pull_lock = store_pull_lock(store, err);
  if (pull_lock < 0) {
    registry_endpoints_free(endpoints, n_endpoints);
    image_ref_free(&ref);
    return NULL;
  }
  k8c_err best = {0};
  cleanup_free char *manifest_digest = NULL;
  cleanup_free char *resolved_digest = NULL;
  for (size_t i = 0; i < n_endpoints && manifest_digest == NULL; i++) {
    struct endpoint_session s = {
        .ep = &endpoints[i],
        .timeout = opts && opts->timeout_seconds > 0 ? opts->timeout_seconds : 30,
    };
    k8c_err attempt = {0};
    if (pull_from_endpoint(store, &ref, &s, &manifest_digest, &resolved_digest, &attempt) < 0) {
      log_debug("images: %s from %s: %s", name, endpoints[i].api_base, attempt.message);
      if (best.status == 0 || error_rank(&attempt) > error_rank(&best))
        k8c_err_move(&best, &attempt);
      k8c_err_clear(&attempt);
    }
    free(s.authorization);
  }
  struct image_info *info = NULL;
  if (manifest_digest != NULL) {
    cleanup_free char *repo = image_ref_repository(&ref);
    cleanup_free char *repo_digest = xasprintf("%s@%s", repo, resolved_digest);
    cleanup_free char *tag_name = ref.tag ? xasprintf("%s:%s", repo, ref.tag) : NULL;
    const char *names[] = {tag_name, NULL};
    const char *digests[] = {repo_digest, NULL};
    info = image_install(store, manifest_digest, names, digests, err);
    if (info == NULL)
      k8c_err_prefix(err, "image \"%s\"", name);
  } else {
    if (err != NULL)
      k8c_err_move(err, &best);
    k8c_err_prefix(err, "image \"%s\"", name);
  }
  k8c_err_clear(&best);
  store_unlock(pull_lock);
  registry_endpoints_free(endpoints, n_endpoints);
  image_ref_free(&ref);
  return info;
}
