import * as assert from 'node:assert/strict';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../../src/core/errors';
import { MemoryFirewall } from '../../../src/firewall/memory-firewall';
import { type FirewallState } from '../../../src/firewall/model';

const base = (published: FirewallState['endpoints'][number]['published'] = [], internal = false): FirewallState => ({
  networks: [{ id: 'n1', bridge: 'br1', subnets: ['10.1.0.0/24'], masquerade: true, icc: true, internal }],
  endpoints: [{ networkId: 'n1', endpointId: 'e1', addresses: ['10.1.0.2/24'], published }],
});

describe('MemoryFirewall', () => {
  it('records the applied state normalised and describes a network', async () => {
    const fw = new MemoryFirewall();
    await fw.apply(base([{ proto: 'tcp', hostPort: 8080, containerPort: 80 }]));
    assert.deepEqual(fw.current().endpoints[0].addresses, ['10.1.0.2']);
    assert.deepEqual(fw.publishedPorts(), ['tcp/8080']);
    assert.deepEqual(fw.describe('n1'), {
      networkId: 'n1',
      bridge: 'br1',
      masquerade: true,
      icc: true,
      internal: false,
      published: [{ endpointId: 'e1', bindings: [{ proto: 'tcp', hostPort: 8080, containerPort: 80 }] }],
    });
    assert.equal(fw.applyCount, 1);
  });

  it('rejects endpoints of unknown networks and invalid values, keeping the previous state', async () => {
    const fw = new MemoryFirewall();
    await fw.apply(base());
    await assert.rejects(fw.apply({ networks: [], endpoints: base().endpoints }), NotFoundError);
    await assert.rejects(fw.apply(base([{ proto: 'sctp' as 'tcp', hostPort: 1, containerPort: 1 }])), InvalidArgumentError);
    assert.equal(fw.current().networks.length, 1);
  });

  it('rejects a new binding on a port a modelled host socket listens on, but keeps existing ones', async () => {
    const fw = new MemoryFirewall();
    await fw.apply(base([{ proto: 'udp', hostPort: 53, containerPort: 53 }]));
    fw.listening.push({ proto: 'udp', ip: '0.0.0.0', port: 53 }, { proto: 'tcp', ip: '127.0.0.1', port: 80 });
    await fw.apply(base([{ proto: 'udp', hostPort: 53, containerPort: 53 }]));
    await assert.rejects(
      fw.apply(
        base([
          { proto: 'udp', hostPort: 53, containerPort: 53 },
          { proto: 'tcp', hostPort: 80, containerPort: 80 },
        ]),
      ),
      (err: unknown) => err instanceof ConflictError && err.message.includes('tcp/80'),
    );
  });

  it('reports no published ports for an internal network and forgets everything on removeAll', async () => {
    const fw = new MemoryFirewall();
    await fw.apply(base([{ proto: 'tcp', hostPort: 8080, containerPort: 80 }], true));
    assert.deepEqual(fw.describe('n1')?.published, []);
    assert.equal(fw.describe('n1')?.masquerade, false);
    assert.deepEqual(fw.publishedPorts(), []);
    await fw.removeAll();
    assert.equal(fw.describe('n1'), undefined);
  });

  it('resolves -P to a port that neither applied bindings nor listeners use', async () => {
    const fw = new MemoryFirewall({ listening: [{ proto: 'tcp', ip: '::', port: 49154 }] });
    await fw.apply(base([{ proto: 'tcp', hostPort: 49153, containerPort: 80 }]));
    const [b] = await fw.resolvePorts([{ proto: 'tcp', hostPort: 0, containerPort: 443 }]);
    assert.equal(b.hostPort, 49155);
  });
});
