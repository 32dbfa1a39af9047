import assert from 'node:assert/strict';
import { settledWithin } from '../../../src/core/deadline';

describe('settledWithin', () => {
  it('says whether a promise settled (resolved or rejected) within the time, and false for one still pending', async () => {
    assert.equal(await settledWithin(Promise.resolve(1), 50), true);
    assert.equal(await settledWithin(Promise.reject(new Error('no')), 50), true);
    assert.equal(await settledWithin(new Promise(() => undefined), 30), false);
  });
});
