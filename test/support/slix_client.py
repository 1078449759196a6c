#!/usr/bin/python3
"""A slixmpp client driven by JSON lines, for Magpie's interoperability tests.

argv[1] is a JSON object: {"jid", "password", "host", "port", "direct_tls": bool,
"mechanism": optional SASL mechanism name, "starttls": bool (default true),
"auto_authorize": true (slixmpp's default: approve requests) | false (deny) | null (leave them
to the test), "auto_subscribe": bool (default true: subscribe back after auto-approving)}.
stdin: one JSON command per line:
  {"cmd": "send", "to", "body", "type"}
  {"cmd": "presence", "show", "status", "priority", "to"}   (all optional)
  {"cmd": "get_roster"}                          -> event roster
  {"cmd": "roster_set", "jid", "name", "groups"} -> event roster_result (slixmpp's update_roster)
  {"cmd": "roster_remove", "jid"}                -> event roster_result
  {"cmd": "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed", "to"} -> event sent
  {"cmd": "quit"}
stdout: one JSON event per line: session_start (with the bound jid), message, presence (every
presence, subscription types included), roster (a roster result), roster_push (a roster push),
roster_result (the answer to a roster set), sent, failed_auth, disconnected.
"""
import asyncio
import json
import ssl
import sys

import slixmpp
from slixmpp.exceptions import IqError
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
        self.add_event_handler("roster_update", self.on_roster_update)
        self.add_event_handler("failed_auth", lambda e: emit(event="failed_auth"))
        self.roster.auto_authorize = cfg.get("auto_authorize", True)
        self.roster.auto_subscribe = cfg.get("auto_subscribe", True)
        self.add_event_handler("disconnected", lambda e: emit(event="disconnected"))

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid),
             mechanism=getattr(self["feature_mechanisms"], "mech", None) and self["feature_mechanisms"].mech.name)
        asyncio.ensure_future(self.read_commands())

    def on_message(self, msg):
        emit(event="message", frm=str(msg["from"]), to=str(msg["to"]), type=msg["type"], body=msg["body"])

    def on_presence(self, p):
        emit(event="presence", frm=str(p["from"]), to=str(p["to"]), type=p["type"], show=p["show"],
             status=p["status"], priority=p["priority"])

    def on_roster_update(self, iq):
        # Roster results and pushes both arrive here; a push is an iq of type set.
        if iq["type"] == "set":
            emit(event="roster_push", frm=str(iq["from"]), ver=iq["roster"]["ver"], items=roster_items(iq))

    async def get_roster_cmd(self):
        try:
            iq = await self.get_roster()
        except IqError as e:
            emit(event="roster", error=e.iq["error"]["condition"])
            return
        # slixmpp's own handler has already created an empty <query/> on the result when the
        # server sent none; Magpie's non-empty results always carry a ver.
        ver = iq["roster"]["ver"]
        items = roster_items(iq)
        emit(event="roster", empty=not ver and not items, ver=ver, items=items)

    async def roster_cmd(self, cmd):
        try:
            if cmd["cmd"] == "roster_remove":
                await self.del_roster_item(cmd["jid"])
            else:
                await self.update_roster(cmd["jid"], name=cmd.get("name"), groups=cmd.get("groups", []))
            emit(event="roster_result", cmd=cmd["cmd"], jid=cmd["jid"], ok=True)
        except IqError as e:
            emit(event="roster_result", cmd=cmd["cmd"], jid=cmd["jid"], ok=False, error=e.iq["error"]["condition"])

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
                self.send_presence(pshow=cmd.get("show"), pstatus=cmd.get("status"),
                                   ppriority=cmd.get("priority"), pto=cmd.get("to"))
            elif cmd["cmd"] == "get_roster":
                asyncio.ensure_future(self.get_roster_cmd())
            elif cmd["cmd"] in ("roster_set", "roster_remove"):
                asyncio.ensure_future(self.roster_cmd(cmd))
            elif cmd["cmd"] in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
                self.send_presence(pto=cmd["to"], ptype=cmd["cmd"])
                emit(event="sent", type=cmd["cmd"], to=cmd["to"])
            elif cmd["cmd"] == "quit":
                break
        self.disconnect()


def roster_items(iq):
    out = []
    for jid, item in iq["roster"]["items"].items():
        out.append({"jid": str(jid), "name": item.get("name"), "subscription": item.get("subscription"),
                    "ask": item.get("ask"), "approved": item.get("approved"), "groups": list(item.get("groups") or [])})
    return out


def main():
    cfg = json.loads(sys.argv[1])
    c = Client(cfg)
    c.connect((cfg.get("host", "127.0.0.1"), cfg["port"]), use_ssl=cfg.get("direct_tls", False),
              force_starttls=cfg.get("starttls", True), disable_starttls=False)
    c.loop.run_until_complete(c.disconnected)


if __name__ == "__main__":
    main()
