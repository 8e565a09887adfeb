/**
 * gitlab-runner's `runner` metric label: the first 9 characters of the token without its
 * `glrt-`/`glrtr-` and `t1_`-style prefixes. The runner manager computes the same value
 * (src/runner/version.ts), so coordinator discovery labels and manager metrics join on it.
 */
export function runnerLabelOf(token: string): string {
  return token
    .replace(/^(glrtr-|glrt-)/, '')
    .replace(/^t\d_/, '')
    .slice(0, 9);
}
