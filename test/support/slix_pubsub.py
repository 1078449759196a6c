#!/usr/bin/python3
"""A slixmpp client with its XEP-0060 plugin as a subscriber, driven by JSON lines, for Magpie's
PubSub subscription tests (pending subscriptions, subscription options). Speaks the protocol of
slixmpp.ts (SlixClient with this script).

argv[1] is a JSON object: {"jid", "password", "host", "port"}.
stdin: one JSON command per line:
  {"cmd": "presence"}                              -> {"event": "presence_sent"}
  {"cmd": "subscribe", "service", "node", "options": {var: value or [values]} (optional)}
      -> {"event": "subscribed", "subscription", "subid", "options": {var: value} or null}
  {"cmd": "get_options", "service", "node"}        -> {"event": "options", "fields": {var: value}}
  {"cmd": "set_options", "service", "node", "fields": {var: value}} -> {"event": "options_set"}
  {"cmd": "item_pages", "service", "node", "amount"} -> {"event": "item_pages", "pages": [[id, ...], ...]}
      (the plugin's get_items with iterator=True: XEP-0059 pages, each after the previous <last/>)
  {"cmd": "quit"}
Events: {"event": "session_start"}; {"event": "subscription", "frm", "node", "subscription"} for
a notification of subscription state; {"event": "item", "frm", "node", "id"} for an item event.
Errors: {"event": "error", "cmd", "condition", "app"}.

set_options builds the request itself: the plugin's set_subscription_options sends it as an iq of
type 'get' (slixmpp 1.8), which a server rightly does not treat as a change.
"""
from slix_common import DrivenClient, emit, run
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import register_stanza_plugin
from slixmpp.plugins.xep_0059.stanza import Set
from slixmpp.plugins.xep_0060.stanza.pubsub import Pubsub

# slixmpp 1.8's xep_0060 returns xep_0059's iterator from get_items(iterator=True) but does not
# attach the RSM <set/> to its <pubsub/> stanza; a client using that iterator registers it.
register_stanza_plugin(Pubsub, Set)

SUBOPT = "http://jabber.org/protocol/pubsub#subscribe_options"


def values(form):
    out = {}
    for var, v in form.get_values().items():
        out[var] = v if isinstance(v, (list, bool)) else str(v)
    return out


class Client(DrivenClient):
    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0004", "xep_0059", "xep_0060"))
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("pubsub_subscription", self.on_subscription)
        self.add_event_handler("pubsub_publish", self.on_item)

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid))
        self.start_commands()

    def on_subscription(self, msg):
        s = msg["pubsub_event"]["subscription"]
        emit(event="subscription", frm=str(msg["from"]), node=s["node"], subscription=s["subscription"])

    def on_item(self, msg):
        items = msg["pubsub_event"]["items"]
        emit(event="item", frm=str(msg["from"]), node=items["node"], id=items["item"]["id"])

    def form(self, fields):
        f = self["xep_0004"].make_form(ftype="submit")
        f.add_field(var="FORM_TYPE", ftype="hidden", value=SUBOPT)
        for var, v in fields.items():
            f.add_field(var=var, value=v)
        return f

    async def command(self, cmd):
        c = cmd["cmd"]
        ps = self["xep_0060"]
        try:
            if c == "presence":
                self.send_presence()
                emit(event="presence_sent")
            elif c == "subscribe":
                opts = self.form(cmd["options"]) if cmd.get("options") else None
                iq = await ps.subscribe(cmd["service"], cmd["node"], options=opts)
                sub = iq["pubsub"]["subscription"]
                has_form = iq["pubsub"]["options"].xml.find("{jabber:x:data}x") is not None
                emit(event="subscribed", subscription=sub["subscription"], subid=sub["subid"],
                     options=values(iq["pubsub"]["options"]["options"]) if has_form else None)
            elif c == "get_options":
                iq = await ps.get_subscription_options(cmd["service"], cmd["node"], self.boundjid.bare)
                emit(event="options", fields=values(iq["pubsub"]["options"]["options"]))
            elif c == "set_options":
                iq = self.Iq(sto=cmd["service"], stype="set")
                iq["pubsub"]["options"]["node"] = cmd["node"]
                iq["pubsub"]["options"]["jid"] = self.boundjid.bare
                iq["pubsub"]["options"].append(self.form(cmd["fields"]))
                await iq.send()
                emit(event="options_set")
            elif c == "item_pages":
                pages = []
                it = ps.get_items(cmd["service"], cmd["node"], iterator=True)
                it.amount = cmd["amount"]
                async for page in it:
                    pages.append([item["id"] for item in page["pubsub"]["items"]])
                    if len(pages) > 50:
                        break
                emit(event="item_pages", pages=pages)
        except IqError as e:
            app = [el.tag for el in e.iq["error"].xml if "pubsub#errors" in el.tag]
            emit(event="error", cmd=c, condition=e.iq["error"]["condition"], app=app[0].split("}")[1] if app else None)
        except IqTimeout:
            emit(event="error", cmd=c, condition="timeout")


if __name__ == "__main__":
    run(Client)
