// Every module the server ships, in no particular order (the loader sorts by dependencies).
import type { MagpieModule } from './module.js';
import type { DiscoRegistry } from './disco-registry.js';
import delivery from './delivery/delivery.js';
import ping from './ping/ping.js';
import version from './version/version.js';
import time from './time/time.js';
import { createDiscoModule } from './disco/disco.js';
import roster from './roster/roster.js';
import presence from './presence/presence.js';
import offline from './offline/offline.js';
import blocking from './blocking/blocking.js';
import privacy from './privacy/privacy.js';
import vcard from './vcard/vcard.js';
import privateStorage from './private/private.js';
import last from './last/last.js';
import caps from './caps/caps.js';
import externalServices from './external-services/external-services.js';
import httpUpload from './http-upload/http-upload.js';
import streamManagement from './stream-management/stream-management.js';
import carbons from './carbons/carbons.js';
import csi from './csi/csi.js';
import push from './push/push.js';
import federation from './federation/federation.js';
import mam from './mam/mam.js';
import muc from './muc/muc.js';
import pubsub from './pubsub/pubsub.js';
import bookmarks from './bookmarks/bookmarks.js';
import avatar from './avatar/avatar.js';
import webClient from './web-client/web-client.js';
import register from './register/register.js';
import adhoc from './adhoc/adhoc.js';
import admin from './admin/admin.js';

// One module per line, so that adding one is a one-line change.
export function builtinModules(disco: DiscoRegistry): MagpieModule[] {
  return [
    delivery,
    createDiscoModule(disco),
    ping,
    version,
    time,
    roster,
    presence,
    offline,
    blocking,
    privacy,
    vcard,
    privateStorage,
    last,
    caps,
    externalServices,
    httpUpload,
    streamManagement,
    carbons,
    csi,
    push,
    federation,
    mam,
    muc,
    pubsub,
    bookmarks,
    avatar,
    webClient,
    register,
    adhoc,
    admin,
  ] as MagpieModule[];
}
