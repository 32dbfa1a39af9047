/** Store ops → etcd request ops: the net effect, never touching one key twice (etcd refuses that). */
import assert from 'node:assert/strict';
import type { IRequestOp } from 'etcd3';
import { bytePrefixEnd, KeySpace, toEtcdOps } from '../../../src/store/etcd-txn';
import type { Op } from '../../../src/core/store';

const ks = new KeySpace('cnm/');

/** Readable form: "del a", "del [a, b)", "put a=v" with the key space prefix stripped. */
function show(ops: IRequestOp[]): string[] {
  const k = (b: Buffer | undefined) => (b ? (ks.strip(b) ?? `!${b.toString('hex')}`) : '');
  return ops.map((o) => {
    if (o.request_put) return `put ${k(o.request_put.key)}=${o.request_put.value!.toString()}`;
    const d = o.request_delete_range!;
    if (!d.range_end) return `del ${k(d.key)}`;
    const end = d.range_end.equals(Buffer.from('cnm0')) ? 'END' : k(d.range_end);
    return `del [${k(d.key)}, ${end})`;
  });
}

describe('etcd txn translation', () => {
  it('keeps the last put of a key and drops a put that a later delete undoes', () => {
    const ops: Op[] = [
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'a', value: '2' },
      { type: 'put', key: 'b', value: '1' },
      { type: 'delete', key: 'b' },
    ];
    assert.deepEqual(show(toEtcdOps(ks, ops)), ['del b', 'put a=2']);
  });

  it('splits a prefix delete around keys put again after it', () => {
    const ops: Op[] = [
      { type: 'deletePrefix', prefix: 'p/' },
      { type: 'put', key: 'p/m', value: 'x' },
      { type: 'delete', key: 'q' },
      { type: 'put', key: 'q', value: 'y' },
    ];
    assert.deepEqual(show(toEtcdOps(ks, ops)), ['del [p/, p/m)', 'del [p/m\0, p0)', 'put p/m=x', 'put q=y']);
  });

  it('maps the empty prefix to the whole key space and nothing beyond it', () => {
    assert.deepEqual(show(toEtcdOps(ks, [{ type: 'deletePrefix', prefix: '' }])), ['del [, END)']);
    assert.deepEqual(bytePrefixEnd(Buffer.from([0x61, 0xff, 0xff])), Buffer.from([0x62]));
  });
});
