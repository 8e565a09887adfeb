export * from './job-status.js';
export * from './runner-api.js';
export * from './rest-api.js';
export * from './announced-jobs.js';
