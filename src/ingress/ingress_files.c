/* ingress_files.c — the controller's state directory: tls/ holds certificate+key files
 * (0600, written atomically, rewritten only when a Secret's content changes), tmp/ is
 * nginx's temp space, owned by the unprivileged worker user when we run as root. */
#include "ingress/ingress_internal.h"

#include "apiserver/pki_cert.h"
#include "apiserver/secure_file.h"
#include "ingress/ingress_render.h"
#include "lib/mem.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAKE_CERT_CN "Kubernetes Ingress Controller Fake Certificate"

int
ingress_files_prepare(const char *state_dir, char **worker_user, k8c_err *err)
{
  *worker_user = NULL;
  char *tls = xasprintf("%s/tls", state_dir);
  char *tmp = xasprintf("%s/tmp", state_dir);
  int rc = -1;
  if (secure_mkdir_p(state_dir, 0711, err) < 0 || chmod(state_dir, 0711) < 0 ||
      secure_mkdir_p(tls, 0700, err) < 0 || secure_mkdir_p(tmp, 0700, err) < 0) {
    if (err->status == 0)
      k8c_error(err, 500, K8C_REASON_INTERNAL, "%s: %s", state_dir, strerror(errno));
    goto out;
  }
  if (geteuid() == 0) {
    struct passwd *pw = getpwnam("nobody");
    struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
    if (pw && gr) {
      if (chown(tmp, pw->pw_uid, pw->pw_gid) < 0) {
        k8c_error(err, 500, K8C_REASON_INTERNAL, "chown %s: %s", tmp, strerror(errno));
        goto out;
      }
      *worker_user = xasprintf("%s %s", pw->pw_name, gr->gr_name);
    }
  }
  rc = 0;
out:
  free(tls);
  free(tmp);
  return rc;
}

int
ingress_files_default_cert(const char *state_dir, k8c_err *err)
{
  char *path = ingress_cert_path(state_dir, NULL);
  if (secure_file_exists(path)) {
    free(path);
    return 0;
  }
  time_t now = time(NULL);
  static const char *const dns[] = {"ingress.local", NULL};
  struct pki_cert_spec spec = {.cn = FAKE_CERT_CN,
                               .usage = PKI_USAGE_SERVER,
                               .san_dns = dns,
                               .not_before = now - 3600,
                               .not_after = now + 10 * 365 * 86400L};
  struct pki_keypair kp = {0};
  char *cert = NULL, *key = NULL;
  int rc = -1;
  if (pki_cert_create(&spec, NULL, &kp, err) < 0 || pki_keypair_export(&kp, &cert, &key, err) < 0)
    goto out;
  char *pem = xasprintf("%s%s", cert, key);
  rc = secure_write_file(path, pem, strlen(pem), 0600, err);
  secure_free_secret(pem);
out:
  pki_keypair_clear(&kp);
  free(cert);
  secure_free_secret(key);
  free(path);
  return rc < 0 ? k8c_err_prefix(err, "default certificate: ") : 0;
}

static bool
file_has(const char *path, const char *content)
{
  char *old = NULL;
  size_t len = 0;
  k8c_err err = {0};
  bool same = secure_read_file(path, &old, &len, &err) == 1 && strcmp(old, content) == 0;
  k8c_err_clear(&err);
  secure_free_secret(old);
  return same;
}

int
ingress_files_certs(const char *state_dir, const struct ingress_model *m, k8c_err *err)
{
  for (size_t i = 0; i < m->n_certs; i++) {
    char *path = ingress_cert_path(state_dir, m->certs[i].secret);
    int rc = file_has(path, m->certs[i].pem)
                 ? 0
                 : secure_write_file(path, m->certs[i].pem, strlen(m->certs[i].pem), 0600, err);
    free(path);
    if (rc < 0)
      return rc;
  }
  return 0;
}

void
ingress_files_prune(const char *state_dir, const struct ingress_model *m)
{
  char *dir = xasprintf("%s/tls", state_dir);
  DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    const char *dot = strrchr(de->d_name, '.');
    if (dot == NULL || strcmp(dot, ".pem") != 0 || strcmp(de->d_name, "default.pem") == 0)
      continue;
    bool used = false;
    for (size_t i = 0; i < m->n_certs && !used; i++) {
      char *path = ingress_cert_path(state_dir, m->certs[i].secret);
      used = strcmp(strrchr(path, '/') + 1, de->d_name) == 0;
      free(path);
    }
    if (!used) {
      char *path = xasprintf("%s/%s", dir, de->d_name);
      (void)unlink(path);
      free(path);
    }
  }
  if (d)
    closedir(d);
  free(dir);
}
