import 'reflect-metadata';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { IS_PUBLIC, ROLES, type Role } from '@cx/auth';
import type { EmbeddedApp } from './embedded-app';

// The routes an embedded exchange registered, read from Nest's metadata, for the tests that go over every route
// (the role matrix, hostile input).

export interface Route {
  method: string;
  /** OpenAPI style: `/v1/orders/{id}`. */
  path: string;
  /** null: every authenticated role (no @Roles). */
  roles: readonly Role[] | null;
  isPublic: boolean;
}

export const joinPath = (...parts: Array<string | undefined>): string =>
  `/${parts
    .filter((p): p is string => p !== undefined && p !== '' && p !== '/')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/')}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every route of every controller the app registered, with the roles the guard reads (handler's, else class's). */
export const routesOf = (r: EmbeddedApp): Route[] => {
  const out: Route[] = [];
  for (const module of r.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: never[]) => unknown) | null;
      if (!ctrl) continue;
      const base = Reflect.getMetadata(PATH_METADATA, ctrl) as string | string[] | undefined;
      for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
        if (name === 'constructor') continue;
        const handler = (ctrl.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (sub === undefined || method === undefined) continue;
        const rolesOf = (Reflect.getMetadata(ROLES, handler) ?? Reflect.getMetadata(ROLES, ctrl)) as Role[] | undefined;
        const isPublic = (Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, ctrl)) === true;
        for (const b of [base].flat()) {
          for (const s of [sub].flat()) {
            out.push({ method: RequestMethod[method], path: joinPath(b, s), roles: rolesOf ?? null, isPublic });
          }
        }
      }
    }
  }
  return out;
};
