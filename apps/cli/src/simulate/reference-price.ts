import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dec } from '@cx/shared-kernel';
import { parseCsvObjects } from './csv';

// Where the simulated market's prices come from: real on-demand and interruptible (spot) rental prices of H100 SXM
// GPUs, as listed on Vast.ai and catalogued by SkyPilot.
//
//   file:    skypilot-vast-offers-snapshot/vast_vms.csv (see its SOURCE.md: skypilot-org/skypilot-catalog,
//            catalogs/v6/vast/vms.csv at commit 0078d6bc…, 50 offers, USD per hour for the whole offer)
//   rows:    AcceleratorName = "H100" and InstanceType containing "H100_SXM" (the exchange's nvidia-h100-sxm-80g;
//            the H100 NVL offer is another part and is left out). Offers repeated across regions are kept: each is
//            a listing somebody could rent.
//   columns: Price (on-demand, USD/h for the offer) and SpotPrice (interruptible, USD/h), each divided by
//            AcceleratorCount to give USD per GPU-hour, i.e. per accelerator-hour.
//
// From those per-GPU prices:
//   reference price    = median on-demand price            (2.20125 USD in that snapshot)
//   opening floor      = median spot price                 (1.935 USD: the regulator's floor sits at the price of
//                                                            interruptible capacity)
//   raised floor       = lowest on-demand price            (2.13 USD: mid-day the floor rises to the cheapest
//                                                            non-interruptible listing)
//   ceiling            = highest on-demand price × 1.25    (2.40 USD × 1.25)
//   dispersion         = (highest − lowest on-demand) / median on-demand (about 12%): how widely traders price
// all converted to CNY at USD_CNY below and rounded half-even to the tick (0.01 CNY), because the exchange's
// guidance and instruments are in CNY.
//
// The aws-spot-gpu-2022-05-31 dataset has no H100 instance type (p4d is A100, p5 did not exist then), so it is not
// used for this resource class.

/** A fixed, round conversion rate (CNY per USD), not a market quote: it only has to be the same every run. */
export const USD_CNY = '7.20';
export const RESOURCE_CLASS = 'nvidia-h100-sxm-80g';
export const REGION = 'cn-east-1';
export const CURRENCY = 'CNY';
export const DATASET_FILE = join('skypilot-vast-offers-snapshot', 'vast_vms.csv');

export interface ReferencePrices {
  resourceClass: string;
  currency: string;
  /** Per accelerator-hour, CNY, two decimals. */
  reference: string;
  openingFloor: string;
  raisedFloor: string;
  ceiling: string;
  /** Relative spread of on-demand prices (a plain number, e.g. 0.12). */
  dispersion: number;
  source: {
    /** The file read, or null when the dataset was absent and the snapshot's figures below were used. */
    file: string | null;
    offers: number;
    onDemandUsdPerGpuHour: { min: string; median: string; max: string };
    spotUsdPerGpuHour: { median: string };
    usdCny: string;
    note: string;
  };
}

const median = (sorted: Dec[]): Dec => {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as Dec) : (sorted[mid - 1] as Dec).plus(sorted[mid] as Dec).div(2);
};

const cny = (usd: Dec): string => usd.times(USD_CNY).toDecimalPlaces(2, Dec.ROUND_HALF_EVEN).toFixed(2);

/** The per-GPU figures of the snapshot, for a machine without ../shared/data (the same file, computed once). */
const SNAPSHOT = {
  onDemand: ['2.13', '2.13', '2.135', '2.135', '2.2675', '2.2675', '2.2675', '2.40'],
  spot: ['1.335', '1.335', '1.87', '1.87', '2.00', '2.00', '2.00', '2.26625'],
};

export const defaultDataDir = (repoRoot: string, env: NodeJS.ProcessEnv = process.env): string =>
  env.CX_DATA_DIR || join(repoRoot, '..', 'shared', 'data');

export const referencePrices = (dataDir: string): ReferencePrices => {
  const file = join(dataDir, DATASET_FILE);
  let onDemand: Dec[];
  let spot: Dec[];
  let used: string | null = null;
  if (existsSync(file)) {
    const rows = parseCsvObjects(readFileSync(file, 'utf8')).filter(
      (r) => r.AcceleratorName === 'H100' && (r.InstanceType ?? '').includes('H100_SXM'),
    );
    if (rows.length === 0) throw new Error(`${file}: no H100 SXM offers`);
    onDemand = [];
    spot = [];
    for (const r of rows) {
      const count = new Dec(r.AcceleratorCount ?? '');
      if (!count.isInteger() || count.lte(0)) throw new Error(`${file}: bad AcceleratorCount "${r.AcceleratorCount}"`);
      onDemand.push(new Dec(r.Price ?? '').div(count));
      spot.push(new Dec(r.SpotPrice ?? '').div(count));
    }
    used = file;
  } else {
    onDemand = SNAPSHOT.onDemand.map((v) => new Dec(v));
    spot = SNAPSHOT.spot.map((v) => new Dec(v));
  }
  onDemand.sort((a, b) => a.comparedTo(b));
  spot.sort((a, b) => a.comparedTo(b));
  const lo = onDemand[0] as Dec;
  const hi = onDemand[onDemand.length - 1] as Dec;
  const mid = median(onDemand);
  const reference = cny(mid);
  // Keep the story's order whatever the data: opening floor < raised floor < reference.
  let raisedFloor = cny(lo);
  if (new Dec(raisedFloor).gte(reference)) raisedFloor = new Dec(reference).times('0.97').toFixed(2);
  let openingFloor = cny(median(spot));
  if (new Dec(openingFloor).gte(raisedFloor)) openingFloor = new Dec(raisedFloor).times('0.9').toFixed(2);
  return {
    resourceClass: RESOURCE_CLASS,
    currency: CURRENCY,
    reference,
    openingFloor,
    raisedFloor,
    ceiling: cny(hi.times('1.25')),
    dispersion: hi.minus(lo).div(mid).toNumber(),
    source: {
      file: used,
      offers: onDemand.length,
      onDemandUsdPerGpuHour: { min: lo.toString(), median: mid.toString(), max: hi.toString() },
      spotUsdPerGpuHour: { median: median(spot).toString() },
      usdCny: USD_CNY,
      note:
        used === null
          ? `dataset not found under ${dataDir}; used the figures of the same snapshot built into cx simulate`
          : 'Vast.ai offers catalogued by SkyPilot (skypilot-org/skypilot-catalog catalogs/v6/vast/vms.csv @0078d6bc)',
    },
  };
};
