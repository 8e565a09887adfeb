/**
 * `import()` of a module outside the build (a provider plugin, named by the user). The bundle
 * (`scripts/bundle.mjs`) runs its code in a `vm.Script`, where Node 20 has no `import()`: its loader
 * hands its own `import` in as `__flotillaImportModule`. Compiled without the bundle, the name is
 * not defined and the module's own `import()` is used.
 */
declare const __flotillaImportModule: ((specifier: string) => Promise<unknown>) | undefined;

export function importModule(specifier: string): Promise<unknown> {
  return typeof __flotillaImportModule === 'function'
    ? __flotillaImportModule(specifier)
    : (import(specifier) as Promise<unknown>);
}
