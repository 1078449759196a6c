// Cluster mode's entry point for the composition root (server.ts): the registry that replaces
// the in-memory one and the node that keeps it in step with the other nodes through Redis.

import { hostname } from 'node:os';
import type { ClusterConfig } from '../config/cluster-schema.js';
import type { Logger } from '../log/logger.js';
import type { HookBus } from '../hooks/bus.js';
import type { Router } from '../router/router.js';
import { ClusterSessionRegistry } from './cluster-registry.js';
import { ClusterNode } from './node.js';

export { ClusterNode, ClusterSessionRegistry };

export function defaultNodeName(): string {
  return `${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}`;
}

export function createCluster(config: ClusterConfig, server: { log: Logger; hooks: HookBus; router: Router }): { node: ClusterNode; registry: ClusterSessionRegistry } {
  const registry = new ClusterSessionRegistry();
  const node = new ClusterNode({ config, nodeName: config.nodeName ?? defaultNodeName(), log: server.log, hooks: server.hooks, router: server.router, registry });
  return { node, registry };
}
