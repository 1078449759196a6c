#!/usr/bin/python3
"""slixmpp (a third-party client) uploads a file with HTTP File Upload (XEP-0363, plugin
xep_0363: disco of the server's items, slot request, HTTPS PUT through aiohttp) and sends the GET
URL to a contact with Out of Band Data (XEP-0066), for Magpie's end-to-end tests.

argv: jid password host port file-path recipient
stdout: JSON lines {"event": "uploaded", "url"} or {"event": "error", "error"}.
The server's certificate is trusted through SSL_CERT_FILE for the HTTPS PUT.
"""
import asyncio
import json
import ssl
import sys

import slixmpp


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class Uploader(slixmpp.ClientXMPP):
    def __init__(self, jid, password, path, recipient):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.path, self.recipient = path, recipient
        for p in ("xep_0030", "xep_0066", "xep_0363"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda e: (emit(event="error", error="auth"), self.disconnect()))

    async def start(self, _event):
        try:
            # slixmpp 1.8's own discovery (get_info_from_domain) passes coroutines to
            # asyncio.wait, which Python 3.11 refuses; discover the service with plain disco
            # items/info queries and hand it to the plugin.
            items = await self["xep_0030"].get_items(jid=self.boundjid.domain, timeout=10)
            for jid, _node, _name in items["disco_items"]["items"]:
                info = await self["xep_0030"].get_info(jid=jid, timeout=10)
                if "urn:xmpp:http:upload:0" in info["disco_info"]["features"]:
                    self["xep_0363"].upload_service = jid
                    for form in info["disco_info"].iterables:
                        if form["values"].get("FORM_TYPE") == ["urn:xmpp:http:upload:0"]:
                            self["xep_0363"].max_file_size = int(form["values"]["max-file-size"])
            url = await self["xep_0363"].upload_file(self.path, content_type="image/png", timeout=10)
            msg = self.make_message(mto=self.recipient, mbody=url, mtype="chat")
            msg["oob"]["url"] = url
            msg.send()
            emit(event="uploaded", url=url)
        except Exception as e:  # reported to the test, which fails on it
            emit(event="error", error=f"{type(e).__name__}: {e}")
        await asyncio.sleep(0.2)
        self.disconnect()


def main():
    jid, password, host, port, path, recipient = sys.argv[1:7]
    c = Uploader(jid, password, path, recipient)
    c.connect((host, int(port)))
    c.loop.run_until_complete(c.disconnected)


main()
