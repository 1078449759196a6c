#!/usr/bin/env bash
# The README's test command: installs everything the test suite needs on a fresh machine, then
# runs the whole suite. Third-party peers (Prosody, ejabberd, slixmpp) come from Debian's
# packages when run as root; PostgreSQL must be reachable on 127.0.0.1:5432 (database `test`)
# and is started here if this machine has a stopped cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh || echo "warning: could not install the XMPP peers; tests that need them will skip (or fail under CI=true)"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true; fi
fi
npm ci --no-audit --no-fund
npm test
