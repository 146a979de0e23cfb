#!/usr/bin/env bash
# Jobs and CronJobs through the real kubectl on simulated nodes (their pods exit when the
# k8c.io/simulate-exit-* annotations say, as a kubelet would report them): a Job with
# completions 3 and parallelism 2 completes (`kubectl wait --for=condition=complete`,
# COMPLETIONS 3/3), a failing Job stops at BackoffLimitExceeded after one back-off,
# ttlSecondsAfterFinished removes a finished Job with its pods, `kubectl create job
# --from=cronjob/...` works, and a "*/1 * * * *" CronJob creates its Job within ~65 s.
source "$(dirname "$0")/lib.sh"
server_start --simulate 2
T0=$(date +%s)

for _ in $(seq 1 100); do
  n=$(kc 1.33 get nodes --no-headers 2>/dev/null | grep -c ' Ready ')
  [ "$n" -ge 2 ] && break
  sleep 0.1
done

# The CronJob first: its minute boundary passes while the other checks run.
cat >"$E2E_TMP/cronjob.yaml" <<'EOF2'
apiVersion: batch/v1
kind: CronJob
metadata:
  name: every-minute
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            k8c.io/simulate-exit-after-ms: "300"
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
            command: ["true"]
EOF2
kc 1.33 apply -f "$E2E_TMP/cronjob.yaml" >/dev/null

# job NAME COMPLETIONS PARALLELISM BACKOFF EXIT_CODE [TTL] — a Job whose pods exit after 300 ms.
job() {
  local ttl=""
  [ -n "${6:-}" ] && ttl="  ttlSecondsAfterFinished: $6"
  cat >"$E2E_TMP/job-$1.yaml" <<EOF2
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
  completions: $2
  parallelism: $3
  backoffLimit: $4
$ttl
  template:
    metadata:
      annotations:
        k8c.io/simulate-exit-after-ms: "300"
        k8c.io/simulate-exit-code: "$5"
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "exit $5"]
EOF2
  kc 1.33 apply -f "$E2E_TMP/job-$1.yaml" >/dev/null
}

job ok 3 2 6 0
job bad 1 1 1 1
job brief 1 1 6 0 2

out=$(kc 1.33 wait --for=condition=complete job/ok --timeout=60s 2>&1)
expect_match "wait --for=condition=complete job/ok" "$out" "condition met"
for v in $KUBECTL_VERSIONS; do
  out=$(kc "$v" get job ok)
  expect_match "[$v] get jobs: upstream columns" "$(echo "$out" | head -1)" \
    '^NAME +(STATUS +)?COMPLETIONS +DURATION +AGE$'
  expect_match "[$v] get jobs: 3/3" "$(echo "$out" | tail -1)" '^ok +(Complete +)?3/3 +[0-9]+s +'
done
out=$(kc 1.33 get pods -l batch.kubernetes.io/job-name=ok --no-headers)
expect_eq "three pods, all Completed, kept" "$(echo "$out" | awk '$3=="Completed"' | wc -l)" "3"
out=$(kc 1.33 get pods -l job-name=ok -o jsonpath='{range .items[*]}{.metadata.generateName} {.metadata.finalizers}{"\n"}{end}' | sort -u)
expect_eq "generateName ok-, tracking finalizers removed" "$out" "ok- "
out=$(kc 1.33 get job ok -o jsonpath='{.status.succeeded} {.status.failed} {.status.active} {.status.ready} {.status.conditions[*].type}')
expect_eq "status: succeeded 3, SuccessCriteriaMet and Complete" "$out" "3   0 SuccessCriteriaMet Complete"

