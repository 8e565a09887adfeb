#!/usr/bin/env bash
# Shared helpers of the image build scripts (sourced). Images are single-layer `docker import`s of a
# root file system made from this machine's binaries: no internet, no base image.
set -euo pipefail

STATE="${FLOTILLA_DOCKER_STATE:-/var/lib/flotilla-docker-env}"
REGISTRY="${FLOTILLA_REGISTRY:-127.0.0.1:5000}"
HASH_LABEL="com.flotilla.inputs-hash"

ilog() { printf '[images] %s\n' "$*"; }

# Prints a hash of the given files and folders (names and contents).
inputs_hash() {
  find "$@" -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

# True when image $1 exists with inputs hash $2.
image_current() {
  [ "$(docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null)" = "$2" ]
}

# True when the registry holds repository $1 with tag $2.
registry_has() {
  curl -sf --max-time 5 -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$1/manifests/$2"
}

# Pushes local image $1 as $REGISTRY/$2 unless the registry has it with the same hash.
push_to_registry() {
  local local_ref="$1" remote_ref="$REGISTRY/$2"
  local repo="${2%:*}" tag="${2##*:}"
  if registry_has "$repo" "$tag" && [ -f "$STATE/pushed-$(echo "$2" | tr '/:' '__')" ] &&
    [ "$(cat "$STATE/pushed-$(echo "$2" | tr '/:' '__')")" = "$(docker image inspect -f '{{.Id}}' "$local_ref")" ]; then
    return 0
  fi
  docker tag "$local_ref" "$remote_ref"
  docker push -q "$remote_ref" >/dev/null
  docker image inspect -f '{{.Id}}' "$local_ref" >"$STATE/pushed-$(echo "$2" | tr '/:' '__')"
  ilog "pushed $remote_ref"
}

# Copies ELF file $1 and every library `ldd` lists for it into root $2, keeping their paths.
copy_with_libs() {
  local file="$1" root="$2" lib
  mkdir -p "$root$(dirname "$file")"
  cp -aL "$file" "$root$file"
  for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -aL "$lib" "$root$lib"
  done
}

# Installs a static busybox with its applet links into root $1 (bin/sh, bin/ls, ...).
install_busybox() {
  local root="$1" applet
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}
