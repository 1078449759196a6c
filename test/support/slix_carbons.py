#!/usr/bin/python3
"""A slixmpp client with its XEP-0280 (message carbons) plugin, driven by JSON lines, for
Magpie's carbons test. Separate from slix_client.py so that the two evolve independently.

argv[1] is a JSON object: {"jid", "password", "host", "port"}.
On session start it enables carbons (event carbons_enabled, or error with the condition), then
sends available presence (event presence_sent).
stdin: one JSON command per line:
  {"cmd": "send", "to", "body", "type"}   -> event sent
  {"cmd": "quit"}
stdout: one JSON event per line: session_start, carbons_enabled, presence_sent, message (a plain
message), carbon_sent / carbon_received (slixmpp accepted a carbon: it checks that the copy
comes from its own bare JID) with the outer from and the forwarded message's from/to/body,
error, failed_auth, disconnected.
"""
import sys

import slixmpp
from slix_common import DrivenClient, emit, run
from slixmpp.exceptions import IqError, IqTimeout


class Client(DrivenClient):
    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0297", "xep_0280"))
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("carbon_sent", lambda m: self.on_carbon("carbon_sent", m, m["carbon_sent"]))
        self.add_event_handler("carbon_received", lambda m: self.on_carbon("carbon_received", m, m["carbon_received"]))

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid))
        try:
            await self["xep_0280"].enable()
            emit(event="carbons_enabled")
        except IqError as e:
            emit(event="error", cmd="enable", condition=e.iq["error"]["condition"])
        except IqTimeout:
            emit(event="error", cmd="enable", condition="timeout")
        self.send_presence()
        emit(event="presence_sent")
        self.start_commands()

    def on_message(self, msg):
        if msg.xml.find("{urn:xmpp:carbons:2}sent") is not None or msg.xml.find("{urn:xmpp:carbons:2}received") is not None:
            return  # a carbon: reported by on_carbon when slixmpp accepts it
        emit(event="message", frm=str(msg["from"]), to=str(msg["to"]), type=msg["type"], body=msg["body"])

    def on_carbon(self, name, outer, inner):
        # msg["carbon_sent"] / msg["carbon_received"] is the forwarded message itself.
        emit(event=name, frm=str(outer["from"]), inner_from=str(inner["from"]), inner_to=str(inner["to"]),
             body=inner["body"])

    async def command(self, cmd):
        if cmd["cmd"] == "send":
            self.send_message(mto=cmd["to"], mbody=cmd["body"], mtype=cmd.get("type", "chat"))
            emit(event="sent", to=cmd["to"])


if __name__ == "__main__":
    run(Client)
