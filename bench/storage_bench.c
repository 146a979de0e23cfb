/* storage_bench.c — creates/s of a storage backend through storage_ops, with N writer
 * threads (each create is individually acknowledged; group commit shares fsyncs).
 * Build: cc -O2 -Isrc bench/storage_bench.c build/libk8ccore.a -lsqlite3 -ljansson -lpthread
 * Run:   ./a.out ENDPOINT THREADS TOTAL_CREATES   (ENDPOINT e.g. sqlite:///tmp/b.db) */
#include "storage/storage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench_arg {
  storage *s;
  int thread;
  int count;
};

static const char value[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
    "\"default\","
    "\"uid\":\"0b1c3f0e-6c1e-4c53-9d7a-5f2f1d1e8e11\",\"labels\":{\"app\":\"bench\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";

static void *
bench_writer(void *p)
{
  struct bench_arg *a = p;
  for (int i = 0; i < a->count; i++) {
    char key[96];
    snprintf(key, sizeof key, "/registry/pods/default/bench-%d-%d", a->thread, i);
    k8c_err err = {0};
    int64_t rev;
    if (a->s->ops->create(a->s, key, value, sizeof value - 1, &rev, &err) < 0) {
      fprintf(stderr, "create: %s\n", err.message);
      exit(1);
    }
  }
  return NULL;
}

int
main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: %s ENDPOINT THREADS TOTAL\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[2]), total = atoi(argv[3]);
  k8c_err err = {0};
  storage *s = storage_open(argv[1], "/tmp", &err);
  if (!s) {
    fprintf(stderr, "open: %s\n", err.message);
    return 1;
  }
  pthread_t th[64];
  struct bench_arg args[64];
  struct timespec t0, t1;
  clock_t c0 = clock();
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int t = 0; t < threads; t++) {
    args[t] = (struct bench_arg){.s = s, .thread = t, .count = total / threads};
    pthread_create(&th[t], NULL, bench_writer, &args[t]);
  }
  for (int t = 0; t < threads; t++)
    pthread_join(th[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  int done = threads * (total / threads);
  printf("%s threads=%d creates=%d: %.0f creates/s, %.1f us CPU per create\n", argv[1], threads,
         done, done / secs, cpu * 1e6 / done);
  s->ops->destroy(s);
  return 0;
}
