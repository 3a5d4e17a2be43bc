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
