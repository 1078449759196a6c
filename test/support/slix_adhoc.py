#!/usr/bin/python3
"""A slixmpp client with its ad-hoc commands plugin (XEP-0050, xep_0050), driven by JSON lines,
for Magpie's end-to-end tests of the XEP-0133 administration commands.

argv[1] is a JSON object: {"jid", "password", "host", "port"}.
stdin: one JSON command per line:
  {"cmd": "commands", "jid"}             -> {"event": "commands", "items": [[jid, node, name], ...]}
  {"cmd": "run", "jid", "node", "fields": {var: value or [values]}}
      execute, then complete with the returned form filled in (FORM_TYPE kept)
      -> {"event": "ran", "status", "sessionid", "first_status", "form_vars", "notes": [[type, text]], "result": {var: [values]}}
  {"cmd": "quit"}
Errors: {"event": "error", "cmd", "condition"}.
"""
import slixmpp  # noqa: F401
from slix_common import DrivenClient, emit, run


class Client(DrivenClient):
    def __init__(self, cfg):
        super().__init__(cfg, ("xep_0030", "xep_0004", "xep_0050"))
        self.add_event_handler("session_start", self.on_start)

    async def on_start(self, _event):
        emit(event="session_start", jid=str(self.boundjid))
        self.start_commands()

    async def command(self, cmd):
        c = cmd["cmd"]
        adhoc = self["xep_0050"]
        if c == "commands":
            iq = await adhoc.get_commands(jid=cmd["jid"])
            emit(event="commands", items=[list(i) for i in iq["disco_items"]["items"]])
        elif c == "run":
            first = await adhoc.send_command(cmd["jid"], cmd["node"], action="execute")
            fc = first["command"]
            form = fc["form"]
            answer = self["xep_0004"].make_form(ftype="submit")
            answer.add_field(var="FORM_TYPE", ftype="hidden", value=form["values"]["FORM_TYPE"])
            for var, value in cmd["fields"].items():
                answer.add_field(var=var, value=value)
            done = await adhoc.send_command(cmd["jid"], cmd["node"], action="complete",
                                            payload=answer, sessionid=fc["sessionid"])
            dc = done["command"]
            result = {}
            if dc.xml.find("{jabber:x:data}x") is not None:
                for var, v in dc["form"]["values"].items():
                    result[var] = v if isinstance(v, list) else [v]
            emit(event="ran", status=dc["status"], sessionid=dc["sessionid"], first_status=fc["status"],
                 first_sessionid=fc["sessionid"], form_vars=list(form.get_fields().keys()),
                 notes=[list(n) for n in dc["notes"]], result=result)


if __name__ == "__main__":
    run(Client)
