// The three servers under test, each run from its own generated configuration in the run's
// temporary directory, on loopback, on its own ports. Every adapter offers:
//   prepare(nUsers, gen)  write the configuration and create user1..userN (password ctx.password)
//   start()               start a fresh process; afterwards `pid` is the process to measure
//   stop()                stop it (SIGTERM, then SIGKILL), also registered as a cleanup
// Peers are configured from the Debian packages' shipped configuration (same module list), with
// only the throttles removed: Prosody's `limits` module, ejabberd's c2s shaper, mod_fail2ban and
// mod_pres_counter; queue/backlog/cache sizes are raised (TESTING-WITH-PEERS.md), never lowered.

import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, assertRunning, comm, findProcesses, onCleanup, portOpen, sleep, terminate, waitForPort } from '../lib/proc.mjs';

const REPO = new URL('../../', import.meta.url).pathname;
const DOMAIN = 'localhost';

async function assertFree(...ports) {
  for (const p of ports) if (await portOpen(p)) throw new Error(`port ${p} on 127.0.0.1 is already in use (pick another --port-base)`);
}

/** Spawn a detached process group with stdout/stderr appended to `log`. */
function spawnLogged(cmd, args, log, env = {}) {
  assertRunning();
  const fd = openSync(log, 'a');
  try {
    return spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, cwd: REPO });
  } finally { closeSync(fd); }
}

function tail(file, n = 30) {
  try { return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}

class Base {
  constructor(ctx) { this.ctx = ctx; this.pid = null; this.proc = null; this.stopCleanup = null; }
  get host() { return '127.0.0.1'; }
  get domain() { return DOMAIN; }
  async stop() { if (this.stopCleanup) await this.stopCleanup(); this.stopCleanup = null; this.pid = null; this.proc = null; }
  logTail(n) { return tail(this.logFile, n); }
}

// ---- Magpie ------------------------------------------------------------------------------------

export class Magpie extends Base {
  name = 'magpie';
  constructor(ctx) {
    super(ctx);
    this.dir = join(ctx.dir, 'magpie');
    this.port = ctx.portBase + 222;
    this.configFile = join(this.dir, 'magpie.yaml');
    this.logFile = join(this.dir, 'magpie.log');
  }
  version() {
    const v = JSON.parse(readFileSync(join(REPO, 'packages/server/package.json'), 'utf8')).version;
    let rev = '';
    try {
      rev = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      if (execFileSync('git', ['-C', REPO, 'status', '--porcelain', 'packages'], { encoding: 'utf8' }).trim()) rev += '+dirty';
    } catch { /* not a git checkout */ }
    return `${v}${rev ? ` (${rev})` : ''}, node ${process.version}`;
  }
  async prepare(nUsers) {
    mkdirSync(this.dir, { recursive: true });
    const config = {
      hosts: [{ domain: DOMAIN, tls: { cert: this.ctx.cert, key: this.ctx.key } }],
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: this.port }, { type: 'c2s-tls', address: '127.0.0.1', port: this.port + 1 }],
      dataDir: join(this.dir, 'data'),
      log: { level: 'warn' },
      limits: { maxConnectionsPerAddress: 100000, authFailuresBeforeDelay: 1000, authLockoutFailures: 100000, negotiationTimeout: 600, idleTimeout: 3600 },
      ...(this.ctx.magpieDisable?.length ? { modules: { disabled: this.ctx.magpieDisable } } : {}),
    };
    writeFileSync(this.configFile, JSON.stringify(config, null, 2) + '\n'); // JSON is YAML
    const jsonFile = join(this.dir, 'config.json');
    writeFileSync(jsonFile, JSON.stringify(config));
    assertRunning();
    const child = spawn(process.execPath, [join(REPO, 'bench/servers/magpie-users.mjs'), jsonFile, String(nUsers), this.ctx.password],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const kill = onCleanup(() => terminate(child.pid, { graceMs: 2000 }));
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const code = await new Promise((resolve) => child.on('close', resolve));
    await kill();
    if (code !== 0) throw new Error(`magpie-users.mjs exited with ${code}`);
    return JSON.parse(out.trim().split('\n').pop());
  }
  async start() {
    await assertFree(this.port, this.port + 1);
    const main = join(REPO, 'packages/server/dist/cli/main.js');
    // MAGPIE_BENCH_NODE_ARGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const args = process.env.MAGPIE_BENCH_NODE_ARGS ? ` ${process.env.MAGPIE_BENCH_NODE_ARGS}` : '';
    const p = spawnLogged('bash', ['-c', `ulimit -n 20000 && exec "${process.execPath}"${args} "${main}" start --config "${this.configFile}"`], this.logFile);
    this.proc = p; this.pid = p.pid;
    this.stopCleanup = onCleanup(() => terminate(p.pid, { group: true, graceMs: 10000 }));
    await waitForPort(this.port, { timeoutMs: 60000, isAlive: () => alive(p.pid), what: `magpie (log: ${this.logFile})` });
    if (comm(this.pid) !== 'node') throw new Error(`magpie pid ${this.pid} is '${comm(this.pid)}', expected node`);
  }
}

