// Undocumented but long-standing Buffer methods that skip the argument checks of `toString`.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    utf8Slice(start?: number, end?: number): string;
    latin1Write(string: string, offset?: number, length?: number): number;
  }
}
export {};
