// The proto checks must fail when they should, on a copy of the repository's contracts: a breaking change to a
// published contract (deleted, retyped, renumbered or renamed field) fails `check-breaking`, a compatible one
// (a new field, a new event) passes, and generated code that proto/ would not produce fails `generate --check`.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '..', '..');
const TRADES = 'proto/cx/matching/v1/trades.proto';

const run = (script: string, root: string, ...args: string[]) => {
  const res = spawnSync(process.execPath, [join(repo, 'scripts', 'proto', script), '--root', root, ...args], {
    encoding: 'utf8',
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
};

describe('proto checks', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cx-proto-'));
    cpSync(join(repo, 'proto'), join(root, 'proto'), { recursive: true });
    cpSync(join(repo, 'libs', 'contracts', 'src', 'gen'), join(root, 'libs', 'contracts', 'src', 'gen'), {
      recursive: true,
    });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const edit = (file: string, from: string | RegExp, to: string) => {
    const path = join(root, file);
    const before = readFileSync(path, 'utf8');
    const after = before.replace(from, to);
    expect(after).not.toBe(before);
    writeFileSync(path, after);
  };

  it('passes on the contracts as they are, and the committed code is what they generate', () => {
    const breaking = run('check-breaking.mjs', root);
    expect(breaking.output).toContain('no breaking change');
    expect(breaking.status).toBe(0);
    const check = run('generate.mjs', root, '--check');
    expect(check.output).toContain('generated code is up to date');
    expect(check.status).toBe(0);
  });

  it.each([
    ['deleting a field', /\n\s*string quantity = 7 \[\(cx\.common\.v1\.decimal\) = true\];/, '', /quantity/],
    ['changing a field type', 'string quantity = 7 [(cx.common.v1.decimal) = true];', 'double quantity = 7;', /type/i],
    [
      'changing a field type (string to bytes)',
      'string buy_order_id = 8;',
      'bytes buy_order_id = 8;',
      /buy_order_id|type/i,
    ],
    ['deleting a field (not the last decimal)', /\n\s*string sell_order_id = 9;/, '', /sell_order_id|deleted/i],
    ['renumbering a field', 'string trade_id = 1;', 'string trade_id = 20;', /trade_id|1/],
    ['renaming a field', 'string trade_id = 1;', 'string trade_ref = 1;', /trade_id|name/i],
    ['making a field optional', 'string region = 4;', 'optional string region = 4;', /region|presence|oneof/i],
    [
      'deleting an event from the topic',
      /\n\s*TradeExecuted trade_executed = 16;/,
      '\n    string placeholder = 17;',
      /16|trade_executed/,
    ],
  ])('fails on %s', (_name, from, to, mentions) => {
    edit(TRADES, from, to);
    const res = run('check-breaking.mjs', root);
    expect(res.status).not.toBe(0);
    expect(res.output).toMatch(mentions);
    expect(res.output).toContain('breaking change against proto/baseline/image.binpb');
    expect(res.output).not.toContain('no breaking change');
  });

  it('fails on removing an enum value', () => {
    edit('proto/cx/matching/v1/types.proto', /\n\s*TIME_IN_FORCE_FOK = 4;/, '');
    expect(run('check-breaking.mjs', root).status).not.toBe(0);
  });

  it('passes on compatible changes: a new field, a new event on a topic, a new topic file', () => {
    edit(
      TRADES,
      '  cx.common.v1.Money ceiling = 16;\n}',
      '  cx.common.v1.Money ceiling = 16;\n  // A new field.\n  string venue = 17;\n}',
    );
    edit(
      TRADES,
      '    TradeExecuted trade_executed = 16;',
      '    TradeExecuted trade_executed = 16;\n    TradeBusted trade_busted = 17;',
    );
    writeFileSync(
      join(root, TRADES),
      `${readFileSync(join(root, TRADES), 'utf8')}\nmessage TradeBusted {\n  string trade_id = 1;\n  string reason = 2;\n}\n`,
    );
    writeFileSync(
      join(root, 'proto/cx/pricing/v1/index.proto'),
      'syntax = "proto3";\n\npackage cx.pricing.v1;\n\nmessage IndexEvent {\n  string resource_class = 1;\n}\n',
    );
    const res = run('check-breaking.mjs', root);
    expect(res.output).toContain('no breaking change');
    expect(res.status).toBe(0);
  });

  it('fails the generated-code check when the generated code was edited by hand', () => {
    edit('libs/contracts/src/gen/cx/matching/v1/trades_pb.ts', 'tradeId: string;', 'tradeId: number;');
    const check = run('generate.mjs', root, '--check');
    expect(check.status).toBe(1);
    expect(check.output).toContain('differs: cx/matching/v1/trades_pb.ts');
  });

  it('fails the generated-code check when proto/ changed without regenerating, and passes once regenerated', () => {
    edit(
      TRADES,
      '  cx.common.v1.Money ceiling = 16;\n}',
      '  cx.common.v1.Money ceiling = 16;\n  string venue = 17;\n}',
    );
    const stale = run('generate.mjs', root, '--check');
    expect(stale.status).toBe(1);
    expect(stale.output).toContain('differs: cx/matching/v1/trades_pb.ts');
    expect(run('generate.mjs', root).status).toBe(0);
    expect(readFileSync(join(root, 'libs/contracts/src/gen/cx/matching/v1/trades_pb.ts'), 'utf8')).toContain(
      'venue: string;',
    );
    expect(run('generate.mjs', root, '--check').status).toBe(0);
  });
});
