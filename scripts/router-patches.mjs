/**
 * Build-time replacements in find-my-way (Fastify's router), applied by `scripts/bundle.mjs` to
 * the bundle (the unbundled build, `dist/cli`, runs the package as it is).
 */
import { readFile } from 'node:fs/promises';

/**
 * find-my-way (Fastify's router) compiles small functions with `new Function` for every route it
 * adds: a prefix matcher per static node of the route tree, a params-object builder per handler,
 * and a constraint matcher per handler that only a router with constraints (versions, hosts) ever
 * calls. The coordinator adds ~230 handlers: ~650 `new Function` compilations at each start,
 * none of them in the code cache. These replacements keep what each function answers: the
 * prefix matcher compares the prefix's characters after the first (which the caller has already
 * compared) with `startsWith`, the params builder assigns the same names in the same order, and
 * the constraint matcher is compiled as before, from the same state, on its first call instead of
 * at each `addHandler`. A find-my-way whose code no longer matches is bundled unchanged (with a
 * warning).
 */
export const ROUTER_PATCHES = [
  {
    file: /find-my-way[\\/]lib[\\/]node\.js$/,
    from: / {2}const lines = \[\]\n {2}for \(let i = 1; i < prefix\.length; i\+\+\) \{\n[^]*?return new Function\('path', 'i'[^\n]*\n/,
    to: `  const rest = prefix.slice(1)
  return function matchPrefix (path, i) {
    return path.startsWith(rest, i + 1)
  }
`,
  },
  {
    file: /find-my-way[\\/]lib[\\/]handler-storage\.js$/,
    from: / {2}_compileCreateParamsObject \(params\) \{\n[^]*?return new Function\('NullObject'[^\n]*\n {2}\}\n/,
    to: `  _compileCreateParamsObject (params) {
    const names = params.slice()
    return function _createParamsObject (param0, param1, param2, param3, extraParams) {
      const out = new NullObject()
      for (let i = 0; i < names.length; i++) {
        out[names[i]] = i === 0 ? param0 : i === 1 ? param1 : i === 2 ? param2 : i === 3 ? param3 : extraParams[i - 4]
      }
      return out
    }
  }
`,
  },
  {
    file: /find-my-way[\\/]lib[\\/]handler-storage\.js$/,
    from: / {2}_compileGetHandlerMatchingConstraints \(constrainer\) \{\n/,
    to: `  _compileGetHandlerMatchingConstraints (constrainer) {
    this._getHandlerMatchingConstraints = function (derivedConstraints) {
      this._compileGetHandlerMatchingConstraintsNow(constrainer)
      return this._getHandlerMatchingConstraints(derivedConstraints)
    }
  }

  _compileGetHandlerMatchingConstraintsNow (constrainer) {
`,
  },
];

/** An esbuild plugin applying ROUTER_PATCHES. */
export const routerPatches = {
  name: 'find-my-way-without-new-function',
  setup(b) {
    b.onLoad({ filter: /find-my-way[\\/]lib[\\/](node|handler-storage)\.js$/ }, async (args) => {
      let contents = await readFile(args.path, 'utf8');
      const warnings = [];
      for (const patch of ROUTER_PATCHES) {
        if (!patch.file.test(args.path)) continue;
        if (patch.from.test(contents)) contents = contents.replace(patch.from, patch.to);
        else
          warnings.push({ text: `find-my-way changed: ${patch.from.source.slice(0, 40)}... not replaced` });
      }
      return { contents, loader: 'js', warnings };
    });
  },
};
