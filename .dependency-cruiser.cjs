// The dependency rule of STYLE.md, checked over the resolved import graph (eslint checks the same by pattern):
// domain/ never reaches a framework or SDK, and services never import each other.
const SDK = '^node_modules/(@nestjs|kafkajs|@eventstore|@kurrent|better-sqlite3|fastify|pino)';
const SERVICES = ['metering', 'pricing-guidance', 'matching', 'billing', 'webhooks'];

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'domain/ code is pure: no framework, SDK or store import (STYLE.md).',
      severity: 'error',
      from: { path: '^(services|libs)/[^/]+/src/domain/' },
      to: { path: SDK },
    },
    ...SERVICES.map((svc) => ({
      name: `no-cross-service-${svc}`,
      comment: 'services never import each other; they talk over events (DESIGN.md).',
      severity: 'error',
      from: { path: `^services/${svc}/` },
      to: { path: `^services/(?!${svc}/)` },
    })),
    {
      name: 'libs-do-not-import-services',
      comment:
        'libs are shared by every service, so they cannot depend on one (the audit lib may read pure domain/ code).',
      severity: 'error',
      from: { path: '^libs/(?!audit/)' },
      to: { path: '^services/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
