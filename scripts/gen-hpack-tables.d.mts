/** The text of lib/http2/hpack/tables.ts as the generator writes it. */
export function render(): string;
