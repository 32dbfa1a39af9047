import assert from 'node:assert/strict';
import { InternalError, InvalidArgumentError, PermissionDeniedError, UnsupportedError } from '../../../src/core/errors';
import { errnoName, translateNetlinkError } from '../../../src/netlink/errno';
import {
  AddrExistsError,
  AddrNotFoundError,
  DeviceBusyError,
  LinkExistsError,
  LinkNotFoundError,
  RouteExistsError,
  RouteNotFoundError,
  RouteUnreachableError,
} from '../../../src/netlink/errors';

/** npm netlink 0.3.0 rejects with exactly this shape: a plain Error, the errno name only in the message. */
const rejected = (code: string): Error => new Error(`Request rejected: ${code}`);

describe('errno translation', () => {
  it('reads the errno name from npm netlink messages, Node fs errors and syscall errors', () => {
    assert.equal(errnoName(rejected('EEXIST')), 'EEXIST');
    assert.equal(errnoName(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
    assert.equal(errnoName(new Error('something else')), undefined);
    assert.equal(errnoName('EEXIST'), undefined);
  });

  it('maps EEXIST by operation to the object that exists', () => {
    assert.ok(translateNetlinkError(rejected('EEXIST'), { op: 'linkAdd', netns: null, link: 'br0' }) instanceof LinkExistsError);
    assert.ok(translateNetlinkError(rejected('EEXIST'), { op: 'addrAdd', netns: null, link: 'br0', cidr: '10.0.0.1/24' }) instanceof AddrExistsError);
    assert.ok(translateNetlinkError(rejected('EEXIST'), { op: 'routeAdd', netns: 'sb', dst: 'default' }) instanceof RouteExistsError);
    const moved = translateNetlinkError(rejected('EEXIST'), { op: 'linkSetNetns', netns: null, link: 'v1', targetNetns: 'sb' });
    assert.ok(moved instanceof LinkExistsError);
    assert.match(moved.message, /"v1".*netns "sb"/);
  });

  it('maps missing objects, state refusals and permission errors', () => {
    const ctx = { op: 'linkSetUp', netns: 'sb', link: 'eth0' };
    const nf = translateNetlinkError(rejected('ENODEV'), ctx);
    assert.ok(nf instanceof LinkNotFoundError);
    assert.equal(nf.kind, 'not-found');
    assert.match(nf.message, /link "eth0" not found in netns "sb"/);
    assert.ok(translateNetlinkError(rejected('EADDRNOTAVAIL'), { op: 'addrDel', netns: null, cidr: '10.0.0.1/24', link: 'x' }) instanceof AddrNotFoundError);
    assert.ok(translateNetlinkError(rejected('ESRCH'), { op: 'routeDel', netns: null, dst: '10.0.0.0/8' }) instanceof RouteNotFoundError);
    assert.ok(translateNetlinkError(rejected('ENETDOWN'), { op: 'routeAdd', netns: null, dst: 'default' }) instanceof RouteUnreachableError);
    assert.ok(translateNetlinkError(rejected('ENETUNREACH'), { op: 'routeAdd', netns: null, dst: 'default' }) instanceof RouteUnreachableError);
    assert.ok(translateNetlinkError(rejected('EPERM'), ctx) instanceof PermissionDeniedError);
    assert.ok(translateNetlinkError(rejected('EBUSY'), ctx) instanceof DeviceBusyError);
    assert.ok(translateNetlinkError(rejected('EINVAL'), ctx) instanceof InvalidArgumentError);
  });

  it('calls EOPNOTSUPP on a master "not a bridge", elsewhere unsupported', () => {
    const m = translateNetlinkError(rejected('ENOTSUP'), { op: 'linkSetMaster', netns: null, link: 'v0', master: 'v2' });
    assert.ok(m instanceof InvalidArgumentError);
    assert.match(m.message, /"v2" cannot be a master/);
    assert.ok(translateNetlinkError(rejected('EOPNOTSUPP'), { op: 'linkAdd', netns: null, link: 'd0' }) instanceof UnsupportedError);
  });

  it('keeps the cause and turns unknown failures into InternalError naming the operation', () => {
    const cause = new Error('Timeout has been reached');
    const e = translateNetlinkError(cause, { op: 'linkList', netns: 'sb' });
    assert.ok(e instanceof InternalError);
    assert.equal(e.cause, cause);
    assert.match(e.message, /linkList in netns "sb" failed: Timeout/);
  });
});
