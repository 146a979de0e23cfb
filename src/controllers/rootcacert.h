/* rootcacert.h — the root CA publisher (rootcacert.c): a kube-root-ca.crt ConfigMap
 * with the cluster CA in every active namespace. Runs only when controller_config
 * names a root_ca_pem. */
#ifndef K8C_CONTROLLERS_ROOTCACERT_H
#define K8C_CONTROLLERS_ROOTCACERT_H

#include "controllers/controller.h"

extern const struct controller_def rootcacert_controller;

#endif
