/**
 * A cloud group's machines by name: where each one is (its id or zone) and its address, learnt from
 * the provider's listings, so that a removal or a connection does not list the whole group again.
 */

/** How one provider lists, names, places and addresses its machines. */
export interface MachineIndexSpec<W, M> {
  /** Lists the group's machines. */
  list(): Promise<M[]>;
  name(machine: M): string;
  /** Where the machine is: what `get` and the provider's delete call need (an id, a zone). */
  where(machine: M): W;
  address(machine: M): string | null;
  get(where: W, name: string): Promise<M | null>;
  /** The error message for a machine that has no address (yet). */
  noAddress(name: string): string;
}

export interface MachineIndex<W, M> {
  /** Where each known machine is, by name. */
  readonly where: Map<string, W>;
  /** Records where the listed machines are and their addresses. */
  learn(machines: readonly M[]): void;
  /** Lists the group and learns it. */
  listAll(): Promise<M[]>;
  /** Where machine `name` is, listing the group when it is not known; null when not listed. */
  locate(name: string): Promise<W | null>;
  /** Machine `name`'s address, remembered once read (it does not change while the machine lives). */
  address(name: string): Promise<string>;
  forget(name: string): void;
}

export function machineIndex<W, M>(spec: MachineIndexSpec<W, M>): MachineIndex<W, M> {
  const where = new Map<string, W>();
  const addresses = new Map<string, string>();

  function learn(machines: readonly M[]): void {
    for (const m of machines) {
      where.set(spec.name(m), spec.where(m));
      const a = spec.address(m);
      if (a) addresses.set(spec.name(m), a);
    }
  }

  async function listAll(): Promise<M[]> {
    const machines = await spec.list();
    learn(machines);
    return machines;
  }

  async function locate(name: string): Promise<W | null> {
    if (!where.has(name)) await listAll();
    return where.get(name) ?? null;
  }

  async function address(name: string): Promise<string> {
    const known = addresses.get(name);
    if (known) return known;
    const w = await locate(name);
    const listed = addresses.get(name);
    if (listed) return listed;
    const machine = w === null ? null : await spec.get(w, name);
    const a = machine ? spec.address(machine) : null;
    if (!a) throw new Error(spec.noAddress(name));
    addresses.set(name, a);
    return a;
  }

  return {
    where,
    learn,
    listAll,
    locate,
    address,
    forget(name) {
      where.delete(name);
      addresses.delete(name);
    },
  };
}
