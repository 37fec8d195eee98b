import type { ResourceClassProfile } from './resource-class.events';

// The catalog a fresh exchange starts with (embedded mode, first start): the accelerators traded on Chinese
// compute markets today and four delivery regions. Memory is the vendor's nominal on-package figure; it names the
// class, it is not a measured quantity. Admin amends or extends it like any other catalog entry.

export const starterResourceClasses: ReadonlyArray<ResourceClassProfile & { resourceClassId: string }> = [
  {
    resourceClassId: 'nvidia-h100-sxm-80g',
    vendor: 'NVIDIA',
    model: 'H100 SXM',
    memoryGiB: 80,
    interconnect: 'NVLink 4 (900 GB/s)',
    units: ['accelerator-hour', 'thousand-tokens'],
  },
  {
    resourceClassId: 'nvidia-h200-sxm-141g',
    vendor: 'NVIDIA',
    model: 'H200 SXM',
    memoryGiB: 141,
    interconnect: 'NVLink 4 (900 GB/s)',
    units: ['accelerator-hour', 'thousand-tokens'],
  },
  {
    resourceClassId: 'nvidia-h20-96g',
    vendor: 'NVIDIA',
    model: 'H20',
    memoryGiB: 96,
    interconnect: 'NVLink 4 (900 GB/s)',
    units: ['accelerator-hour', 'thousand-tokens'],
  },
  {
    resourceClassId: 'nvidia-a100-sxm-80g',
    vendor: 'NVIDIA',
    model: 'A100 SXM',
    memoryGiB: 80,
    interconnect: 'NVLink 3 (600 GB/s)',
    units: ['accelerator-hour'],
  },
  {
    resourceClassId: 'nvidia-l40s-48g',
    vendor: 'NVIDIA',
    model: 'L40S',
    memoryGiB: 48,
    interconnect: 'PCIe 4.0 x16',
    units: ['accelerator-hour', 'thousand-tokens'],
  },
  {
    resourceClassId: 'huawei-ascend-910b-64g',
    vendor: 'Huawei',
    model: 'Ascend 910B',
    memoryGiB: 64,
    interconnect: 'HCCS (392 GB/s)',
    units: ['accelerator-hour', 'thousand-tokens'],
  },
  {
    resourceClassId: 'huawei-ascend-910c-128g',
    vendor: 'Huawei',
    model: 'Ascend 910C',
    memoryGiB: 128,
    interconnect: 'HCCS',
    units: ['accelerator-hour', 'thousand-tokens'],
  },
];

export const starterRegions: ReadonlyArray<{ regionId: string; name: string }> = [
  { regionId: 'cn-east-1', name: 'East China (Shanghai)' },
  { regionId: 'cn-north-1', name: 'North China (Beijing)' },
  { regionId: 'cn-south-1', name: 'South China (Shenzhen)' },
  { regionId: 'cn-west-1', name: 'West China (Gui’an)' },
];
