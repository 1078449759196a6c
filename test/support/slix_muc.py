#!/usr/bin/python3
"""slixmpp's Multi-User Chat plugin (xep_0045) driven by JSON lines, for Magpie's MUC tests.

argv[1]: JSON {"jid", "password", "host", "port"}.
stdin, one JSON command per line:
  {"cmd": "join", "room", "nick", "password"?}      -> event joined {affiliation, role, subject, history}
  {"cmd": "say", "room", "body"}                    -> (groupchat)
  {"cmd": "subject", "room", "subject"}
  {"cmd": "kick", "room", "nick", "reason"}         -> event result
  {"cmd": "ban", "room", "jid", "reason"}           -> event result
  {"cmd": "configure", "room", "fields": {var: value}} -> event result (get form, fill, submit)
  {"cmd": "destroy", "room", "reason", "altroom"?}  -> event result
  {"cmd": "register_get", "room"}                   -> event registration {registered, username, fields, required}
                                                       (xep_0077 get_registration to the room, XEP-0045 §7.10)
  {"cmd": "register", "room", "nick"}               -> event result (get the form, fill muc#register_roomnick, submit)
  {"cmd": "unregister", "room"}                     -> event result (xep_0077 cancel_registration)
  {"cmd": "reserved_nick", "room"}                  -> event reserved_nick {nick} (xep_0030 disco#info node x-roomuser-item, §7.12)
  {"cmd": "quit"}
stdout events: session_start, groupchat {room, nick, body}, subject {room, subject},
muc_presence {room, nick, type, codes, role, affiliation, destroy}, result {cmd, ok, error},
joined, error, disconnected.
"""
import asyncio
import sys

import slixmpp
from slix_common import DrivenClient, emit, run
from slixmpp.exceptions import IqError, IqTimeout


class Muc(DrivenClient):
    concurrent = True

    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0004", "xep_0045", "xep_0077"))
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("groupchat_message", self.on_groupchat)
        self.add_event_handler("groupchat_subject", lambda m: emit(event="subject", room=str(m["from"].bare), subject=m["subject"]))
        self.add_event_handler("groupchat_presence", self.on_presence)

    async def on_start(self, _event):
        self.send_presence()
        emit(event="session_start", jid=str(self.boundjid))
        self.start_commands()

    def on_groupchat(self, msg):
        if msg["body"]:
            emit(event="groupchat", room=str(msg["from"].bare), nick=msg["mucnick"], body=msg["body"])

    def on_presence(self, p):
        x = p["muc"]
        codes = sorted(int(c) for c in x["status_codes"]) if x["status_codes"] else []
        destroy = p.xml.find("{http://jabber.org/protocol/muc#user}x/{http://jabber.org/protocol/muc#user}destroy")
        emit(event="muc_presence", room=str(p["from"].bare), nick=p["from"].resource, type=p["type"], codes=codes,
             role=x["role"], affiliation=x["affiliation"], destroy=None if destroy is None else destroy.get("jid", ""))

    async def command(self, cmd):
        c = cmd["cmd"]
        muc = self["xep_0045"]
        try:
            if c == "join":
                pres, subject, occupants, history = await muc.join_muc_wait(cmd["room"], cmd["nick"], password=cmd.get("password"), maxstanzas=10, timeout=15)
                emit(event="joined", room=cmd["room"], affiliation=pres["muc"]["affiliation"], role=pres["muc"]["role"],
                     subject=subject["subject"], occupants=[str(o["from"].resource) for o in occupants],
                     history=[m["body"] for m in history])
            elif c == "say":
                self.send_message(mto=cmd["room"], mbody=cmd["body"], mtype="groupchat")
            elif c == "subject":
                muc.set_subject(cmd["room"], cmd["subject"])
            elif c == "kick":
                await muc.set_role(cmd["room"], cmd["nick"], "none", reason=cmd.get("reason", ""))
                emit(event="result", cmd=c, ok=True)
            elif c == "ban":
                await muc.set_affiliation(cmd["room"], "outcast", jid=cmd["jid"], reason=cmd.get("reason", ""))
                emit(event="result", cmd=c, ok=True)
            elif c == "configure":
                form = await muc.get_room_config(cmd["room"])
                submit = form.copy() if hasattr(form, "copy") else form
                for var, value in cmd["fields"].items():
                    submit.set_values({var: value})
                submit["type"] = "submit"
                await muc.set_room_config(cmd["room"], submit)
                emit(event="result", cmd=c, ok=True)
            elif c == "destroy":
                await muc.destroy(cmd["room"], reason=cmd.get("reason", ""), altroom=cmd.get("altroom"))
                emit(event="result", cmd=c, ok=True)
            elif c == "register_get":
                res = await self["xep_0077"].get_registration(jid=cmd["room"], timeout=15)
                reg = res["register"]
                form = reg["form"]
                fields = form.get_fields() if form.xml.find("{jabber:x:data}field") is not None else {}
                emit(event="registration", registered=reg["registered"], username=reg["username"],
                     fields=sorted(fields.keys()), required=sorted(k for k, f in fields.items() if f["required"]))
            elif c == "register":
                res = await self["xep_0077"].get_registration(jid=cmd["room"], timeout=15)
                form = res["register"]["form"]
                form.set_values({"muc#register_roomnick": cmd["nick"]})
                form["type"] = "submit"
                iq = self.Iq()
                iq["type"] = "set"
                iq["to"] = cmd["room"]
                iq["register"].append(form)
                await iq.send(timeout=15)
                emit(event="result", cmd=c, ok=True)
            elif c == "unregister":
                await self["xep_0077"].cancel_registration(jid=cmd["room"], timeout=15)
                emit(event="result", cmd=c, ok=True)
            elif c == "reserved_nick":
                info = await self["xep_0030"].get_info(jid=cmd["room"], node="x-roomuser-item", cached=False, timeout=15)
                ids = [i for i in info["disco_info"]["identities"] if i[0] == "conference" and i[1] == "text"]
                emit(event="reserved_nick", nick=ids[0][3] if ids else None)
        except IqError as e:
            emit(event="result", cmd=c, ok=False, error=e.iq["error"]["condition"])
        except (IqTimeout, asyncio.TimeoutError) as e:
            emit(event="result", cmd=c, ok=False, error="timeout")
        except Exception as e:  # reported to the test, which fails on it
            emit(event="error", cmd=c, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    run(Muc)
