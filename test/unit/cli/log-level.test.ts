import { strict as assert } from 'node:assert';
import { daemonLogLevel } from '../../../src/cli/log';

describe('daemonLogLevel', () => {
  it('is info by default and debug with --debug', () => {
    assert.equal(daemonLogLevel(undefined, false, {}), 'info');
    assert.equal(daemonLogLevel(undefined, true, {}), 'debug');
  });
  it('takes CNM_LOG_LEVEL (the managed plugin setting), and --log-level over it', () => {
    assert.equal(daemonLogLevel(undefined, false, { CNM_LOG_LEVEL: 'WARN' }), 'warn');
    assert.equal(daemonLogLevel('error', true, { CNM_LOG_LEVEL: 'debug' }), 'error');
    assert.equal(daemonLogLevel(undefined, true, { CNM_LOG_LEVEL: ' ' }), 'debug');
  });
  it('names the bad value, where it came from and the levels allowed', () => {
    assert.throws(() => daemonLogLevel('loud', false, {}), /--log-level "loud" is not a log level: use one of debug, info, warn, error/);
    assert.throws(() => daemonLogLevel(undefined, false, { CNM_LOG_LEVEL: 'trace' }), /CNM_LOG_LEVEL "trace"/);
  });
});
