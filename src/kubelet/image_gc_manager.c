/* image_gc_manager.c — image garbage collection on the node agent's clock: every period,
 * if the image filesystem is fuller than --image-gc-high-threshold (upstream's 85%),
 * images no pod here uses are removed, least recently used first, until usage is at or
 * below --image-gc-low-threshold (80%) (the store's image_gc does the removing).
 * "In use" is every image a pod bound here that has not finished names in its spec or
 * status, so an image pulled for a container about to start is safe too. */
#include "kubelet/kubelet_internal.h"

#include "lib/log.h"
#include "lib/mem.h"

#include <string.h>

#define DEFAULT_PERIOD_MS 10000

static void
add_images(json_t *list, const json_t *containers, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach (containers, i, c) {
    const char *image = json_string_value(json_object_get(c, field));
    if (image && *image)
      json_array_append_new(list, json_string(image));
  }
}

/* NULL-terminated names of the images in use (strings borrowed from *holder). */
static const char **
images_in_use(struct kubelet *kl, json_t **holder)
{
  json_t *names = json_array();
  json_t **pods = NULL;
  size_t n = 0;
  informer_list(kl->pod_informer, &pods, &n);
  for (size_t i = 0; i < n; i++) {
    json_t *status = json_object_get(pods[i], "status");
    const char *phase = json_string_value(json_object_get(status, "phase")) ?: "";
    if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)
      continue;
    json_t *spec = json_object_get(pods[i], "spec");
    add_images(names, json_object_get(spec, "containers"), "image");
    add_images(names, json_object_get(spec, "initContainers"), "image");
    add_images(names, json_object_get(status, "containerStatuses"), "imageID");
    add_images(names, json_object_get(status, "initContainerStatuses"), "imageID");
  }
  informer_objs_free(pods, n);
  const char **out = xcalloc(json_array_size(names) + 1, sizeof *out);
  for (size_t i = 0; i < json_array_size(names); i++)
    out[i] = json_string_value(json_array_get(names, i));
  *holder = names;
  return out;
}

void
image_gc_manager_tick(struct kubelet *kl)
{
  if (kl->images == NULL || kl->pod_informer == NULL || !kl->ready)
    return;
  int64_t now = kubelet_now_ms();
  if (now < kl->image_gc_next_ms)
    return;
  kl->image_gc_next_ms =
      now + (kl->cfg.image_gc_period_ms > 0 ? kl->cfg.image_gc_period_ms : DEFAULT_PERIOD_MS);
  int percent = 0;
  k8c_err err = {0};
  if (image_store_disk_percent(kl->images, &percent, &err) < 0) {
    log_warn("kubelet: image gc: %s", err.message);
    k8c_err_clear(&err);
    return;
  }
  if (percent <= kl->image_gc.high_percent)
    return;
  json_t *holder = NULL;
  const char **in_use = images_in_use(kl, &holder);
  size_t removed = 0;
  if (image_gc(kl->images, &kl->image_gc, in_use, &removed, &err) < 0) {
    log_warn("kubelet: image gc: %s", err.message);
    k8c_err_clear(&err);
  } else if (removed > 0) {
    log_info("kubelet: image gc removed %zu image(s) (disk %d%% > %d%%)", removed, percent,
             kl->image_gc.high_percent);
  }
  free(in_use);
  json_decref(holder);
}