out=$(kc 1.33 wait --for=condition=failed job/bad --timeout=60s 2>&1)
expect_match "wait --for=condition=failed job/bad" "$out" "condition met"
out=$(kc 1.33 get job bad -o jsonpath='{.status.failed} {.status.conditions[?(@.type=="Failed")].reason}')
expect_eq "failing job: 2 failures, BackoffLimitExceeded" "$out" "2 BackoffLimitExceeded"
out=$(kc 1.33 get pods -l job-name=bad --no-headers | awk '{print $3}' | sort | uniq -c | awk '{print $1, $2}')
expect_eq "failing job: two Error pods, no more" "$out" "2 Error"
out=$(kc 1.33 get events --field-selector involvedObject.name=bad -o jsonpath='{.items[*].reason}')
expect_match "events: SuccessfulCreate and BackoffLimitExceeded" "$out" \
  'SuccessfulCreate.*BackoffLimitExceeded'

# ttlSecondsAfterFinished 2: the Job and (through the garbage collector) its pod go.
gone=no
for _ in $(seq 1 150); do
  if ! kc 1.33 get job brief >/dev/null 2>&1; then gone=yes; break; fi
  sleep 0.1
done
expect_eq "ttlSecondsAfterFinished deletes the finished job" "$gone" "yes"
for _ in $(seq 1 100); do
  [ "$(kc 1.33 get pods -l job-name=brief --no-headers 2>/dev/null | wc -l)" -eq 0 ] && break
  sleep 0.1
done
expect_eq "... and its pods" "$(kc 1.33 get pods -l job-name=brief --no-headers 2>/dev/null | wc -l)" "0"

# kubectl create job --from=cronjob: client-side, owned by the CronJob.
for v in $KUBECTL_VERSIONS; do
  name=manual-${v/./-}
  out=$(kc "$v" create job "$name" --from=cronjob/every-minute 2>&1)
  expect_match "[$v] create job --from=cronjob" "$out" "job.batch/$name created"
  out=$(kc "$v" wait --for=condition=complete "job/$name" --timeout=30s 2>&1)
  expect_match "[$v] the manual job completes" "$out" "condition met"
done
out=$(kc 1.33 get job manual-1-33 -o jsonpath='{.metadata.ownerReferences[0].kind} {.metadata.annotations.cronjob\.kubernetes\.io/instantiate}')
expect_eq "manual job: owned by the CronJob, instantiate=manual" "$out" "CronJob manual"

# The scheduled run: a Job named every-minute-<minutes since the epoch>.
deadline=$((T0 + 70))
scheduled=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  scheduled=$(kc 1.33 get jobs -o jsonpath='{range .items[?(@.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp)]}{.metadata.name}{"\n"}{end}' 2>/dev/null | head -1)
  [ -n "$scheduled" ] && break
  sleep 1
done
expect_match "CronJob */1 creates its Job within the minute" "$scheduled" '^every-minute-[0-9]{8}$'
if [ -n "$scheduled" ]; then
  minutes=${scheduled#every-minute-}
  stamp=$(kc 1.33 get job "$scheduled" -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}')
  expect_eq "name = scheduled time in minutes" "$(date -u -d "$stamp" +%s)" "$((minutes * 60))"
  out=$(kc 1.33 wait --for=condition=complete "job/$scheduled" --timeout=30s 2>&1)
  expect_match "the scheduled job completes" "$out" "condition met"
  for _ in $(seq 1 50); do
    out=$(kc 1.33 get cronjob every-minute -o jsonpath='{.status.lastScheduleTime} {.status.lastSuccessfulTime}')
    [ "${out#* }" != "" ] && break
    sleep 0.2
  done
  expect_match "cronjob status: lastScheduleTime and lastSuccessfulTime" "$out" \
    "^$stamp [0-9T:-]+Z$"
  out=$(kc 1.33 get cronjob every-minute --no-headers)
  expect_match "get cronjobs: schedule and LAST SCHEDULE" "$out" \
    '^every-minute +\*/1 \* \* \* \* +<none> +False +[0-9] +[0-9]+s +'
fi
echo "took $(($(date +%s) - T0)) s"
e2e_finish