// ---- Prosody -----------------------------------------------------------------------------------

// Debian's /etc/prosody/prosody.cfg.lua module list (Prosody 0.12), minus "limits" (throttle).
const PROSODY_MODULES = ['disco', 'roster', 'saslauth', 'tls', 'blocklist', 'bookmarks', 'carbons', 'dialback', 'pep',
  'private', 'smacks', 'vcard4', 'vcard_legacy', 'csi_simple', 'invites', 'invites_adhoc', 'invites_register', 'ping',
  'register', 'time', 'uptime', 'version', 'admin_adhoc', 'admin_shell', 'posix'];

export class Prosody extends Base {
  name = 'prosody';
  constructor(ctx) {
    super(ctx);
    this.dir = join(ctx.dir, 'prosody');
    this.port = ctx.portBase + 322;
    this.s2sPort = ctx.portBase + 369;
    this.configFile = join(this.dir, 'prosody.cfg.lua');
    this.logFile = join(this.dir, 'prosody.log');
  }
  version() {
    let v = '?';
    try { v = readFileSync('/usr/lib/prosody/prosody.version', 'utf8').trim(); } catch { /* unknown */ }
    let lua = '';
    try { lua = execFileSync('lua5.4', ['-v'], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' '); } catch { /* unknown */ }
    return `${v}${lua ? `, ${lua}` : ''}`;
  }
  async prepare(nUsers, gen) {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    mkdirSync(join(this.dir, 'certs'), { recursive: true });
    const q = (s) => JSON.stringify(s);
    writeFileSync(this.configFile, `-- Generated by bench/servers/servers.mjs
run_as_root = true
pidfile = nil
data_path = ${q(join(this.dir, 'data'))}
admins = { }
modules_enabled = { ${PROSODY_MODULES.map(q).join('; ')} }
modules_disabled = { }
interfaces = { "127.0.0.1" }
c2s_ports = { ${this.port} }
c2s_direct_tls_ports = { }
s2s_ports = { ${this.s2sPort} }
network_settings = { tcp_backlog = 4096 }
allow_registration = true
registration_invite_only = false
certificates = ${q(join(this.dir, 'certs'))}
c2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"
ssl = { certificate = ${q(this.ctx.cert)}; key = ${q(this.ctx.key)}; }
log = { { levels = { min = "warn" }; to = "file"; filename = ${q(this.logFile)}; } }
VirtualHost "${DOMAIN}"
`);
    await this.start();
    try {
      await gen.all('config', () => ({ name: this.name, host: this.host, port: this.port, domain: DOMAIN, password: this.ctx.password }));
      const rs = await gen.all('register', (k) => ({ users: gen.usersOf(k, 1, nUsers), concurrency: 2, batch: 100 }), 60 * 60000);
      const r = { ok: 0, existed: 0, failed: 0, errors: [] };
      for (const x of rs) { r.ok += x.registered; r.existed += x.existed; r.failed += x.failed; r.errors.push(...x.errors); }
      if (r.failed) throw new Error(`prosody: ${r.failed} registrations failed: ${r.errors.slice(0, 3).join(' | ')}`);
      return r;
    } finally { await this.stop(); }
  }
  async start() {
    await assertFree(this.port, this.s2sPort);
    const p = spawnLogged('bash', ['-c', `ulimit -n 20000 && exec prosody -F --config "${this.configFile}"`], this.logFile);
    this.proc = p; this.pid = p.pid;
    this.stopCleanup = onCleanup(() => terminate(p.pid, { group: true, graceMs: 10000 }));
    await waitForPort(this.port, { timeoutMs: 60000, isAlive: () => alive(p.pid), what: `prosody (log: ${this.logFile})` });
    if (!/^lua/.test(comm(this.pid) ?? '')) throw new Error(`prosody pid ${this.pid} is '${comm(this.pid)}', expected lua`);
  }
}

// ---- ejabberd ----------------------------------------------------------------------------------

