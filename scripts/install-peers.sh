#!/usr/bin/env bash
# Installs the third-party XMPP peers the test suite and benchmarks run against (Debian packages):
# Prosody, ejabberd, slixmpp (python3), go-sendxmpp, openssl for test certificates, HAProxy, and Chromium
# for the browser tests (driven by playwright-core). Their own daemons must not start on install
# (they would take ports 5222/5269), so a policy-rc.d forbids service starts for the duration.
set -euo pipefail
need=()
command -v prosody >/dev/null 2>&1 || need+=(prosody)
command -v ejabberdctl >/dev/null 2>&1 || need+=(ejabberd)
/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || need+=(python3-slixmpp)
/usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1 || need+=(python3-aiohttp)   # slixmpp's HTTP upload (XEP-0363)
command -v go-sendxmpp >/dev/null 2>&1 || need+=(go-sendxmpp)
command -v openssl >/dev/null 2>&1 || need+=(openssl)   # test CAs and client certificates
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)   # cluster tests (test/cluster: shared Redis and a private one)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)             # test/cluster/haproxy.test.ts: nodes behind a TCP balancer (PROXY protocol)
[ -x /usr/bin/chromium ] || need+=(chromium)              # test/web/browser.test.ts
if [ ${#need[@]} -eq 0 ]; then echo "peers: all present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "peers: missing ${need[*]} (run as root to install)"; exit 0; fi
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
trap '[ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's packages may still have spawned a daemon (ejabberd's epmd, prosody); stop them so the
# default ports stay free for the tests, which start their own instances on private ports.
pkill -x prosody 2>/dev/null || true
pkill -f 'beam.smp.*ejabberd' 2>/dev/null || true
pkill -x haproxy 2>/dev/null || true
echo "peers: installed ${need[*]}"
