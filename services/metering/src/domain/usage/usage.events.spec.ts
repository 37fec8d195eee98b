// Proves the name of a usage stream never changes: it is the exactly-once claim of every event already accepted, so
// a store written by an earlier version must still meet the same names (a repeat is then a duplicate, not a second
// count). The expected names were computed outside Node (Python's hashlib).
import { usageStream } from './usage.events';

describe('usageStream', () => {
  it('is usage- and the sha256 (hex) of source, NUL, id, in UTF-8', () => {
    expect(usageStream('//provider.example/gpu-agent', 'e-1')).toBe(
      'usage-4124f43ea0998c82b104ddfbf206b646952c9ea2cbe18afc11f7d2b570669a53',
    );
    expect(usageStream('//é', '数据')).toBe('usage-ae7c2afb4b657ea88780278170d838f7b8b7d41bb0e38a9bfd869f1f3a518b8d');
  });

  it('keeps the parts apart: ("ab", "c") is not ("a", "bc")', () => {
    expect(usageStream('ab', 'c')).not.toBe(usageStream('a', 'bc'));
  });
});
