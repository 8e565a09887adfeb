#!/usr/bin/env bash
# Brings up what the test suite needs on a fresh machine, idempotently:
# git (with http-backend), python-gitlab and its CLI, Chromium, and a running PostgreSQL for the store
# conformance suite.
set -euo pipefail

log() { printf '[test-env] %s\n' "$*"; }

need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v bash >/dev/null 2>&1 || need_apt+=(bash)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# The GitLab client compatibility suite (test/e2e/gitlab-clients): Debian's python-gitlab library
# and its CLI (installed as /usr/bin/python-gitlab), run with Debian's /usr/bin/python3.
if ! /usr/bin/python3 -c 'import gitlab' >/dev/null 2>&1 || [ ! -x /usr/bin/python-gitlab ]; then
  log "installing python3-gitlab and gitlab-cli"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-gitlab gitlab-cli >/dev/null
fi
# The web UI's browser tests (test/e2e/web-ui.test.ts) drive Debian's headless Chromium.
if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x "$(git --exec-path)/git-http-backend" ] || { log "git http-backend is missing from $(git --exec-path)"; exit 1; }

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_ready; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  else
    log "PostgreSQL is not installed: installing it"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
if pg_ready; then
  log "PostgreSQL is up on 127.0.0.1:5432"
else
  log "PostgreSQL did not come up on 127.0.0.1:5432; the store suite will fail"
  exit 1
fi
