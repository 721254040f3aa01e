/**
 * JSON with object keys sorted, so that two params objects that differ only
 * in key order give the same text. Used as a session-memory key. Returns
 * `undefined` for values JSON cannot represent (cycles, BigInt): such calls
 * are simply never remembered.
 */
export const canonicalJson = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value, (_key, v: unknown) =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v)
  } catch {
    return undefined
  }
}
