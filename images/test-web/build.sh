#!/usr/bin/env bash
# flotilla-test/web:latest: busybox httpd serving /www on port 80 (EXPOSE 80), a service for tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lib.sh"

hash="$(inputs_hash "$here" "$here/../lib.sh" /bin/busybox)"
if ! image_current flotilla-test/web:latest "$hash"; then
  root="$STATE/rootfs/test-web"
  rm -rf "$root" && mkdir -p "$root/www"
  install_busybox "$root"
  echo 'hello from the web service' >"$root/www/index.html"
  tar -C "$root" -cf "$STATE/test-web.tar" .
  docker import --change "LABEL $HASH_LABEL=$hash" --change 'EXPOSE 80' \
    --change 'CMD ["httpd", "-f", "-v", "-p", "80", "-h", "/www"]' "$STATE/test-web.tar" flotilla-test/web:latest >/dev/null
  rm -rf "$root" "$STATE/test-web.tar"
  ilog "built flotilla-test/web:latest"
fi
