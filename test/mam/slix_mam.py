#!/usr/bin/python3
"""A slixmpp client that reads its message archive with slixmpp's own XEP-0313 plugin (paging
through XEP-0059), for Magpie's MAM interoperability test. Driven by JSON lines.

argv[1]: {"jid", "password", "port"}.
Events: {"event": "session_start"}; {"event": "message", "body", "stanza_id", "by"} for each chat
message received live.
Commands: {"cmd": "history", "with": jid|null, "max": n, "reverse": bool}
            -> {"event": "history", "bodies": [...], "ids": [...]} | {"event": "error", "condition"}
          {"cmd": "fields"} -> {"event": "fields", "vars": [...]}
          {"cmd": "quit"}
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


class Client(slixmpp.ClientXMPP):
    def __init__(self, cfg):
        super().__init__(cfg["jid"], cfg["password"])
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0059", "xep_0297", "xep_0313", "xep_0359"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda e: emit(event="failed_auth"))

    async def on_start(self, _event):
        self.send_presence()
        await self.get_roster()
        emit(event="session_start", jid=str(self.boundjid))
        asyncio.ensure_future(self.read_commands())

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        sid = msg["stanza_id"]
        emit(event="message", body=msg["body"], stanza_id=sid["id"], by=str(sid["by"]))

    async def run(self, cmd):
        c = cmd["cmd"]
        try:
            if c == "history":
                bodies, ids = [], []
                with_jid = slixmpp.JID(cmd["with"]) if cmd.get("with") else None
                async for m in self["xep_0313"].iterate(jid=self.boundjid.bare, with_jid=with_jid,
                                                         rsm={"max": cmd["max"]}, reverse=cmd["reverse"]):
                    res = m["mam_result"]
                    bodies.append(res["forwarded"]["stanza"]["body"])
                    ids.append(res["id"])
                emit(event="history", bodies=bodies, ids=ids)
            elif c == "fields":
                res = await self["xep_0313"].get_fields(jid=self.boundjid.bare)
                emit(event="fields", vars=[f.get("var") for f in res.xml.iter("{jabber:x:data}field")])
        except IqError as e:
            emit(event="error", cmd=c, condition=e.iq["error"]["condition"])
        except IqTimeout:
            emit(event="error", cmd=c, condition="timeout")

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            if cmd["cmd"] == "quit":
                break
            await self.run(cmd)
        self.disconnect()


def main():
    cfg = json.loads(sys.argv[1])
    c = Client(cfg)
    c.connect(("127.0.0.1", cfg["port"]), force_starttls=True, disable_starttls=False)
    c.loop.run_until_complete(c.disconnected)


if __name__ == "__main__":
    main()
