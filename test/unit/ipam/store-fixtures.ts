/** The stores the IPAM tests run on: the in-memory fake and a real SqliteStore in a temp directory. */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore } from '../../../src/store/memory-store';
import { openStore } from '../../../src/store/sqlite-store';
import type { Store } from '../../../src/core/store';

export interface StoreKind {
  name: string;
  /** A fresh store and a cleanup that closes it and removes its files. */
  open(): { store: Store; cleanup: () => Promise<void> };
}

export const STORE_KINDS: StoreKind[] = [
  {
    name: 'MemoryStore',
    open: () => {
      const store = new MemoryStore();
      return { store, cleanup: () => store.close() };
    },
  },
  {
    name: 'SqliteStore',
    open: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-ipam-test-'));
      const store = openStore(dir);
      return {
        store,
        cleanup: async () => {
          await store.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
