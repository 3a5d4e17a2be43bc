import { QpackError } from '../../lib/http3/index.js';

/** The QPACK error code `fn` throws: null when it does not throw, −1 for an error that is not a QpackError. */
export const codeOf = (fn: () => unknown): number | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof QpackError ? err.code : -1;
  }
};

/** `[code, message]` of the QpackError `fn` throws (null when it throws none). */
export const errorOf = (fn: () => unknown): [number, string] | null => {
  try {
    fn();
    return null;
  } catch (err) {
    if (!(err instanceof QpackError)) throw err;
    return [err.code, err.message];
  }
};