// Debian's /etc/ejabberd/ejabberd.yml module list (ejabberd 23.01), minus the throttles
// mod_fail2ban (bans addresses after failed logins) and mod_pres_counter (presence rate limit).
const EJABBERD_MODULES = `  mod_adhoc: {}
  mod_admin_extra: {}
  mod_announce:
    access: announce
  mod_avatar: {}
  mod_blocking: {}
  mod_bosh: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_configure: {}
  mod_disco: {}
  mod_http_api: {}
  mod_last: {}
  mod_mqtt: {}
  mod_muc:
    access:
      - allow
    access_admin:
      - allow: admin
    access_create: muc_create
    access_persistent: muc_create
    access_mam:
      - allow
    default_room_options:
      mam: true
  mod_muc_admin: {}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
    force_node_config:
      "eu.siacs.conversations.axolotl.*":
        access_model: open
      storage:bookmarks:
        access_model: whitelist
  mod_push: {}
  mod_push_keepalive: {}
  mod_roster:
    versioning: true
  mod_s2s_dialback: {}
  mod_shared_roster: {}
  mod_sic: {}
  mod_stream_mgmt:
    resend_on_timeout: if_offline
  mod_stun_disco: {}
  mod_vcard:
    search: false
  mod_vcard_xupdate: {}
  mod_version: {}
`;

