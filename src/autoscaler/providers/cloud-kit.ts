/**
 * What the cloud providers of Docker Engine machines (digitalocean, gce) are built from, used
 * together as one namespace (`import * as kit`): the group's name and batched creation and removal
 * (batch.ts), the index of the group's listed machines (machine-index.ts), and the engine on each
 * machine: user data, TLS, readiness and connect calls, config parsing, init (machine-engine.ts).
 */
export { cloudGroupName, createUpTo, removeLocated, usedBeforeInit } from './batch.js';
export { machineIndex } from './machine-index.js';
export {
  engineMachineCalls,
  initCloudProvider,
  machineEngineAnswers,
  machineUserData,
  parseEngineProviderConfig,
} from './machine-engine.js';
