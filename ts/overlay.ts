/** `base` with every value `over` sets (plain objects merged field by field, undefined skipped). */
export function overlay<T>(base: T, over: T): T {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value !== undefined) merged[key] = overlay(merged[key], value);
  }
  return merged as T;
}
