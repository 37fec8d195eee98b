// Integration tests talk to real files, processes, HTTP and Kafka; give them time (jest ignores a per-project
// testTimeout, so it is set here).
jest.setTimeout(120_000);
