#!/usr/bin/python3
"""A slixmpp client with XEP-0198 (plugin xep_0198), driven by JSON lines, for Magpie's
stream management interoperability test.

argv[1]: {"jid", "password", "host", "port", "window": ack request window (default 5)}.
stdin commands: {"cmd": "send", "to", "body", "id"} | {"cmd": "request_ack"}
              | {"cmd": "drop"} (abort the TCP connection, reconnect and resume) | {"cmd": "quit"}
stdout events: session_start, sm_enabled (id, resume), message (frm, id, body, delay),
stanza_acked (id), server_ack (h), resumed, sm_failed, disconnected.
"""
import asyncio
import json
import ssl
import sys
import logging
import os

import slixmpp

if os.environ.get("SLIX_DEBUG"):
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class Client(slixmpp.ClientXMPP):
    def __init__(self, cfg):
        super().__init__(cfg["jid"], cfg["password"])
        self.cfg = cfg
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0198", {"window": cfg.get("window", 5)})
        self.dropping = False
        self.commands_started = False
        self.finished = self.loop.create_future()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("sm_enabled", lambda s: emit(event="sm_enabled", id=s["id"], resume=s["resume"]))
        self.add_event_handler("sm_failed", lambda s: emit(event="sm_failed", xml=str(s)))
        self.add_event_handler("session_resumed", lambda s: emit(event="resumed"))
        self.add_event_handler("stanza_acked", lambda s: emit(event="stanza_acked", id=s["id"] if "id" in s.interfaces else None))
        self.add_event_handler("disconnected", self.on_disconnected)
        # Every <a/> from the server, to observe that our requests are answered.
        self.register_handler(slixmpp.xmlstream.handler.Callback(
            "sm ack seen", slixmpp.xmlstream.matcher.MatchXPath("{urn:xmpp:sm:3}a"),
            lambda a: emit(event="server_ack", h=a["h"])))

    def start(self):
        self.connect((self.cfg.get("host", "127.0.0.1"), self.cfg["port"]), force_starttls=True, disable_starttls=False)

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid))
        self.send_presence()
        if not self.commands_started:
            self.commands_started = True
            asyncio.ensure_future(self.read_commands())

    def on_message(self, msg):
        emit(event="message", frm=str(msg["from"]), id=msg["id"], body=msg["body"],
             delay=bool(msg.xml.find("{urn:xmpp:delay}delay") is not None))

    def on_disconnected(self, _event):
        emit(event="disconnected")
        if self.dropping:
            self.dropping = False
            self.start()

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            if cmd["cmd"] == "send":
                self.send_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
            elif cmd["cmd"] == "request_ack":
                self["xep_0198"].request_ack()
            elif cmd["cmd"] == "drop":
                self.dropping = True
                self.transport.abort()
            elif cmd["cmd"] == "quit":
                break
        self.disconnect()
        await asyncio.sleep(1)
        self.finished.set_result(True)


def main():
    cfg = json.loads(sys.argv[1])
    c = Client(cfg)
    c.start()
    c.loop.run_until_complete(c.finished)


if __name__ == "__main__":
    main()
