/**
 * `covet/app/cache`: a cache service (memory, Redis, two-level), HTTP response caching, and ORM
 * query-result caching hooks.
 * @module
 */
export { Cache, createCache, type CacheBackend, type CacheOptions, type Entry, type SetOptions } from './cache.js';
export { MemoryBackend, RedisBackend, TwoLevelBackend, defaultSerializer, approximateSize, type MemoryOptions, type Serializer, type TwoLevelOptions } from './backends.js';
export { Lru, type LruOptions } from './lru.js';
export { httpCache, sharedMaxAge, type HttpCacheOptions } from './http-cache.js';
