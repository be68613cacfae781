/** The route a request takes: the stable version, or the canary taking its share. Shadow is a copy, never a choice. */
export type ServedRoute = 'stable' | 'canary';

/**
 * Which of 100 buckets a routing key falls in: FNV-1a (32 bit) of its UTF-16 code units, so a key keeps its
 * bucket across processes and restarts, and a canary at weight w takes exactly the keys in buckets < w.
 */
export function routingBucket(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 100;
}

/**
 * Weighted choice between stable and canary. With a routing key the choice is sticky: one key lands on
 * the same side for a given weight, and raising the weight only moves keys from stable to canary.
 */
export function chooseRoute(canaryWeight: number, routingKey: string | undefined, random: () => number = Math.random): ServedRoute {
  if (canaryWeight <= 0) return 'stable';
  if (canaryWeight >= 100) return 'canary';
  const draw = routingKey === undefined ? random() * 100 : routingBucket(routingKey);
  return draw < canaryWeight ? 'canary' : 'stable';
}
