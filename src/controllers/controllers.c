/* controllers.c — the table of controllers `k8c server` runs. Each controller's file
 * defines its `const struct controller_def`; adding one is one line here. */
#include "controllers/controller.h"
#include "controllers/garbagecollector.h"
#include "controllers/namespace.h"
#include "controllers/rootcacert.h"
#include "controllers/serviceaccount.h"

#include <stddef.h>

extern const struct controller_def replicaset_controller_def;
extern const struct controller_def deployment_controller_def;
extern const struct controller_def endpointslice_controller_def;
extern const struct controller_def endpoints_controller_def;
extern const struct controller_def nodelifecycle_controller_def;
extern const struct controller_def nodeipam_controller_def;
extern const struct controller_def statefulset_controller_def;
extern const struct controller_def daemonset_controller_def;
extern const struct controller_def servicelb_controller_def; /* src/proxy/servicelb.c */
extern const struct controller_def job_controller_def;
extern const struct controller_def cronjob_controller_def;

/* clang-format off */
const struct controller_def *const controllers_table[] = {
    &garbagecollector_controller,
    &namespace_controller,
    &serviceaccount_controller,
    &rootcacert_controller,
    &replicaset_controller_def,
    &deployment_controller_def,
    &endpointslice_controller_def,
    &endpoints_controller_def,
    &nodelifecycle_controller_def,
    &nodeipam_controller_def,
    &servicelb_controller_def,
    &statefulset_controller_def,
    &daemonset_controller_def,
    &job_controller_def,
    &cronjob_controller_def,
    NULL,
};
/* clang-format on */
