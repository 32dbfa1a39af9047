import * as assert from 'node:assert/strict';
import { ConflictError, ExhaustedError } from '../../../src/core/errors';
import { type FirewallState, type PortBinding } from '../../../src/firewall/model';
import { checkBindingConflicts, checkListenerConflicts, choosePorts, parseProcNet } from '../../../src/firewall/ports';

function stateWith(...bindings: PortBinding[][]): FirewallState {
  return {
    networks: [{ id: 'n1', bridge: 'br1', subnets: ['10.1.0.0/24'], masquerade: true, icc: true, internal: false }],
    endpoints: bindings.map((published, i) => ({ networkId: 'n1', endpointId: `e${i + 1}`, addresses: [`10.1.0.${i + 2}`], published })),
  };
}
const tcp = (hostPort: number, extra: Partial<PortBinding> = {}): PortBinding => ({ proto: 'tcp', hostPort, containerPort: 80, ...extra });

const conflictNaming = (port: string) => (err: unknown) => err instanceof ConflictError && err.message.includes(port);

describe('checkBindingConflicts', () => {
  it('rejects one host port published by two endpoints, naming the port and both endpoints', () => {
    assert.throws(
      () => checkBindingConflicts(stateWith([tcp(8080)], [tcp(8080)])),
      (err: unknown) => conflictNaming('tcp/8080')(err) && /e1.*e2/.test((err as Error).message),
    );
  });

  it('rejects overlapping host ranges at the first shared port', () => {
    assert.throws(() => checkBindingConflicts(stateWith([tcp(8000, { hostPortEnd: 8010, containerPortEnd: 90 })], [tcp(8005)])), conflictNaming('tcp/8005'));
  });

  it('rejects a wildcard binding against a specific address of the same family', () => {
    assert.throws(() => checkBindingConflicts(stateWith([tcp(8080)], [tcp(8080, { hostIp: '10.9.9.9' })])), conflictNaming('tcp/8080'));
    assert.throws(() => checkBindingConflicts(stateWith([tcp(8080, { hostIp: '0.0.0.0' })], [tcp(8080, { hostIp: '10.9.9.9' })])), conflictNaming('tcp/8080'));
  });

  it('allows the same port for another protocol, other specific addresses, or another family', () => {
    checkBindingConflicts(stateWith([tcp(8080)], [{ proto: 'udp', hostPort: 8080, containerPort: 80 }]));
    checkBindingConflicts(stateWith([tcp(8080, { hostIp: '10.9.9.8' })], [tcp(8080, { hostIp: '10.9.9.9' })]));
    checkBindingConflicts(stateWith([tcp(8080, { hostIp: '0.0.0.0' })], [tcp(8080, { hostIp: '::' })]));
  });
});

const TCP4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:A0C2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000
`;
const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
  101: 0100007F:D431 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
`;

describe('parseProcNet', () => {
  it('reads TCP listeners and skips established sockets', () => {
    assert.deepEqual(parseProcNet(TCP4, 'tcp'), [
      { proto: 'tcp', ip: '127.0.0.1', port: 8080 },
      { proto: 'tcp', ip: '0.0.0.0', port: 22 },
    ]);
  });

  it('decodes IPv6 addresses word by word', () => {
    assert.deepEqual(parseProcNet(TCP6, 'tcp'), [
      { proto: 'tcp', ip: '::1', port: 80 },
      { proto: 'tcp', ip: '2001:db8::1', port: 443 },
    ]);
  });

  it('reads bound UDP sockets and skips connected ones', () => {
    assert.deepEqual(parseProcNet(UDP4, 'udp'), [{ proto: 'udp', ip: '0.0.0.0', port: 5353 }]);
  });
});

describe('checkListenerConflicts', () => {
  it('rejects a binding whose port a host socket listens on, naming port and socket', () => {
    assert.throws(
      () => checkListenerConflicts([tcp(8000, { hostPortEnd: 8100, containerPortEnd: 180 })], parseProcNet(TCP4, 'tcp')),
      (err: unknown) => conflictNaming('tcp/8080')(err) && (err as Error).message.includes('127.0.0.1:8080'),
    );
  });

  it('allows a listener on another address or protocol', () => {
    checkListenerConflicts([tcp(8080, { hostIp: '10.9.9.9' })], parseProcNet(TCP4, 'tcp'));
    checkListenerConflicts([{ proto: 'udp', hostPort: 8080, containerPort: 80 }], parseProcNet(TCP4, 'tcp'));
  });
});

describe('choosePorts', () => {
  it('keeps fixed ports and picks the first free port of a host range, skipping bindings and listeners', () => {
    const state = stateWith([tcp(8000)]);
    const listeners = [{ proto: 'tcp' as const, ip: '0.0.0.0', port: 8001 }];
    const got = choosePorts(
      [
        tcp(9000),
        { proto: 'tcp', hostPort: 8000, hostPortEnd: 8005, containerPort: 80 },
        { proto: 'tcp', hostPort: 8000, hostPortEnd: 8005, containerPort: 81 },
      ],
      state,
      listeners,
    );
    assert.deepEqual(
      got.map((b) => b.hostPort),
      [9000, 8002, 8003],
    );
  });

  it('picks an ephemeral port for hostPort 0', () => {
    const [b] = choosePorts([{ proto: 'udp', hostPort: 0, containerPort: 53 }], stateWith(), []);
    assert.equal(b.hostPort, 49153);
    assert.equal(b.containerPort, 53);
  });

  it('rejects with ExhaustedError when no port of the range is free', () => {
    assert.throws(
      () =>
        choosePorts(
          [{ proto: 'tcp', hostPort: 8000, hostPortEnd: 8001, containerPort: 80 }],
          stateWith([tcp(8000, { hostPortEnd: 8001, containerPortEnd: 81 })]),
          [],
        ),
      (err: unknown) => err instanceof ExhaustedError && err.message.includes('8000-8001'),
    );
  });
});
