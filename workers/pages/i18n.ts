// The pages' own words, in English and French, and how a request picks its language: `?lang=`
// first (the page's switch), then Accept-Language, then English. Rules and flows are put into
// words by the core (core/rule-words.ts, core/flow-words.ts).
import { isLang, type FlowNode, type Lang } from "../../core";

/** `?lang=fr` wins; otherwise the first of en/fr in Accept-Language by its q-value; otherwise English. */
export function negotiateLang(query: string | undefined, acceptLanguage: string | undefined): Lang {
  if (query !== undefined && isLang(query)) return query;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .slice(0, 20)
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.trim().toLowerCase().split("-")[0] ?? "", q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.map((x) => x.lang).find(isLang) ?? "en";
}

export const T = {
  en: {
    site: "Pot Commun",
    skip: "Skip to the content",
    languages: "Language",
    publicTitle: "Where the money goes",
    lede: "Every payment to the cooperative is split by written rules between the common project (open-source software and CC-BY-SA content), the fund reserve and the people who contributed. These are the sums, straight from the ledger.",
    picker: "Choose what to show",
    period: "Period",
    currency: "Currency",
    show: "Show",
    year: "Year",
    diagram: "Where the money went",
    diagramHelp: "Left to right: what came in, the revenue the rules split, where it went, and what went back to customers. The width of each band is its amount.",
    scrollHint: "The diagram scrolls sideways on a narrow screen.",
    totals: "Totals",
    cameIn: "Came in",
    wentTo: "Went to",
    wentBack: "Went back",
    amount: "Amount",
    what: "What",
    noMovement: "No money moved in this period.",
    refundedRow: "Refunded to customers",
    disputedRow: "Withdrawn by disputes",
    disputeFeesRow: "Stripe's dispute fees",
    recipients: "Who received what",
    recipient: "Recipient",
    received: "Received",
    givenBack: "Given back",
    net: "Net",
    notNamed: "Contributors who chose not to be named, together",
    toPools: "Need pools",
    rulesTitle: "The rules in force, in plain words",
    rulesLede: "Each rule splits what customers paid for an offer, VAT excluded. A payment is split by the version in force when it was paid; a change never applies to the past.",
    noRules: "No rule is in force yet.",
    ruleVersion: (v: number) => `Version ${v}`,
    since: "in force since",
    changedBy: "made by",
    why: "; why: ",
    nextVersion: (v: number, date: string) => `Version ${v} is scheduled for ${date}.`,
    scopeDefault: "Every payment",
    scopeKind: (k: string) => (k === "training" ? "Trainings" : k === "hosting" ? "Hosting" : k),
    scopeOffer: (name: string) => `The offer “${name}”`,
    authorBootstrap: "the bootstrap administrator",
    authorToken: (name: string | null) => (name === null ? "an administrator's token" : `“${name}”`),
    authorOther: (actor: string) => (actor === "demo-seed" ? "the demo data of npm start" : actor === "cli" ? "the command line" : actor),
    about: "About these figures",
    aboutText:
      "Amounts are exact to the cent, in the settlement currency. Months, quarters and years are counted in UTC; money in is dated by when the customer paid, money going back by when Stripe moved it back. Contributors appear by name only if they chose to.",
    json: "These figures as JSON",
    console: "Admin console",
    badRequest: "This address asks for something the page cannot show",
    backHome: "Show the current figures",
    node: {
      income: (k: string) => (k === "training" ? "Trainings" : k === "hosting" ? "Hosting" : k),
      vat: "VAT paid",
      shipping: "Shipping paid",
      coop_funds: "Cooperative's own funds",
      taken_back: "Taken back by plan changes",
      revenue: "Revenue (VAT excluded)",
      returned: (b: string) => (b === "refunds" ? "Returned: refunds that failed" : "Returned: disputes won"),
      stripe_fees: "Stripe's fees",
      tax_office: "Tax office (VAT)",
      cooperative: "The cooperative",
      commons: "The commons",
      reserve: "The reserve",
      pool: "A need pool",
      contributors: "Contributors",
      otherContributors: "Other contributors",
      back: (b: string) => (b === "refunds" ? "Refunds" : "Disputes and their fees"),
      credits: "Credited for plan changes",
    },
  },
  fr: {
    site: "Pot Commun",
    skip: "Aller au contenu",
    languages: "Langue",
    publicTitle: "Où va l'argent",
    lede: "Chaque paiement reçu par la coopérative est partagé, selon des règles écrites, entre le commun (logiciel libre et contenus CC-BY-SA), la réserve et les personnes qui ont contribué. Voici les sommes, tirées directement du grand livre.",
    picker: "Choisir ce qui est montré",
    period: "Période",
    currency: "Devise",
    show: "Afficher",
    year: "Année",
    diagram: "Où est allé l'argent",
    diagramHelp: "De gauche à droite : ce qui est entré, le chiffre d'affaires que les règles partagent, où il est allé, et ce qui est reparti vers les clients. La largeur de chaque bande est son montant.",
    scrollHint: "Sur un écran étroit, le diagramme défile latéralement.",
    totals: "Totaux",
    cameIn: "Entré",
    wentTo: "Allé à",
    wentBack: "Reparti",
    amount: "Montant",
    what: "Quoi",
    noMovement: "Aucun argent n'a bougé pendant cette période.",
    refundedRow: "Remboursé aux clients",
    disputedRow: "Repris par des litiges",
    disputeFeesRow: "Frais de litige de Stripe",
    recipients: "Qui a reçu quoi",
    recipient: "Bénéficiaire",
    received: "Reçu",
    givenBack: "Rendu",
    net: "Net",
    notNamed: "Personnes contributrices ayant choisi de ne pas être nommées, ensemble",
    toPools: "Fonds de besoins",
    rulesTitle: "Les règles en vigueur, en clair",
    rulesLede: "Chaque règle partage ce que les clients ont payé pour une offre, hors TVA. Un paiement est partagé selon la version en vigueur quand il a été payé ; un changement ne s'applique jamais au passé.",
    noRules: "Aucune règle n'est encore en vigueur.",
    ruleVersion: (v: number) => `Version ${v}`,
    since: "en vigueur depuis le",
    changedBy: "faite par",
    why: "\u202f; pourquoi\u00a0: ",
    nextVersion: (v: number, date: string) => `La version ${v} est prévue pour le ${date}.`,
    scopeDefault: "Tous les paiements",
    scopeKind: (k: string) => (k === "training" ? "Formations" : k === "hosting" ? "Hébergement" : k),
    scopeOffer: (name: string) => `L'offre «\u00a0${name}\u00a0»`,
    authorBootstrap: "l'administration initiale",
    authorToken: (name: string | null) => (name === null ? "un jeton d'administration" : `«\u00a0${name}\u00a0»`),
    authorOther: (actor: string) => (actor === "demo-seed" ? "les données de démonstration de npm start" : actor === "cli" ? "la ligne de commande" : actor),
    about: "À propos de ces chiffres",
    aboutText:
      "Les montants sont exacts au centime, dans la devise de règlement. Les mois, trimestres et années sont comptés en UTC ; l'argent entré est daté du paiement, l'argent reparti du moment où Stripe l'a rendu. Une personne contributrice n'apparaît par son nom que si elle l'a choisi.",
    json: "Ces chiffres en JSON",
    console: "Console d'administration",
    badRequest: "Cette adresse demande quelque chose que la page ne peut pas montrer",
    backHome: "Voir les chiffres actuels",
    node: {
      income: (k: string) => (k === "training" ? "Formations" : k === "hosting" ? "Hébergement" : k),
      vat: "TVA payée",
      shipping: "Livraison payée",
      coop_funds: "Fonds propres de la coopérative",
      taken_back: "Repris par des changements d'offre",
      revenue: "Chiffre d'affaires (hors TVA)",
      returned: (b: string) => (b === "refunds" ? "Revenu : remboursements échoués" : "Revenu : litiges gagnés"),
      stripe_fees: "Frais de Stripe",
      tax_office: "Administration fiscale (TVA)",
      cooperative: "La coopérative",
      commons: "Le commun",
      reserve: "La réserve",
      pool: "Un fonds de besoins",
      contributors: "Personnes contributrices",
      otherContributors: "Autres personnes contributrices",
      back: (b: string) => (b === "refunds" ? "Remboursements" : "Litiges et frais"),
      credits: "Crédité pour changements d'offre",
    },
  },
} as const;

export type Texts = (typeof T)[Lang];

/** A node's name on the diagram. The commons and the reserve by their role when there is one of each; parties by their own name otherwise. */
export function nodeLabel(node: FlowNode, nodes: readonly FlowNode[], lang: Lang): string {
  const t = T[lang].node;
  const single = (kind: FlowNode["kind"]) => nodes.filter((n) => n.kind === kind).length === 1;
  switch (node.kind) {
    case "income":
      return t.income(node.offer_kind ?? "");
    case "returned":
    case "back":
      return node.kind === "back" ? t.back(node.back ?? "") : t.returned(node.back ?? "");
    case "commons":
    case "reserve":
      return single(node.kind) ? t[node.kind] : (node.name ?? node.id);
    case "contributor":
    case "pool":
      return node.name ?? node.id;
    case "contributors":
      return nodes.some((n) => n.kind === "contributor") ? t.otherContributors : t.contributors;
    default:
      return t[node.kind];
  }
}
