#!/usr/bin/env bash
# flotilla-helper-git:<version> (and :latest): the sources image of the docker executor. Only what
# `get_sources` needs: a busybox shell and this machine's git with its HTTP transport (no Node, no
# helper program), so that creating its container is cheap on any storage driver. The runner sends
# the stage's script on stdin (src/executors/docker/sources-script.ts). Also pushed to
# $REGISTRY/flotilla-helper-git:<version> so that remote engines can pull it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lib.sh"
project="$(cd "$here/../.." && pwd)"
cd "$project"

version="$(node -p 'require("./package.json").version')"
image="flotilla-helper-git:$version"
git_bin="$(command -v git)"
git_core="$(git --exec-path)"
# The only programs of git-core that the stage runs: git itself and the http(s) transport. The other
# ELF programs (daemon, http-backend, imap-send, shell, ...) serve no client fetch.
keep=(git git-remote-http)

hash="$(inputs_hash "$here" "$here/../lib.sh" "$git_bin" "$git_core" /bin/busybox)"
if ! image_current "$image" "$hash"; then
  mkdir -p "$STATE/rootfs"
  # A folder of its own: several checkouts may run scripts/docker-env.sh at the same time.
  root="$(mktemp -d "$STATE/rootfs/helper-git.XXXXXX")"
  trap 'rm -rf "$root" "$root.tar"' EXIT
  install_busybox "$root"
  copy_with_libs "$git_bin" "$root"
  mkdir -p "$root$git_core"
  for f in "$git_core"/*; do
    name="$(basename "$f")"
    if [ "$name" = git ] && cmp -s "$f" "$git_bin"; then
      ln -s "$git_bin" "$root$git_core/git" # the same program twice otherwise
    elif [ -f "$f" ] && [ ! -L "$f" ] && head -c4 "$f" | grep -q 'ELF'; then
      [[ " ${keep[*]} " == *" $name "* ]] && copy_with_libs "$f" "$root"
    else
      cp -a "$f" "$root$git_core/"
    fi
  done
  [ -d /usr/share/git-core/templates ] && mkdir -p "$root/usr/share/git-core" && cp -a /usr/share/git-core/templates "$root/usr/share/git-core/"
  [ -d /etc/ssl/certs ] && mkdir -p "$root/etc/ssl" && cp -aL /etc/ssl/certs "$root/etc/ssl/" 2>/dev/null || true
  tar -C "$root" -cf "$root.tar" .
  docker import --change "LABEL $HASH_LABEL=$hash" --change "LABEL com.flotilla.helper.version=$version" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["sh"]' "$root.tar" "$image" >/dev/null
  docker tag "$image" flotilla-helper-git:latest
  ilog "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
fi
push_to_registry "$image" "flotilla-helper-git:$version"
