// A real S3-compatible server process for the cache tests (a test part only): the maintained
// @20minutes/s3rver fork, which verifies AWS Signature V4 (headers and pre-signed query strings)
// and refuses expired pre-signed URLs. Usage: node s3-server-main.mjs ADDRESS PORT DIR BUCKET...
// Prints "S3 listening on ADDRESS:PORT" once it accepts connections.
/* global process */

import S3rver from '@20minutes/s3rver';

const [address = '127.0.0.1', port = '0', directory, ...buckets] = process.argv.slice(2);
if (!directory) {
  process.stderr.write('usage: s3-server-main.mjs ADDRESS PORT DIR BUCKET...\n');
  process.exit(2);
}
const server = new S3rver({
  address,
  port: Number(port),
  directory,
  silent: true,
  // path-style only: a host name (e.g. a name jobs reach the server by) is not a bucket
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
server.run().then(
  (info) => process.stdout.write(`S3 listening on ${info.address}:${info.port}\n`),
  (err) => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
  },
);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close().finally(() => process.exit(0)));
