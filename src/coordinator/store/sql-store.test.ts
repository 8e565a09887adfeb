import { createMemoryStore } from './create-store.js';
import { describeStoreConformance } from '../../../test/kits/coordinator/store/conformance.js';
import { describeFleetConformance } from '../../../test/kits/coordinator/store/conformance-fleet.js';
import { describeRemovalConformance } from '../../../test/kits/coordinator/store/conformance-removal.js';

describeStoreConformance('sqlite in memory', () => createMemoryStore());
describeRemovalConformance('sqlite in memory', () => createMemoryStore());
describeFleetConformance('sqlite in memory', () => createMemoryStore());
