#!/usr/bin/env bash
# Brings up what the docker executor's tests need, idempotently (quick when already up), offline:
#   1. Docker Engine from Debian's docker.io, started in the background (no systemd here), with the
#      overlay2 storage driver when the kernel can mount overlay file systems here, else vfs (which
#      copies an image's whole file system for every container: about 1 s per helper container).
#      FLOTILLA_DOCKER_STORAGE_DRIVER=vfs (or overlay2) forces a driver. It only applies when this
#      script starts the engine: a running engine keeps its driver (the log says which);
#   2. a local registry (Debian's docker-registry) on 127.0.0.1:5000;
#   3. the test images, built from this machine's own binaries (images/*/build.sh), rebuilt only
#      when their inputs changed (the input hash is a label on each image), and pushed to the registry.
# State (logs, registry storage, root file systems) lives in $FLOTILLA_DOCKER_STATE.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE="${FLOTILLA_DOCKER_STATE:-/var/lib/flotilla-docker-env}"
REGISTRY_ADDR="${FLOTILLA_REGISTRY:-127.0.0.1:5000}"
DATA_ROOT=/var/lib/docker
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

# DOCKER_HOST=unix://PATH points this script at another engine, which must be up (the image builds
# use the docker CLI, which follows any DOCKER_HOST).
SOCKET=/var/run/docker.sock
case "${DOCKER_HOST:-}" in unix://*) SOCKET="${DOCKER_HOST#unix://}" ;; esac
engine_up() { curl -sf --max-time 2 --unix-socket "$SOCKET" http://localhost/_ping >/dev/null 2>&1; }

# True when an overlay file system mounts in a scratch folder on the data root's file system (as
# overlay2 would mount it): not in some containers, nor on a data root that is itself overlay.
overlay_mounts() {
  local dir ok=1
  mkdir -p "$DATA_ROOT"
  dir="$(mktemp -d "$DATA_ROOT/overlay-probe.XXXXXX")" || return 1
  mkdir -p "$dir/lower" "$dir/upper" "$dir/work" "$dir/merged"
  if mount -t overlay overlay -o "lowerdir=$dir/lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged" 2>/dev/null; then
    ok=0
    umount "$dir/merged" 2>/dev/null || ok=1
  fi
  rm -rf "$dir"
  return "$ok"
}

# Starts dockerd with storage driver $1; true when it answers.
start_dockerd() {
  rm -f /var/run/docker.pid
  setsid nohup dockerd --iptables=false --bridge=none --storage-driver="$1" >>"$STATE/dockerd.log" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 100); do
    engine_up && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  engine_up && return 0
  kill "$pid" 2>/dev/null || true
  return 1
}

if ! engine_up; then
  [ "$SOCKET" = /var/run/docker.sock ] || die "no Docker Engine answers on $SOCKET (DOCKER_HOST); start it first"
  driver="${FLOTILLA_DOCKER_STORAGE_DRIVER:-}"
  case "$driver" in
    vfs | overlay2) log "storage driver $driver (FLOTILLA_DOCKER_STORAGE_DRIVER)" ;;
    "")
      if overlay_mounts; then
        driver=overlay2
        log "storage driver overlay2 (an overlay mount works on $DATA_ROOT)"
      else
        driver=vfs
        log "storage driver vfs (overlay does not mount on $DATA_ROOT; vfs copies each image per container)"
      fi
      ;;
    *) die "FLOTILLA_DOCKER_STORAGE_DRIVER=$driver: use vfs or overlay2" ;;
  esac
  log "starting dockerd with --storage-driver=$driver (log: $STATE/dockerd.log)"
  if ! start_dockerd "$driver"; then
    if [ "$driver" = overlay2 ] && [ -z "${FLOTILLA_DOCKER_STORAGE_DRIVER:-}" ]; then
      tail -5 "$STATE/dockerd.log" >&2
      log "dockerd did not start with overlay2: falling back to vfs"
      driver=vfs
      start_dockerd vfs || { tail -20 "$STATE/dockerd.log" >&2; die "dockerd did not answer on $SOCKET"; }
    else
      tail -20 "$STATE/dockerd.log" >&2
      die "dockerd (--storage-driver=$driver) did not answer on $SOCKET"
    fi
  fi
fi
log "Docker Engine is up: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), storage driver $(docker info --format '{{.Driver}}')"

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
