#!/usr/bin/env bash
# Brings up what the autoscaler's end-to-end tests need on top of scripts/docker-env.sh, idempotently:
# iproute2 (ip), util-linux (nsenter), openssl, prometheus-node-exporter (the machines' exporter), socat
# (the machines' forwarders of host ports, forward_host_ports),
# and checks that this host can make network namespaces, veth pairs and bridges (root and
# CAP_NET_ADMIN). Fails loudly otherwise.
# The tests create and remove their own namespaces (flotilla-e2e*), bridges (flbr-e2e*) and 10.231.x.0/24
# subnets; nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[netns-env] %s\n' "$*"; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "the local provider needs root (network namespaces, dockerd)"
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v socat >/dev/null 2>&1 || need+=(socat)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

probe="flotilla-probe-$$"
trap 'ip netns del "$probe" 2>/dev/null || true; ip link del "flbr-p$$" 2>/dev/null || true' EXIT
ip netns add "$probe" || die "cannot create a network namespace"
ip link add "flbr-p$$" type bridge || die "cannot create a bridge"
ip -n "$probe" link set lo up || die "cannot configure a namespace"
log "network namespaces, bridges and veths work"

bash scripts/docker-env.sh
log "ready"
