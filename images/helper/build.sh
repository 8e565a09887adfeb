#!/usr/bin/env bash
# flotilla-helper:<version> (and :latest): the helper program (dist/helper/main.js and the compiled
# modules it imports) with this machine's node, git (+ git-core) and a busybox shell. Also pushed to
# $REGISTRY/flotilla-helper:<version> so that remote engines can pull it. Needs `npm run build` first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lib.sh"
project="$(cd "$here/../.." && pwd)"
cd "$project"

version="$(node -p 'require("./package.json").version')"
image="flotilla-helper:$version"
dist_dirs=(dist/helper dist/executors dist/api dist/shared)
for d in "${dist_dirs[@]}"; do [ -d "$d" ] || { ilog "ERROR: $d is missing; run npm run build first"; exit 1; }; done
node_bin="$(command -v node)"
git_core="$(git --exec-path)"
mapfile -t modules < <(node "$here/node-deps.mjs" $(grep -v '^#' "$here/packages.txt"))

hash="$(inputs_hash "$here" "$here/../lib.sh" "${dist_dirs[@]}" "${modules[@]}" "$node_bin" "$(command -v git)" /bin/busybox)"
if ! image_current "$image" "$hash"; then
  root="$STATE/rootfs/helper"
  rm -rf "$root" && mkdir -p "$root"
  install_busybox "$root"
  copy_with_libs "$node_bin" "$root"
  [ "$node_bin" = /usr/local/bin/node ] || { mkdir -p "$root/usr/local/bin"; ln -sf "$node_bin" "$root/usr/local/bin/node"; }
  copy_with_libs "$(command -v git)" "$root"
  mkdir -p "$root$git_core"
  cp -a "$git_core/." "$root$git_core/"
  for f in "$git_core"/*; do
    [ -f "$f" ] && [ ! -L "$f" ] && head -c4 "$f" | grep -q 'ELF' && copy_with_libs "$f" "$root"
  done
  [ -d /usr/share/git-core/templates ] && mkdir -p "$root/usr/share/git-core" && cp -a /usr/share/git-core/templates "$root/usr/share/git-core/"
  [ -d /etc/ssl/certs ] && mkdir -p "$root/etc/ssl" && cp -aL /etc/ssl/certs "$root/etc/ssl/" 2>/dev/null || true
  app="$root/opt/flotilla"
  mkdir -p "$app/bin" "$app/dist" "$app/node_modules"
  for d in "${dist_dirs[@]}"; do cp -a "$d" "$app/dist/"; done
  for m in "${modules[@]}"; do mkdir -p "$app/$(dirname "$m")"; cp -a "$m" "$app/$m"; done
  printf '{ "name": "flotilla-helper", "version": "%s", "type": "module", "private": true }\n' "$version" >"$app/package.json"
  printf "#!/usr/bin/env node\nimport '../dist/helper/main.js';\n" >"$app/bin/flotilla-helper.js"
  chmod +x "$app/bin/flotilla-helper.js"
  ln -s /opt/flotilla/bin/flotilla-helper.js "$root/bin/flotilla-helper"
  tar -C "$root" -cf "$STATE/helper.tar" .
  docker import --change "LABEL $HASH_LABEL=$hash" --change "LABEL com.flotilla.helper.version=$version" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["sh"]' "$STATE/helper.tar" "$image" >/dev/null
  docker tag "$image" flotilla-helper:latest
  rm -rf "$root" "$STATE/helper.tar"
  ilog "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
fi
push_to_registry "$image" "flotilla-helper:$version"
