// Reads one sample from Prometheus text exposition, for tests that scrape /metrics.

/** The value of `name` whose labels include every given label; 0 when there is no such sample. */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const labelText = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : '';
    const matches = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (!matches) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? total : 0;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}
