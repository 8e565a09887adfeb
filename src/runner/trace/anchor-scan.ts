/**
 * How the masker finds its needles (secrets, token prefixes, URL parameters) in a chunk of job
 * output. Every needle is found through one of its bytes, its anchor: the byte of the needle the
 * log has shown least so far (sampled from the output as it passes, recent output weighing more).
 * Needles with the same anchor byte form a group, and a group costs one `indexOf` of that single
 * byte (a memchr over the chunk) plus a check of its needles where the byte occurs. A log that
 * never contains, say, `-` or `_` is then scanned at memchr speed, instead of once per secret (a
 * Boyer-Moore search at about 1 GB/s) and once per common start of the token prefixes (`gl`, whose
 * `g` a log is full of).
 *
 * Which byte anchors a needle changes only the speed: every occurrence of a needle contains its
 * anchor at the same place, so the matches found are the same whatever the statistics say.
 */

export interface Needle {
  bytes: Buffer;
  /** Position in the priority order: at equal positions the needle with the lower order wins. */
  order: number;
  /** Set for token prefixes: the bytes of the value after the prefix. */
  isValueByte?: (b: number) => boolean;
}

export interface Match {
  at: number;
  needle: Needle;
}

interface Entry {
  needle: Needle;
  /** Where the anchor byte is in the needle. */
  k: number;
}

export interface AnchorGroup {
  byte: number;
  entries: Entry[];
  minK: number;
  maxK: number;
}

/**
 * The earliest full match at or after `from` of one of the group's needles (at equal positions,
 * the lower order). A hit of the anchor at h is a candidate match at h − k for each needle.
 */
export function firstMatch(data: Buffer, group: AnchorGroup, from: number): Match | null {
  let best: Match | null = null;
  for (let h = data.indexOf(group.byte, from + group.minK); h !== -1; h = data.indexOf(group.byte, h + 1)) {
    // every later hit starts its matches after the best one
    if (best && h - group.maxK > best.at) break;
    for (const { needle, k } of group.entries) {
      const at = h - k;
      const end = at + needle.bytes.length;
      if (at < from || end > data.length || data[at] !== needle.bytes[0]) continue;
      if (best && (at > best.at || (at === best.at && needle.order > best.needle.order))) continue;
      if (data.compare(needle.bytes, 0, needle.bytes.length, at, end) === 0) best = { at, needle };
    }
  }
  return best;
}

/** A guess of how often each byte occurs in a job log, before any output is seen. */
function priorFrequency(b: number): number {
  if (b === 0x20) return 0.12;
  if (b >= 0x61 && b <= 0x7a) return 0.03;
  if (b >= 0x30 && b <= 0x39) return 0.01;
  if (b === 0x0a) return 0.02;
  if (b >= 0x41 && b <= 0x5a) return 0.005;
  if ('./-_:=,'.includes(String.fromCharCode(b))) return 0.005;
  if (b > 0x20 && b < 0x7f) return 0.001;
  if (b === 0x1b || b === 0x0d || b === 0x09) return 0.002;
  return 0.0002;
}

/** The prior weighs as much as this many sampled bytes. */
const PRIOR_WEIGHT = 4096;
/** Bytes sampled per written chunk (evenly spaced). */
const SAMPLES_PER_CHUNK = 512;
/** A new plan, and the older samples halved, after this many samples. */
const REPLAN_SAMPLES = 8192;
/**
 * What one more group costs (its memchr pass over every byte), as a byte frequency: a hit costs
 * the check of the group's needles, a few hundred times a byte of memchr.
 */
const GROUP_COST = 0.003;

export interface ByteStats {
  /** Samples the chunk; true when the anchors should be planned again. */
  observe(chunk: Buffer): boolean;
  /** Anchors for these needles: for each, its rarest byte, preferring bytes other needles use. */
  plan(needles: readonly Needle[]): AnchorGroup[];
}

export function createByteStats(): ByteStats {
  const counts = new Float64Array(256);
  for (let b = 0; b < 256; b++) counts[b] = priorFrequency(b) * PRIOR_WEIGHT;
  let total = PRIOR_WEIGHT;
  let sinceReplan = 0;
  let state = 0x9e3779b9;
  /** xorshift32: cheap, and only the sampling depends on it. */
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return {
    observe(chunk) {
      // gaps drawn at random around the mean: a fixed stride would see only some bytes of
      // output that repeats with a period sharing a factor with it
      const step = Math.max(1, Math.floor(chunk.length / SAMPLES_PER_CHUNK));
      let n = 0;
      for (let i = random() % step; i < chunk.length; i += 1 + (random() % (2 * step))) {
        const b = chunk[i] ?? 0;
        counts[b] = (counts[b] ?? 0) + 1;
        n++;
      }
      total += n;
      sinceReplan += n;
      if (sinceReplan < REPLAN_SAMPLES) return false;
      sinceReplan = 0;
      for (let b = 0; b < 256; b++) counts[b] = (counts[b] ?? 0) / 2;
      total /= 2;
      return true;
    },
    plan(needles) {
      const groups = new Map<number, AnchorGroup>();
      for (const needle of needles) {
        let bestK = 0;
        let bestCost = Infinity;
        needle.bytes.forEach((b, k) => {
          const cost = (counts[b] ?? 0) / total + (groups.has(b) ? 0 : GROUP_COST);
          if (cost < bestCost) [bestK, bestCost] = [k, cost];
        });
        const byte = needle.bytes[bestK] ?? 0;
        const group = groups.get(byte) ?? { byte, entries: [], minK: bestK, maxK: bestK };
        group.entries.push({ needle, k: bestK });
        group.minK = Math.min(group.minK, bestK);
        group.maxK = Math.max(group.maxK, bestK);
        groups.set(byte, group);
      }
      return [...groups.values()];
    },
  };
}
