/** The manager's own environment minus flotilla's settings (which may hold secrets such as tokens). */
export function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLOTILLA_')));
}
