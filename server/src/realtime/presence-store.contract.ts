// The behaviour every PresenceStore implementation must have; each implementation's test runs it.
// Two node ids stand for two nodes sharing the store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../test-support/processes.js';
import type { PresenceStore, PresenceTransition } from './presence-store.js';

const LONG = 60_000;

export function describePresenceStoreContract(
  name: string,
  makeStore: () => Promise<{ store: PresenceStore; cleanup: () => Promise<void> }>,
) {
  describe(`PresenceStore contract: ${name}`, () => {
    let store: PresenceStore;
    let cleanup: () => Promise<void>;
    let u: (name: string) => string;
    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      u = (name) => `${name}-${run}`;
    });
    afterEach(() => cleanup());

    const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));
    const byUser = (t: PresenceTransition[]) => t.map((x) => [x.userId, x.online]);

    it('reports the first connection anywhere as online, once', async () => {
      const first = await store.apply('n1', counts({ [u('a')]: 1, [u('b')]: 2 }), LONG);
      expect(byUser(first.transitions)).toEqual([
        [u('a'), true],
        [u('b'), true],
      ]);
      const again = await store.apply('n1', counts({ [u('a')]: 3 }), LONG);
      expect(again.transitions).toEqual([]);
      const elsewhere = await store.apply('n2', counts({ [u('a')]: 1 }), LONG);
      expect(elsewhere.transitions).toEqual([]);
      const states = await store.query([u('a'), u('b'), u('nobody')]);
      expect(states.get(u('a'))).toEqual({ online: true, connections: 4 });
      expect(states.get(u('b'))).toEqual({ online: true, connections: 2 });
      expect(states.get(u('nobody'))).toEqual({ online: false });
    });

    it('reports offline only when the last node lets go, with lastSeen', async () => {
      await store.apply('n1', counts({ [u('a')]: 1 }), LONG);
      await store.apply('n2', counts({ [u('a')]: 1 }), LONG);
      const partial = await store.apply('n1', counts({ [u('a')]: 0 }), LONG);
      expect(partial.transitions).toEqual([]);
      expect((await store.query([u('a')])).get(u('a'))).toEqual({ online: true, connections: 1 });
      const before = Date.now();
      const last = await store.apply('n2', counts({ [u('a')]: 0 }), LONG);
      expect(byUser(last.transitions)).toEqual([[u('a'), false]]);
      const lastSeen = last.transitions[0]!.lastSeen!;
      // Redis stamps with its own clock; allow for a little skew.
      expect(Math.abs(lastSeen - before)).toBeLessThan(5000);
      expect((await store.query([u('a')])).get(u('a'))).toEqual({ online: false, lastSeen });
      // Letting go twice reports nothing more.
      expect((await store.apply('n2', counts({ [u('a')]: 0 }), LONG)).transitions).toEqual([]);
    });

    it('removes a node at once, reporting only users no other node has', async () => {
      await store.apply('n1', counts({ [u('a')]: 1, [u('b')]: 1 }), LONG);
      await store.apply('n2', counts({ [u('b')]: 1 }), LONG);
      expect(byUser(await store.removeNode('n1'))).toEqual([[u('a'), false]]);
      expect((await store.query([u('b')])).get(u('b'))).toEqual({ online: true, connections: 1 });
      expect(await store.removeNode('n1')).toEqual([]);
    });

    it('says when a lease had run out, so the node writes its users again', async () => {
      expect(await store.refresh('n1', LONG)).toBe(false);
      expect(await store.refresh('n1', LONG)).toBe(true);
      expect((await store.apply('n1', counts({ [u('a')]: 1 }), LONG)).leaseLost).toBe(false);
      expect((await store.apply('n3', counts({ [u('b')]: 1 }), LONG)).leaseLost).toBe(true);
    });

    it('reaps the users of a node whose lease ran out, once, and not live nodes', async () => {
      await store.apply('live', counts({ [u('a')]: 1, [u('shared')]: 1 }), LONG);
      await store.apply('dying', counts({ [u('b')]: 1, [u('shared')]: 2 }), 300);
      // A dead node's connections stop counting at once, before any reaping.
      await waitFor('the dying lease to run out', async () => {
        const states = await store.query([u('b')]);
        return states.get(u('b'))?.online === false ? true : undefined;
      });
      expect((await store.query([u('shared')])).get(u('shared'))).toEqual({
        online: true,
        connections: 1,
      });
      const reaped = await store.reap('live', 1000);
      expect(byUser(reaped)).toEqual([[u('b'), false]]);
      expect(reaped[0]!.lastSeen).toBeGreaterThan(0);
      expect(await store.reap('live', 1000)).toEqual([]);
      // The dead node's lease is gone: if it comes back it must write everything again.
      expect(await store.refresh('dying', LONG)).toBe(false);
      expect((await store.query([u('a')])).get(u('a'))?.online).toBe(true);
    });

    it('lets only one reaper work while its lock holds', async () => {
      await store.apply('dying', counts({ [u('b')]: 1 }), 200);
      await store.reap('first', 60_000);
      await waitFor('the dying lease to run out', async () =>
        (await store.query([u('b')])).get(u('b'))?.online === false ? true : undefined,
      );
      expect(await store.reap('second', 60_000)).toEqual([]);
      expect(byUser(await store.reap('first', 60_000))).toEqual([[u('b'), false]]);
    });
  });
}
