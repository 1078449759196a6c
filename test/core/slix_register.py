#!/usr/bin/python3
"""A slixmpp client that creates its account with slixmpp's own XEP-0077 plugin (the 'register'
stream feature, after STARTTLS and before SASL), logs in with it, and changes its password or
deletes the account on command, for Magpie's in-band registration interoperability test.

argv[1]: {"jid", "password", "port"}.
Events: {"event": "registered"} | {"event": "register_error", "condition"} when the set is answered;
        {"event": "form", "fields": [...]} with the fields the server asked for;
        {"event": "session_start", "jid"}; {"event": "failed_auth"}; {"event": "disconnected"}.
Commands: {"cmd": "passwd", "password"} -> {"event": "passwd"} | {"event": "error", "condition"}
          {"cmd": "unregister"} -> {"event": "unregistered"} | {"event": "error", "condition"}
          {"cmd": "quit"}
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../support'))
from slix_common import DrivenClient, emit, run  # noqa: E402
from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402


class Client(DrivenClient):
    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0004", "xep_0066", "xep_0077"))
        self.add_event_handler("register", self.on_register)
        self.add_event_handler("session_start", self.on_start)
        # slixmpp 1.8 holds back every stanza until the session starts (XMLStream.send), the
        # plugin's own registration iqs included, so its feature handler would wait forever.
        # Let stanzas through during negotiation (nothing else is sent before session_start).
        self._always_send_everything = True

    async def on_register(self, form):
        reg = form["register"]
        emit(event="form", fields=sorted(reg["fields"]))
        iq = self.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.boundjid.user
        iq["register"]["password"] = self.password
        try:
            await iq.send(timeout=10)
            emit(event="registered")
        except IqError as e:
            emit(event="register_error", condition=e.iq["error"]["condition"])
        except IqTimeout:
            emit(event="register_error", condition="timeout")

    async def on_start(self, _event):
        self._always_send_everything = False
        emit(event="session_start", jid=str(self.boundjid))
        self.start_commands()

    async def command(self, cmd):
        try:
            if cmd["cmd"] == "passwd":
                await self["xep_0077"].change_password(cmd["password"], timeout=10)
                emit(event="passwd")
            elif cmd["cmd"] == "unregister":
                await self["xep_0077"].cancel_registration(timeout=10)
                emit(event="unregistered")
        except IqError as e:
            emit(event="error", condition=e.iq["error"]["condition"])
        except IqTimeout:
            emit(event="error", condition="timeout")


if __name__ == "__main__":
    run(Client)
