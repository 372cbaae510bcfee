// Where each node and band of the public page's Sankey diagram goes. The columns are fixed by
// meaning (core/flows.ts: what came in, the revenue, where it went, what went back), which a
// general layout such as d3-sankey cannot be told: it places a node by its depth in the
// graph, so a period with no money going back would put Stripe's fees in the last column.
// Geometry only, for drawing: the amounts are the ledger's integers, and no figure a person
// reads comes from here.
import type { FlowLink, FlowNode } from "../../core";

export interface LaidNode {
  node: FlowNode;
  /** max(in, out): how tall it is drawn. */
  value_minor: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Its label goes right of it: the last column has room kept for it. */
  label: "right";
}

export interface LaidLink {
  link: FlowLink;
  /** The band's centre line: from the source's right edge to the target's left edge. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  width: number;
}

export interface SankeyLayout {
  width: number;
  height: number;
  nodes: LaidNode[];
  links: LaidLink[];
}

export const SANKEY = {
  width: 1040,
  /** Kept right of the last column for its labels. */
  labelRoom: 250,
  minHeight: 380,
  nodeWidth: 14,
  /** Room between two nodes of a column: a label's line. */
  padding: 26,
  margin: 12,
  /** A band or node is never thinner than this, however small its amount. */
  minThickness: 2,
} as const;

/** Top to bottom within a column, so that bands cross as little as the meaning allows. */
const ORDER: Record<FlowNode["kind"], number> = {
  income: 0,
  taken_back: 1,
  coop_funds: 2,
  shipping: 3,
  vat: 4,
  revenue: 0,
  returned: 1,
  commons: 0,
  reserve: 1,
  pool: 2,
  contributor: 3,
  contributors: 4,
  stripe_fees: 5,
  cooperative: 6,
  tax_office: 7,
  back: 0,
  credits: 1,
};

const BACK_ORDER = { refunds: 0, disputes: 1 } as const;
const INCOME_ORDER: Record<string, number> = { training: 0, hosting: 1 };

function compareNodes(a: FlowNode, b: FlowNode): number {
  return (
    ORDER[a.kind] - ORDER[b.kind] ||
    (INCOME_ORDER[a.offer_kind ?? ""] ?? 9) - (INCOME_ORDER[b.offer_kind ?? ""] ?? 9) ||
    (a.back ? BACK_ORDER[a.back] : 0) - (b.back ? BACK_ORDER[b.back] : 0) ||
    // Named contributors, the biggest first.
    Math.max(b.in_minor, b.out_minor) - Math.max(a.in_minor, a.out_minor) ||
    (a.id < b.id ? -1 : 1)
  );
}

export function layoutSankey(nodes: readonly FlowNode[], links: readonly FlowLink[]): SankeyLayout {
  const { width, nodeWidth, padding, margin, minThickness, labelRoom } = SANKEY;
  // Only the columns that hold a node are drawn, spread over the width.
  const used = [...new Set(nodes.map((n) => n.column))].sort((a, b) => a - b);
  const columns = used.map((c) => nodes.filter((n) => n.column === c).sort(compareNodes));
  const tallest = Math.max(0, ...columns.map((c) => c.length));
  const height = Math.max(SANKEY.minHeight, 2 * margin + tallest * (padding + 18));
  const valueOf = (n: FlowNode) => Math.max(n.in_minor, n.out_minor);
  // One scale for every column: the fullest one fills the height between its paddings.
  const scale = Math.min(
    ...columns.map((c) => {
      const total = c.reduce((acc, n) => acc + valueOf(n), 0);
      return total === 0 ? Number.POSITIVE_INFINITY : (height - 2 * margin - (c.length - 1) * padding - c.length * minThickness) / total;
    }),
  );
  const px = (amount: number) => (Number.isFinite(scale) ? amount * scale : 0);
  const step = used.length > 1 ? (width - 2 * margin - nodeWidth - labelRoom) / (used.length - 1) : 0;

  const laid = new Map<string, LaidNode>();
  columns.forEach((column, i) => {
    const heights = column.map((n) => Math.max(px(valueOf(n)), minThickness));
    const stack = heights.reduce((a, h) => a + h, 0) + (column.length - 1) * padding;
    let y = (height - stack) / 2;
    column.forEach((node, j) => {
      const h = heights[j] ?? minThickness;
      laid.set(node.id, { node, value_minor: valueOf(node), x: margin + i * step, y, width: nodeWidth, height: h, label: "right" });
      y += h + padding;
    });
  });

  // Bands leave a node in the order of their targets, and reach one in the order of their sources.
  const top = (id: string) => laid.get(id)?.y ?? 0;
  const outOffset = new Map<string, number>();
  const inOffset = new Map<string, number>();
  const bySource = [...links].sort((a, b) => top(a.target) - top(b.target));
  const widths = new Map(links.map((l) => [l, Math.max(px(l.amount_minor), 1)]));
  const y0 = new Map<FlowLink, number>();
  for (const l of bySource) {
    const w = widths.get(l) ?? 1;
    const offset = outOffset.get(l.source) ?? 0;
    y0.set(l, top(l.source) + offset + w / 2);
    outOffset.set(l.source, offset + w);
  }
  const byTarget = [...links].sort((a, b) => top(a.source) - top(b.source));
  const laidLinks: LaidLink[] = byTarget.map((l) => {
    const w = widths.get(l) ?? 1;
    const offset = inOffset.get(l.target) ?? 0;
    inOffset.set(l.target, offset + w);
    const source = laid.get(l.source);
    const target = laid.get(l.target);
    return { link: l, x0: (source?.x ?? 0) + nodeWidth, y0: y0.get(l) ?? 0, x1: target?.x ?? 0, y1: top(l.target) + offset + w / 2, width: w };
  });
  // Drawn in the links' own order, so the SVG reads the same as the API.
  const order = new Map(links.map((l, i) => [l, i]));
  laidLinks.sort((a, b) => (order.get(a.link) ?? 0) - (order.get(b.link) ?? 0));
  return { width, height, nodes: [...laid.values()], links: laidLinks };
}

/** The band's centre line, a horizontal S-curve, for a stroke as wide as the band. */
export function bandPath(l: LaidLink): string {
  const mid = (l.x0 + l.x1) / 2;
  const r = (v: number) => Math.round(v * 10) / 10;
  return `M${r(l.x0)},${r(l.y0)}C${r(mid)},${r(l.y0)} ${r(mid)},${r(l.y1)} ${r(l.x1)},${r(l.y1)}`;
}
