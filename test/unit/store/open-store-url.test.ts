/** `--store` parsing and the choice of store it makes (no etcd needed: the etcd client connects lazily). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../../../src/core/errors';
import { EtcdStore } from '../../../src/store/etcd-store';
import { openStoreFromUrl, parseStoreSpec } from '../../../src/store/open-store-url';
import { SqliteStore } from '../../../src/store/sqlite-store';

describe('openStoreFromUrl / parseStoreSpec', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-store-url-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens the embedded store in the state directory when no store or "sqlite" is given', async () => {
    for (const spec of [undefined, 'sqlite']) {
      const s = await openStoreFromUrl(spec, dir);
      try {
        assert.ok(s instanceof SqliteStore);
        await s.put('k', 'v');
        assert.ok(fs.existsSync(path.join(dir, 'cnm.db')));
      } finally {
        await s.close();
      }
    }
  });

  it('opens an etcd store on every listed endpoint', async () => {
    const s = await openStoreFromUrl('etcd://10.9.0.1:2379,etcd-b:2379,[fd00::1]:2379');
    try {
      assert.ok(s instanceof EtcdStore);
      assert.deepEqual(s.options.endpoints, ['10.9.0.1:2379', 'etcd-b:2379', '[fd00::1]:2379']);
      assert.equal(String(s), 'etcd://10.9.0.1:2379,etcd-b:2379,[fd00::1]:2379');
    } finally {
      await s.close();
    }
  });

  it('refuses other forms, naming the value and the allowed forms', () => {
    for (const bad of [
      'etcd://',
      'etcd://host',
      'etcd://host:0',
      'etcd://host:70000',
      'etcd://a:1,,b:2',
      'etcd://[nothex]:1',
      'http://h:1',
      'redis://h:1',
      'SQLITE',
    ]) {
      assert.throws(
        () => parseStoreSpec(bad),
        (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(JSON.stringify(bad)) && e.message.includes('etcd://HOST:PORT'),
        bad,
      );
    }
  });
});
