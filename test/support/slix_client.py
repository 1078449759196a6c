#!/usr/bin/python3
"""A slixmpp client driven by JSON lines, for Magpie's interoperability tests.

argv[1] is a JSON object: {"jid", "password", "host", "port", "direct_tls": bool,
"mechanism": optional SASL mechanism name, "starttls": bool (default true)}.
stdin: one JSON command per line: {"cmd": "send", "to", "body", "type"}, {"cmd": "presence"},
{"cmd": "quit"}. stdout: one JSON event per line: session_start (with the bound jid),
message, presence, failed_auth, disconnected.
"""
import asyncio
import json
import ssl
import sys

import slixmpp
import logging
import os
if os.environ.get("SLIX_DEBUG"):
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class Client(slixmpp.ClientXMPP):
    def __init__(self, cfg):
        super().__init__(cfg["jid"], cfg["password"], sasl_mech=cfg.get("mechanism"))
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("failed_auth", lambda e: emit(event="failed_auth"))
        self.add_event_handler("disconnected", lambda e: emit(event="disconnected"))

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid),
             mechanism=getattr(self["feature_mechanisms"], "mech", None) and self["feature_mechanisms"].mech.name)
        asyncio.ensure_future(self.read_commands())

    def on_message(self, msg):
        emit(event="message", frm=str(msg["from"]), to=str(msg["to"]), type=msg["type"], body=msg["body"])

    def on_presence(self, p):
        emit(event="presence", frm=str(p["from"]), type=p["type"], show=p["show"], status=p["status"])

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            if cmd["cmd"] == "send":
                self.send_message(mto=cmd["to"], mbody=cmd["body"], mtype=cmd.get("type", "chat"))
                emit(event="sent", to=cmd["to"])
            elif cmd["cmd"] == "presence":
                self.send_presence(pshow=cmd.get("show"), pstatus=cmd.get("status"))
            elif cmd["cmd"] == "quit":
                break
        self.disconnect()


def main():
    cfg = json.loads(sys.argv[1])
    c = Client(cfg)
    c.connect((cfg.get("host", "127.0.0.1"), cfg["port"]), use_ssl=cfg.get("direct_tls", False),
              force_starttls=cfg.get("starttls", True), disable_starttls=False)
    c.loop.run_until_complete(c.disconnected)


if __name__ == "__main__":
    main()
