import { parentPort, workerData } from 'node:worker_threads';
import { hashPassOverRows, type HashWorkerData, type HashWorkerMessage } from './hash-pass';

// The worker thread of hashPassInWorker: one pass over a store's rows, answered in one message.

if (parentPort !== null) {
  const { file, upTo, maxViolations } = workerData as HashWorkerData;
  let message: HashWorkerMessage;
  try {
    message = { ok: true, result: hashPassOverRows(file, upTo, maxViolations) };
  } catch (e) {
    message = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  parentPort.postMessage(message);
}
