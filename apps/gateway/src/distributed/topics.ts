import { billingTopicSpecs } from '@cx/billing';
import { matchingTopicSpecs } from '@cx/matching';
import { meteringTopicSpecs } from '@cx/metering';
import type { TopicSpec } from '@cx/messaging';
import { guidanceTopicSpec, marketStatusTopicSpec, surveillanceTopicSpecs } from '@cx/pricing-guidance';

/**
 * Every integration topic but identity's (whose name is configuration, and which the host declares itself). Each
 * service declares them all at start: declaring is create-if-missing, so whichever process starts first lays a
 * topic out with its owner's spec and the others find it, and a consumer never subscribes to a topic that does not
 * exist yet. The specs live with the service that owns each topic; a host may read them all (only services are
 * forbidden to import each other). The gateway declares only those the webhooks module it hosts consumes.
 */
export const serviceTopicSpecs = (): TopicSpec[] => {
  const byName = new Map<string, TopicSpec>();
  for (const spec of [
    guidanceTopicSpec,
    marketStatusTopicSpec,
    ...surveillanceTopicSpecs,
    ...matchingTopicSpecs,
    ...meteringTopicSpecs,
    ...billingTopicSpecs,
  ])
    if (!byName.has(spec.name)) byName.set(spec.name, spec);
  return [...byName.values()];
};

/** Of those, the topics a consumer hears (the gateway's webhooks module), laid out with their owners' specs. */
export const topicSpecsFor = (names: readonly string[]): TopicSpec[] => {
  const wanted = new Set(names);
  return serviceTopicSpecs().filter((spec) => wanted.has(spec.name));
};
