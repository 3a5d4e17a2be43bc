/**
 * `covet/app/realtime`: WebSocket rooms (local or across instances through Redis) and Server-Sent Events.
 * @module
 */
export { Rooms, type RoomsOptions, type Member } from './rooms.js';
export { sse, SseStream, SseTopic, type SseEvent, type SseOptions } from './sse.js';
