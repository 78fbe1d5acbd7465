/**
 * Real redis-server topologies on loopback for tests: a Sentinel set that fails over, a Cluster,
 * a node that speaks only TLS. Each lives in a directory the caller owns and removes.
 */
export { RedisNode, type RedisNodeOptions } from './redis-node.js';
export { MASTER_NAME, SentinelSet } from './sentinel-set.js';
export { RedisClusterSet } from './redis-cluster.js';
