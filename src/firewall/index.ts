/** The firewall layer's public surface: the Firewall contract, its desired-state model and implementations. */
export * from './model';
export * from './firewall';
export { NftFirewall, NftFirewallOptions, FirewallLogger } from './nft-firewall';
export { MemoryFirewall } from './memory-firewall';
export { HostExec, LocalHostExec, NetnsHostExec, CommandResult } from './host-exec';
export { setBridgePortIsolated, getBridgePortIsolated, portIsolationPlan } from './bridge-port';
export { PortRequest, Listener, EPHEMERAL_RANGE } from './ports';
export { renderRuleset, TABLE } from './nft-render';
export { checkHostAddresses, readLocalAddresses } from './host-addresses';
