/** Reading EC2 Query API parameters (test part only): `Name.N` lists and `Name.N.Member` structures. */

/** The values of `prefix.1`, `prefix.2`, ... in order. PURE. */
export function list(p: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`) ?? '');
  return out;
}

/** The indices N of the structures `prefix.N.*` present, in order. PURE. */
export function indices(p: URLSearchParams, prefix: string): number[] {
  const seen = new Set<number>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`);
  for (const k of p.keys()) {
    const m = re.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** `Filter.N.Name` / `Filter.N.Value.M` as name → values. PURE. */
export function filters(p: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of indices(p, 'Filter'))
    out.set(p.get(`Filter.${i}.Name`) ?? '', list(p, `Filter.${i}.Value`));
  return out;
}

/** The tags of `TagSpecification.N` whose ResourceType is `type`. PURE. */
export function tagsFor(p: URLSearchParams, type: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const i of indices(p, 'TagSpecification')) {
    if (p.get(`TagSpecification.${i}.ResourceType`) !== type) continue;
    for (const j of indices(p, `TagSpecification.${i}.Tag`))
      tags[p.get(`TagSpecification.${i}.Tag.${j}.Key`) ?? ''] =
        p.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
  }
  return tags;
}
