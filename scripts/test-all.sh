#!/usr/bin/env bash
# The README's test command: installs everything the test suite needs on a fresh machine, then
# runs the whole suite. Third-party peers (Prosody, ejabberd, slixmpp) come from Debian's
# packages when run as root; PostgreSQL must be reachable on 127.0.0.1:5432 (database `test`)
# and is started here if this machine has a stopped cluster; Redis must answer on 127.0.0.1:6379
# (cluster tests) and is started here, without persistence, when it does not.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-peers.sh || echo "warning: could not install the XMPP peers; tests that need them will skip (or fail under CI=true)"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true; fi
fi
if command -v redis-server >/dev/null 2>&1 && ! (command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1); then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
npm ci --no-audit --no-fund
npm test
