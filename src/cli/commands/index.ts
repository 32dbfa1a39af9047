/** Every command module, in the order their commands are listed in `cnm --help`: adding a command is adding a file here. */
import type { CommandModule } from '../command-module';
import * as apply from './apply';
import * as connect from './connect';
import * as containerManage from './container-manage';
import * as containerRun from './container-run';
import * as daemon from './daemon';
import * as doctor from './doctor';
import * as events from './events';
import * as exec from './exec';
import * as gc from './gc';
import * as graph from './graph';
import * as host from './host';
import * as network from './network';
import * as sandbox from './sandbox';

export const COMMAND_MODULES: readonly CommandModule[] = [
  apply,
  connect,
  containerManage,
  containerRun,
  daemon,
  doctor,
  events,
  exec,
  gc,
  graph,
  host,
  network,
  sandbox,
];
