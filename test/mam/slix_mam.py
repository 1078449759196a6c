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
import os
import sys

import slixmpp
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../support'))
from slix_common import DrivenClient, emit, run  # noqa: E402


class Client(DrivenClient):
    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0059", "xep_0297", "xep_0313", "xep_0359"))
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)

    async def on_start(self, _event):
        self.send_presence()
        await self.get_roster()
        emit(event="session_start", jid=str(self.boundjid))
        self.start_commands()

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        sid = msg["stanza_id"]
        emit(event="message", body=msg["body"], stanza_id=sid["id"], by=str(sid["by"]))

    async def command(self, cmd):
        c = cmd["cmd"]
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


if __name__ == "__main__":
    run(Client)
