/** Property tests: random allocate/release sequences checked against a simple model of the pool. */

import { type IpFamily, formatAddress, parseAddress } from '../../../src/core/ip';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StoreIpam } from '../../../src/ipam/allocator';
import { ConflictError, ExhaustedError, InvalidArgumentError } from '../../../src/core/errors';
import { MemoryStore } from '../../../src/store/memory-store';

type Cmd = { op: 'any' } | { op: 'specific'; offset: number } | { op: 'release'; offset: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ op: 'any' as const }) },
  fc.record({ op: fc.constant('specific' as const), offset: fc.nat(70) }),
  fc.record({ op: fc.constant('release' as const), offset: fc.nat(70) }),
);

/** A small pool: family, host bits 2..6, and optionally a sub-pool given by its own host bits and index. */
const poolArb = fc.record({
  family: fc.constantFrom<IpFamily>(4, 6),
  hostBits: fc.integer({ min: 2, max: 6 }),
  sub: fc.option(fc.record({ hostBits: fc.integer({ min: 0, max: 5 }), index: fc.nat(63) }), { nil: undefined }),
});

describe('StoreIpam properties', () => {
  it('never hands out an address twice, nor outside the range, nor a network/broadcast address, and always the lowest free', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(poolArb, fc.array(cmdArb, { maxLength: 80 }), async (shape, cmds) => {
        const base = shape.family === 4 ? parseAddress('10.20.30.0').value : parseAddress('fd00:9::').value;
        const bits = shape.family === 4 ? 32 : 128;
        const size = 1n << BigInt(shape.hostBits);
        const poolText = `${formatAddress({ family: shape.family, value: base })}/${bits - shape.hostBits}`;
        // the model, written independently of cidr.ts: v4 drops network+broadcast, v6 drops the network address
        const usableFirst = base + 1n;
        const usableLast = shape.family === 4 ? base + size - 2n : base + size - 1n;
        let rangeFirst = usableFirst;
        let rangeLast = usableLast;
        let subText: string | undefined;
        if (shape.sub && shape.sub.hostBits <= shape.hostBits) {
          const subSize = 1n << BigInt(shape.sub.hostBits);
          const subStart = base + (BigInt(shape.sub.index) % (size / subSize)) * subSize;
          subText = `${formatAddress({ family: shape.family, value: subStart })}/${bits - shape.sub.hostBits}`;
          rangeFirst = subStart > usableFirst ? subStart : usableFirst;
          rangeLast = subStart + subSize - 1n < usableLast ? subStart + subSize - 1n : usableLast;
        }

        const ipam = new StoreIpam({ store: new MemoryStore() });
        const { poolId } = await ipam.requestPool({ addressSpace: 'local', pool: poolText, subPool: subText, v6: shape.family === 6 });
        const model = new Set<bigint>();
        const text = (v: bigint) => formatAddress({ family: shape.family, value: v });
        const prefix = `/${bits - shape.hostBits}`;

        for (const cmd of cmds) {
          if (cmd.op === 'any') {
            let expected: bigint | undefined;
            for (let v = rangeFirst; v <= rangeLast; v++)
              if (!model.has(v)) {
                expected = v;
                break;
              }
            if (expected === undefined) {
              await assert.rejects(ipam.requestAddress({ poolId }), ExhaustedError);
            } else {
              assert.equal(await ipam.requestAddress({ poolId }), text(expected) + prefix);
              model.add(expected);
            }
          } else {
            const v = base + BigInt(cmd.offset);
            if (cmd.op === 'release') {
              if (v < base + size) {
                await ipam.releaseAddress(poolId, text(v));
                model.delete(v);
              } else {
                await assert.rejects(ipam.releaseAddress(poolId, text(v)), InvalidArgumentError);
              }
            } else if (v < usableFirst || v > usableLast) {
              await assert.rejects(ipam.requestAddress({ poolId, address: text(v) }), InvalidArgumentError);
            } else if (model.has(v)) {
              await assert.rejects(ipam.requestAddress({ poolId, address: text(v) }), ConflictError);
            } else {
              assert.equal(await ipam.requestAddress({ poolId, address: text(v) }), text(v) + prefix);
              model.add(v);
            }
          }
          const listed = await ipam.listAddresses(poolId);
          assert.deepEqual(listed, [...model].sort((a, b) => (a < b ? -1 : 1)).map(text));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps parallel requests distinct and the pool consistent while other addresses are released concurrently', async function () {
    this.timeout(60_000);
    const addr = (i: number) => `10.7.0.${i}`;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 62 }), { maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        async (n, preallocated, releaseMask) => {
          const ipam = new StoreIpam({ store: new MemoryStore() });
          const { poolId } = await ipam.requestPool({ addressSpace: 'local', pool: '10.7.0.0/26', v6: false });
          for (const i of preallocated) await ipam.requestAddress({ poolId, address: addr(i) });
          const released = preallocated.filter((_, k) => releaseMask[k]);
          const kept = preallocated.filter((_, k) => !releaseMask[k]).map(addr);
          const settled = await Promise.allSettled([
            ...Array.from({ length: n }, () => ipam.requestAddress({ poolId })),
            ...released.map((i) => ipam.releaseAddress(poolId, addr(i)).then(() => undefined)),
          ]);
          const got: string[] = [];
          for (const s of settled) {
            if (s.status === 'rejected') assert.ok(s.reason instanceof ExhaustedError, String(s.reason));
            else if (s.value !== undefined) got.push(s.value.split('/')[0]);
          }
          assert.equal(new Set(got).size, got.length, 'no address handed out twice');
          for (const a of got) {
            const last = Number(a.split('.')[3]);
            assert.ok(a.startsWith('10.7.0.') && last >= 1 && last <= 62 && !kept.includes(a), a);
          }
          // every address that was free from the start is reachable whatever the interleaving
          assert.ok(got.length >= Math.min(n, 62 - preallocated.length));
          const listed = await ipam.listAddresses(poolId);
          assert.deepEqual(new Set(listed), new Set([...kept, ...got]));
        },
      ),
      { numRuns: 60 },
    );
  });
});
