#!/usr/bin/python3
"""A slixmpp client with the per-user service plugins (vcard-temp XEP-0054, last activity
XEP-0012, entity capabilities XEP-0115), driven by JSON lines, for Magpie's end-to-end tests.
Separate from slix_client.py so that the two evolve independently.

argv[1] is a JSON object: {"jid", "password", "host", "port", "caps_node": optional}.
stdin: one JSON command per line:
  {"cmd": "vcard_publish", "fn", "nickname"}   -> {"event": "vcard_published"} | error
  {"cmd": "vcard_get", "jid"}                  -> {"event": "vcard", "fn", "nickname"} | error
  {"cmd": "last_get", "jid"}                   -> {"event": "last", "seconds", "status"} | error
  {"cmd": "own_caps"}                          -> {"event": "own_caps", "node", "ver"}
  {"cmd": "server_caps"}                       -> {"event": "server_caps", "ver"} (the server's
                                                  stream-feature caps once slixmpp verified them; ver null if never)
  {"cmd": "presence"} (available, with slixmpp's caps) -> {"event": "presence_sent"}
  {"cmd": "quit"}
Errors: {"event": "error", "cmd", "condition"}.
"""
import asyncio
import sys

import slixmpp
from slix_common import DrivenClient, emit, run


class Client(DrivenClient):
    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0054", "xep_0012", "xep_0115"))
        if cfg.get("caps_node"):
            self["xep_0115"].caps_node = cfg["caps_node"]
        self.add_event_handler("session_start", self.on_start)

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid))
        self.start_commands()

    async def command(self, cmd):
        c = cmd["cmd"]
        if c == "vcard_publish":
            v = self["xep_0054"].make_vcard()
            v["FN"] = cmd["fn"]
            v["NICKNAME"] = cmd["nickname"]
            await self["xep_0054"].publish_vcard(v)
            emit(event="vcard_published")
        elif c == "vcard_get":
            iq = await self["xep_0054"].get_vcard(cmd["jid"], local=False)
            v = iq["vcard_temp"]
            emit(event="vcard", frm=str(iq["from"]), fn=v["FN"], nickname=v["NICKNAME"])
        elif c == "last_get":
            iq = await self["xep_0012"].get_last_activity(cmd["jid"])
            emit(event="last", frm=str(iq["from"]), seconds=int(iq["last_activity"]["seconds"]),
                 status=iq["last_activity"]["status"])
        elif c == "own_caps":
            ver = await self["xep_0115"].get_verstring(self.boundjid.full)
            emit(event="own_caps", node=self["xep_0115"].caps_node, ver=ver)
        elif c == "server_caps":
            ver = None
            for _ in range(50):
                ver = await self["xep_0115"].get_verstring(self.boundjid.domain)
                if ver:
                    break
                await asyncio.sleep(0.1)
            emit(event="server_caps", ver=ver)
        elif c == "presence":
            # slixmpp computes its own caps only when asked to (update_caps); the output
            # filter then adds them to every available presence.
            await self["xep_0115"].update_caps(broadcast=False)
            self.send_presence()
            emit(event="presence_sent")


if __name__ == "__main__":
    run(Client)
