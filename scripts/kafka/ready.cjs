// Readiness probe for scripts/kafka/start.sh: exits 0 when the broker at argv[2] answers a kafkajs admin describeCluster.
// Uses the kafkajs the app uses, so "ready" means "ready for our client", not just "port open".
'use strict';
const path = require('path');
const broker = process.argv[2] || '127.0.0.1:9092';
let Kafka, logLevel;
try {
  ({ Kafka, logLevel } = require(require.resolve('kafkajs', { paths: [path.resolve(__dirname, '../..')] })));
} catch {
  process.exit(3); // kafkajs not installed: caller falls back to the port + log check
}
const kafka = new Kafka({
  clientId: 'cx-kafka-ready',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 3000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
const timer = setTimeout(() => process.exit(1), 5000);
admin
  .connect()
  .then(() => admin.describeCluster())
  .then(async (c) => {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
    process.exit(c.brokers.length > 0 && c.controller != null ? 0 : 1);
  })
  .catch(() => process.exit(1));
