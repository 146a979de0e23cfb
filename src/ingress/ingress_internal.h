/* ingress_internal.h — helpers the controller (ingress.c) shares with its small files:
 * the IngressClass and status writer (ingress_status.c) and the files under the state
 * dir (ingress_files.c). Not for use outside src/ingress/. */
#ifndef K8C_INGRESS_INGRESS_INTERNAL_H
#define K8C_INGRESS_INGRESS_INTERNAL_H

#include "client/client.h"
#include "ingress/ingress_model.h"
#include "lib/err.h"

#include <stdbool.h>

#define INGRESS_CONTROLLER_NAME "k8s.io/ingress-nginx"
#define INGRESS_DEFAULT_CLASS_ANNOTATION "ingressclass.kubernetes.io/is-default-class"

/* Creates IngressClass class_name (controller k8s.io/ingress-nginx, marked default) if
 * it does not exist; an existing one is left as it is. */
int ingress_class_ensure(k8c_client *client, const char *class_name, k8c_err *err);

/* Whether an IngressClass object is marked default. */
bool ingress_class_is_default(const json_t *cls);

/* Sets status.loadBalancer.ingress of ing to [{ip|hostname: address}] (address NULL or
 * served false: removes the entry if it is ours). No write when nothing changes. */
int ingress_status_sync(k8c_client *client, const json_t *ing, const char *address, bool served,
                        k8c_err *err);

/* Creates STATE, STATE/tls (0700) and STATE/tmp (owned by the workers' user when
 * running as root; *worker_user then names it, else NULL; caller frees). */
int ingress_files_prepare(const char *state_dir, char **worker_user, k8c_err *err);

/* Writes STATE/tls/default.pem, a fresh self-signed certificate and key, once. */
int ingress_files_default_cert(const char *state_dir, k8c_err *err);

/* Writes each certificate of the model (0600, atomically) whose content changed. */
int ingress_files_certs(const char *state_dir, const struct ingress_model *m, k8c_err *err);

/* Removes the files of certificates m no longer uses (call once nginx runs m). */
void ingress_files_prune(const char *state_dir, const struct ingress_model *m);

#endif
