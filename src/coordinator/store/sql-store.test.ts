import { createTestStore } from './create-store.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('sqlite in memory', () => createTestStore());