export class Ejabberd extends Base {
  name = 'ejabberd';
  constructor(ctx) {
    super(ctx);
    this.dir = join(ctx.dir, 'ejabberd');
    this.port = ctx.portBase + 422;
    this.httpPort = ctx.portBase + 480;
    this.distPort = ctx.portBase + 499;
    this.spool = join(this.dir, 'spool');
    this.logs = join(this.dir, 'logs');
    this.home = join(this.dir, 'home');
    this.configFile = join(this.dir, 'ejabberd.yml');
    this.ctlFile = join(this.dir, 'ejabberdctl.cfg');
    this.logFile = join(this.dir, 'foreground.log');
    this.beamPid = null;
  }
  version() {
    let v = '?', otp = '';
    try { v = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ejabberd'], { encoding: 'utf8' }).trim(); } catch { /* unknown */ }
    try { otp = execFileSync('sh', ['-c', 'cat /usr/lib/erlang/releases/*/OTP_VERSION'], { encoding: 'utf8' }).trim(); } catch { /* unknown */ }
    return `${v}${otp ? `, Erlang/OTP ${otp}` : ''}`;
  }
  ctlArgs() {
    return ['--config-dir', this.dir, '--config', this.configFile, '--ctl-config', this.ctlFile, '--spool', this.spool, '--logs', this.logs];
  }
  async prepare(nUsers) {
    // ejabberdctl re-executes itself as the `ejabberd` user (su), which resets the open-files soft
    // limit to 1,024: the ERL wrapper raises it again. ERL_DIST_PORT makes the node listen on a
    // fixed loopback port without epmd (so nothing touches another epmd on this machine).
    const uid = Number(execFileSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).trim());
    for (const d of [this.dir, this.spool, this.logs, this.home]) { mkdirSync(d, { recursive: true }); chownSync(d, uid, gid); }
    const erl = join(this.dir, 'erl.sh');
    writeFileSync(erl, `#!/bin/sh
ulimit -n 20000
export HOME="${this.home}" ERL_EPMD_ADDRESS=127.0.0.1
exec /usr/bin/erl "$@"
`);
    chmodSync(erl, 0o755);
    writeFileSync(join(this.dir, 'inetrc'), readFileSync('/etc/ejabberd/inetrc'));
    writeFileSync(this.ctlFile, `# Generated by bench/servers/servers.mjs
ERL="${erl}"
ERLANG_NODE=magpiebench@localhost
ERL_DIST_PORT=${this.distPort}
INET_DIST_INTERFACE=127.0.0.1
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EJABBERD_BYPASS_WARNINGS=true
CONTRIB_MODULES_CONF_DIR="${join(this.dir, 'modules.d')}"
`);
    writeFileSync(this.configFile, `# Generated by bench/servers/servers.mjs from Debian's ejabberd.yml
loglevel: warning
log_rotate_count: 0
hosts:
  - ${DOMAIN}
certfiles:
  - "${this.ctx.cert}"
  - "${this.ctx.key}"
define_macro:
  'TLS_CIPHERS': "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH"
  'TLS_OPTIONS':
    - "no_sslv3"
    - "no_tlsv1"
    - "no_tlsv1_1"
    - "cipher_server_preference"
    - "no_compression"
c2s_ciphers: 'TLS_CIPHERS'
s2s_ciphers: 'TLS_CIPHERS'
c2s_protocol_options: 'TLS_OPTIONS'
s2s_protocol_options: 'TLS_OPTIONS'
cache_size: 100000
listen:
  -
    port: ${this.port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: none
    access: c2s
    starttls_required: true
    protocol_options: 'TLS_OPTIONS'
    backlog: 4096
    max_fsm_queue: 100000
  -
    port: ${this.httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
disable_sasl_mechanisms:
  - "digest-md5"
  - "X-OAUTH2"
s2s_use_starttls: required
auth_password_format: scram
acl:
  admin:
     user:
       - ""
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
      - ::1/128
access_rules:
  local:
    allow: local
  c2s:
    deny: blocked
    allow: all
  announce:
    allow: admin
  configure:
    allow: admin
  muc_create:
    allow: local
  pubsub_createnode:
    allow: local
  trusted_network:
    allow: loopback
api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"
  "public commands":
    who:
      ip: 127.0.0.1/8
    what:
      - status
      - connected_users_number
      - register
shaper:
  normal:
    rate: 3000
    burst_size: 20000
  fast: 200000
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages:
    5000: admin
    100: all
  c2s_shaper: none
  s2s_shaper: fast
modules:
${EJABBERD_MODULES}`);
    await this.start();
    try { return await this.registerHttp(nUsers); } finally { await this.stop(); }
  }
  async registerHttp(nUsers) {
    const r = { ok: 0, existed: 0, failed: 0, errors: [] };
    let next = 1;
    const lane = async () => {
      for (let i = next++; i <= nUsers; i = next++) {
        let res, text;
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            res = await fetch(`http://127.0.0.1:${this.httpPort}/api/register`, {
              method: 'POST', headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ user: `user${i}`, host: DOMAIN, password: this.ctx.password }),
              signal: AbortSignal.timeout(30000),
            });
            text = await res.text();
            break;
          } catch (e) { text = String(e?.message ?? e); res = undefined; await sleep(200); }
        }
        if (res?.ok) r.ok++;
        else if (/already|conflict|exists/i.test(text ?? '')) r.existed++;
        else { r.failed++; if (r.errors.length < 5) r.errors.push(`user${i}: ${res?.status ?? ''} ${String(text).slice(0, 200)}`); }
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    if (r.failed) throw new Error(`ejabberd: ${r.failed} registrations failed: ${r.errors.slice(0, 3).join(' | ')}`);
    return r;
  }
  async start() {
    await assertFree(this.port, this.httpPort, this.distPort);
    const cmd = ['ulimit -n 20000 && exec ejabberdctl', ...this.ctlArgs().map((a) => `"${a}"`), 'foreground'].join(' ');
    const p = spawnLogged('bash', ['-c', cmd], this.logFile, { ERL_EPMD_ADDRESS: '127.0.0.1' });
    this.proc = p;
    this.beamPid = null;
    const stopGroup = async () => {
      // A clean `ejabberdctl stop` lets Mnesia close its tables; signals are the fallback.
      if (findProcesses('beam.smp', this.spool).length) {
        try { execFileSync('ejabberdctl', [...this.ctlArgs(), 'stop'], { stdio: 'ignore', timeout: 30000 }); } catch { /* fall through */ }
        for (let i = 0; i < 300 && findProcesses('beam.smp', this.spool).length; i++) await sleep(100);
      }
      const beams = findProcesses('beam.smp', this.spool);
      for (const b of beams) await terminate(b, { graceMs: 15000 });
      await terminate(p.pid, { group: true, graceMs: 3000 });
    };
    this.stopCleanup = onCleanup(stopGroup);
    const deadline = Date.now() + 60000;
    while (!this.beamPid && Date.now() < deadline) {
      const beams = findProcesses('beam.smp', this.spool);
      if (beams.length) this.beamPid = beams[0];
      else if (!alive(p.pid)) throw new Error(`ejabberd exited at start:\n${tail(this.logFile)}`);
      else await sleep(200);
    }
    if (!this.beamPid) throw new Error('ejabberd: beam.smp not found');
    this.pid = this.beamPid;
    await waitForPort(this.port, { timeoutMs: 90000, isAlive: () => alive(this.beamPid), what: `ejabberd (logs: ${this.logs})` });
    await waitForPort(this.httpPort, { timeoutMs: 30000, isAlive: () => alive(this.beamPid), what: 'ejabberd http' });
    const lim = readFileSync(`/proc/${this.beamPid}/limits`, 'utf8').match(/Max open files\s+(\d+)/)?.[1];
    if (Number(lim) < 20000) throw new Error(`ejabberd runs with an open-files limit of ${lim}`);
  }
  logTail(n) { return tail(join(this.logs, 'ejabberd.log'), n) + '\n' + tail(this.logFile, n); }
}

export const SERVERS = { magpie: Magpie, prosody: Prosody, ejabberd: Ejabberd };
