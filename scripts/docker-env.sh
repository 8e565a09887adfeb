#!/usr/bin/env bash
# Brings up what the docker executor's tests need, idempotently (quick when already up), offline:
#   1. Docker Engine from Debian's docker.io, started in the background (no systemd here);
#   2. a local registry (Debian's docker-registry) on 127.0.0.1:5000;
#   3. the test images, built from this machine's own binaries (images/*/build.sh), rebuilt only
#      when their inputs changed (the input hash is a label on each image), and pushed to the registry.
# State (logs, registry storage, root file systems) lives in $FLOTILLA_DOCKER_STATE.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE="${FLOTILLA_DOCKER_STATE:-/var/lib/flotilla-docker-env}"
REGISTRY_ADDR="127.0.0.1:5000"
mkdir -p "$STATE"
export FLOTILLA_DOCKER_STATE="$STATE" FLOTILLA_REGISTRY="$REGISTRY_ADDR"

log() { printf '[docker-env] %s\n' "$*"; }
die() { log "ERROR: $*"; exit 1; }

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && { ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic' || need+=(busybox-static)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v git >/dev/null 2>&1 || need+=(git)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

engine_up() { curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }
if ! engine_up; then
  log "starting dockerd (log: $STATE/dockerd.log)"
  rm -f /var/run/docker.pid
  setsid nohup dockerd --iptables=false --bridge=none --storage-driver=vfs >>"$STATE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 100); do engine_up && break; sleep 0.2; done
  engine_up || { tail -20 "$STATE/dockerd.log" >&2; die "dockerd did not answer on /var/run/docker.sock"; }
fi
log "Docker Engine is up: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

registry_up() { curl -sf --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }
if ! registry_up; then
  log "starting the registry on $REGISTRY_ADDR (log: $STATE/registry.log)"
  mkdir -p "$STATE/registry"
  cat >"$STATE/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
  setsid nohup docker-registry serve "$STATE/registry.yml" >>"$STATE/registry.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do registry_up && break; sleep 0.2; done
  registry_up || { tail -20 "$STATE/registry.log" >&2; die "the registry did not answer on $REGISTRY_ADDR"; }
fi
log "registry is up on $REGISTRY_ADDR"

if [ ! -f dist/helper/main.js ]; then
  log "dist/helper/main.js is missing: building the project"
  npm run build >/dev/null || log "the build reported errors (continuing with what it emitted)"
  [ -f dist/helper/main.js ] || die "dist/helper/main.js was not built"
fi

bash images/busybox/build.sh
bash images/test-web/build.sh
bash images/helper/build.sh
log "ready"
