-- Test fixture for test/s2s/prosody.test.ts: Prosody's s2s resolver asks DNS only, and the test
-- domains (m.localhost...) have no DNS. This module answers the resolution of the domains listed
-- in the global option `test_static_routes = { ["domain"] = { "127.0.0.1", port } }` with that
-- address, by wrapping net.resolvers.service.new (mod_s2s looks it up at call time); every other
-- domain resolves as usual. Direct TLS lookups (xmpps-server) for those domains find nothing.
local service = require "net.resolvers.service";
local manual = require "net.resolvers.manual";
local routes = module:get_option("test_static_routes", {});
local original = service.new;

service.new = function (hostname, service_name, protocol, extra)
	local target = routes[hostname];
	if not target then return original(hostname, service_name, protocol, extra); end
	if service_name ~= "xmpp-server" then return manual.new({}, protocol, extra); end
	module:log("debug", "static route for %s: %s:%d", hostname, target[1], target[2]);
	return manual.new({ { protocol .. "4", target[1], target[2], extra } }, protocol, extra);
end

function module.unload()
	service.new = original;
end
