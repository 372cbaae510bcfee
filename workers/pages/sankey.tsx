// The Sankey diagram as server-rendered SVG: no script, readable without JavaScript. Its
// title and description say it in words; the totals table beside it holds the same figures
// for screen readers and for copying.
import { formatMoney, type FlowLink, type FlowNode, type Lang } from "../../core";
import { nodeLabel } from "./i18n";
import { bandPath, layoutSankey } from "./sankey-layout";

/** A node's colour class (site.css): what it is, not which party. */
function tone(node: FlowNode): string {
  switch (node.kind) {
    case "income":
    case "revenue":
      return "in";
    case "vat":
    case "tax_office":
      return "tax";
    case "shipping":
    case "coop_funds":
    case "cooperative":
      return "coop";
    case "stripe_fees":
      return "fees";
    case "commons":
      return "commons";
    case "reserve":
    case "pool":
      return "reserve";
    case "contributor":
    case "contributors":
      return "contrib";
    default:
      return "back";
  }
}

export function Sankey(props: { nodes: readonly FlowNode[]; links: readonly FlowLink[]; currency: string; lang: Lang; title: string; description: string }) {
  const layout = layoutSankey(props.nodes, props.links);
  const byId = new Map(layout.nodes.map((n) => [n.node.id, n]));
  const label = (n: FlowNode) => nodeLabel(n, props.nodes, props.lang);
  const money = (amount: number) => formatMoney(amount, props.currency, props.lang);
  return (
    <svg class="sankey" viewBox={`0 0 ${layout.width} ${layout.height}`} width={layout.width} height={layout.height} role="img" aria-labelledby="sankey-title sankey-desc" data-nodes={layout.nodes.length} data-links={layout.links.length}>
      <title id="sankey-title">{props.title}</title>
      <desc id="sankey-desc">{props.description}</desc>
      <g class="bands">
        {layout.links.map((l) => {
          const source = byId.get(l.link.source)?.node;
          const target = byId.get(l.link.target)?.node;
          // A band takes the colour of where the money goes, or of where it came from into the revenue.
          const colour = target && target.kind !== "revenue" ? tone(target) : source ? tone(source) : "in";
          return (
            <path class={`band ${colour}`} d={bandPath(l)} stroke-width={Math.round(l.width * 10) / 10} data-source={l.link.source} data-target={l.link.target} data-amount-minor={l.link.amount_minor}>
              <title>{`${source ? label(source) : ""} → ${target ? label(target) : ""}: ${money(l.link.amount_minor)}`}</title>
            </path>
          );
        })}
      </g>
      <g class="nodes">
        {layout.nodes.map((n) => {
          const x = n.x + n.width + 6;
          const y = n.y + n.height / 2;
          return (
            <g class={`node ${tone(n.node)}`} data-node={n.node.id}>
              <rect x={round(n.x)} y={round(n.y)} width={n.width} height={round(n.height)} />
              <text x={round(x)} y={round(y)} dy="0.35em">
                <tspan class="name">{label(n.node)}</tspan>
                <tspan class="amount" dx="6">
                  {money(n.value_minor)}
                </tspan>
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
