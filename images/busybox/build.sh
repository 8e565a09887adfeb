#!/usr/bin/env bash
# busybox:latest from Debian's busybox-static, also pushed as $REGISTRY/library/busybox:latest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lib.sh"

hash="$(inputs_hash "$here" "$here/../lib.sh" /bin/busybox)"
if ! image_current busybox:latest "$hash"; then
  root="$STATE/rootfs/busybox"
  rm -rf "$root" && mkdir -p "$root"
  install_busybox "$root"
  tar -C "$root" -cf "$STATE/busybox.tar" .
  docker import --change "LABEL $HASH_LABEL=$hash" --change 'CMD ["sh"]' "$STATE/busybox.tar" busybox:latest >/dev/null
  rm -rf "$root" "$STATE/busybox.tar"
  ilog "built busybox:latest"
fi
push_to_registry busybox:latest library/busybox:latest
