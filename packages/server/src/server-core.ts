// What the stream layer and the router see of the server: the collaborators, by name, with no
// start-up logic (that lives in server.ts, the composition root).

import type { Config, HostConfig } from './config/schema.js';
import type { Logger } from './log/logger.js';
import type { HookBus } from './hooks/bus.js';
import type { SessionRegistry } from './session/registry.js';
import type { CertificateStore } from './tls/certificates.js';
import type { AccountService } from './accounts/accounts.js';
import type { AuthThrottle } from './stream/auth-throttle.js';
import type { Router } from './router/router.js';
import type { Storage } from './storage/storage.js';
import type { HttpRoutes } from './transports/http-routes.js';

export interface ServerCore {
  readonly config: Config;
  readonly log: Logger;
  readonly hooks: HookBus;
  readonly sessions: SessionRegistry;
  readonly router: Router;
  readonly certs: CertificateStore;
  readonly accounts: AccountService;
  readonly throttle: AuthThrottle;
  readonly storage: Storage;
  /** HTTP paths modules serve on the web listeners. */
  readonly httpRoutes: HttpRoutes;
  hostConfig(domain: string): HostConfig | undefined;
  isLocalHost(domain: string): boolean;
  /** A domain this server answers for: hosted, a configured external component's, or one a
      module serves (upload.<host>, conference.<host>, …). Other servers may address these. */
  isServedDomain(domain: string): boolean;
  /** Serve `domain` as an internal component (a module's service); returns the undo. */
  serveDomain(domain: string): () => void;
  /** Is shutting down: refuse new streams. */
  readonly stopping: boolean;
}
