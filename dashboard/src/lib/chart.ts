/** Okabe–Ito based palette: distinguishable with the common colour-vision deficiencies. */
export const CATEGORY_COLORS: Record<string, string> = {
  provider: '#D55E00',
  timeout: '#E69F00',
  sandbox: '#0072B2',
  worker: '#CC79A7',
  session: '#009E73',
  cli: '#56B4E9',
  tool: '#8C6D00',
  delivery: '#555555',
};

export function categoryColor(category: string, index = 0): string {
  return CATEGORY_COLORS[category] ?? ['#332288', '#882255', '#117733', '#44AA99'][index % 4];
}

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}
