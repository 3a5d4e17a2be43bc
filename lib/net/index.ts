/**
 * `covet/net`: sockets, buffers and timers — the only layer that touches `node:net`/`node:tls`.
 * @module
 */
export { BufferPool, defaultBufferPool, type BufferPoolOptions } from './buffer-pool.js';
export { TimeoutSweeper, defaultSweeper, type Timed } from './timeout-sweeper.js';
export { SlotSet } from './slot-set.js';
export { StreamTable } from './stream-table.js';
export {
  Connection,
  type ConnectionHandler,
  type ConnectionOptions,
  type CloseListener,
  type TimeoutKind,
} from './connection.js';
export { readIntoSharedBuffer, readIntoStream, sharedReadAvailable } from './shared-read.js';
export { directWriteMode, type DirectWriteMode } from './direct-write.js';
export { handleIoAvailable, type RawHandle } from './handle-io.js';
export { Server, type ServerOptions, type ListenOptions, type CloseOptions, type TlsOptions } from './server.js';
export { startCluster, type ClusterOptions, type ClusterHandle } from './cluster.js';
