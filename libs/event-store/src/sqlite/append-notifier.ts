// Wakes the subscriptions of every store opened on the same file in this process when one of them commits,
// so live delivery inside a process needs no polling. Other processes are noticed by polling
// PRAGMA data_version (see the adapter). Keyed by the file's real path, so two spellings of one path meet.

type Listener = () => void;

const listenersByFile = new Map<string, Set<Listener>>();

export const onAppend = (fileKey: string, listener: Listener): (() => void) => {
  let set = listenersByFile.get(fileKey);
  if (set === undefined) {
    set = new Set();
    listenersByFile.set(fileKey, set);
  }
  set.add(listener);
  return () => {
    const current = listenersByFile.get(fileKey);
    if (current === undefined) return;
    current.delete(listener);
    if (current.size === 0) listenersByFile.delete(fileKey);
  };
};

export const notifyAppend = (fileKey: string): void => {
  const set = listenersByFile.get(fileKey);
  if (set === undefined) return;
  for (const listener of [...set]) listener();
};
