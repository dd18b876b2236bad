// Sorting for tables: one comparator that puts numbers in numeric order, nulls last, and
// text in the person's locale order.

export type SortDir = 'asc' | 'desc';
export type SortState<K extends string> = { key: K; dir: SortDir };

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function compare(a: unknown, b: unknown): number {
  const na = a === null || a === undefined || a === '';
  const nb = b === null || b === undefined || b === '';
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

export function sortRows<T, K extends string>(rows: T[], sort: SortState<K>, value: (row: T, key: K) => unknown): T[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((x, y) => {
    const vx = value(x, sort.key);
    const vy = value(y, sort.key);
    // Nulls stay last in both directions.
    const nx = vx === null || vx === undefined || vx === '';
    const ny = vy === null || vy === undefined || vy === '';
    if (nx || ny) return nx === ny ? 0 : nx ? 1 : -1;
    return sign * compare(vx, vy);
  });
}

export function nextSort<K extends string>(s: SortState<K>, key: K): SortState<K> {
  return s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' };
}
