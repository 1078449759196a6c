"""What every slixmpp driver script of Magpie's tests shares: JSON-line events on stdout, a client
that trusts the test server's generated certificate, reports failed authentication and
disconnection, reads one JSON command per line from stdin and hands each to `command(cmd)`
(awaited in order, or concurrently when `concurrent`), until {"cmd": "quit"} or end of input,
an iq error or timeout a command does not catch itself becoming {"event": "error", "cmd",
"condition"};
and `run()`, which connects over STARTTLS (or direct TLS with cfg["direct_tls"]) and runs until
disconnected. argv[1] of every script is the JSON config {"jid", "password", "host", "port", ...}.
"""
import asyncio
import json
import ssl
import sys

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class DrivenClient(slixmpp.ClientXMPP):
    concurrent = False

    def __init__(self, cfg, plugins=()):
        super().__init__(cfg["jid"], cfg["password"])
        self.cfg = cfg
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in plugins:
            self.register_plugin(p)
        self.add_event_handler("failed_auth", lambda e: emit(event="failed_auth"))
        self.add_event_handler("disconnected", lambda e: emit(event="disconnected"))

    async def command(self, cmd):
        raise NotImplementedError

    async def guarded(self, cmd):
        try:
            await self.command(cmd)
        except IqError as e:
            emit(event="error", cmd=cmd["cmd"], condition=e.iq["error"]["condition"])
        except IqTimeout:
            emit(event="error", cmd=cmd["cmd"], condition="timeout")

    def start_commands(self):
        asyncio.ensure_future(self.read_commands())

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            if cmd["cmd"] == "quit":
                break
            if self.concurrent:
                asyncio.ensure_future(self.guarded(cmd))
            else:
                await self.guarded(cmd)
        self.disconnect()


def run(client_cls):
    cfg = json.loads(sys.argv[1])
    c = client_cls(cfg)
    direct = cfg.get("direct_tls", False)
    c.connect((cfg.get("host", "127.0.0.1"), cfg["port"]), use_ssl=direct, force_starttls=not direct, disable_starttls=False)
    c.loop.run_until_complete(c.disconnected)
