#!/usr/bin/python3
"""A slixmpp client with PEP (xep_0163) and user avatars (xep_0084), driven by JSON lines, for
Magpie's PubSub tests. Speaks the protocol of slixmpp.ts (SlixClient with this script).

argv[1] is a JSON object: {"jid", "password", "host", "port"}.
stdin: one JSON command per line:
  {"cmd": "presence"}                        -> {"event": "presence_sent"} (with caps: +notify for avatar metadata)
  {"cmd": "publish_avatar", "data_b64", "type"} -> {"event": "avatar_published", "id"} | error
  {"cmd": "quit"}
Events: {"event": "session_start"}, {"event": "avatar_metadata", "frm", "id"} on a notification.
Errors: {"event": "error", "cmd", "condition"}.
"""
import asyncio
import base64
import hashlib
import json
import ssl
import sys

import slixmpp


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class Client(slixmpp.ClientXMPP):
    def __init__(self, cfg):
        super().__init__(cfg["jid"], cfg["password"])
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0060", "xep_0115", "xep_0163", "xep_0084"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("avatar_metadata_publish", self.on_metadata)
        self.add_event_handler("failed_auth", lambda e: emit(event="failed_auth"))
        self.add_event_handler("disconnected", lambda e: emit(event="disconnected"))

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid))
        asyncio.ensure_future(self.read_commands())

    def on_metadata(self, msg):
        item = msg["pubsub_event"]["items"]["item"]
        emit(event="avatar_metadata", frm=str(msg["from"]), id=item["id"])

    async def run(self, cmd):
        c = cmd["cmd"]
        if c == "presence":
            await self["xep_0115"].update_caps(broadcast=False)
            self.send_presence()
            emit(event="presence_sent")
        elif c == "publish_avatar":
            data = base64.b64decode(cmd["data_b64"])
            aid = hashlib.sha1(data).hexdigest()
            await self["xep_0084"].publish_avatar(data)
            await self["xep_0084"].publish_avatar_metadata(
                items=[{"id": aid, "type": cmd["type"], "bytes": len(data)}])
            emit(event="avatar_published", id=aid)

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
    c.connect((cfg.get("host", "127.0.0.1"), cfg["port"]), force_starttls=True, disable_starttls=False)
    c.loop.run_until_complete(c.disconnected)


if __name__ == "__main__":
    main()
