// "The band in force at time T" lives in @cx/guidance, one implementation for every service (matching, billing and
// the audit resolve bands with it too). It is generic over the version shape, so pricing-guidance's own
// `BandVersion` goes in and comes out unchanged; this module keeps the domain's import path stable.
export { bandAt, versionInForce } from '@cx/guidance';
