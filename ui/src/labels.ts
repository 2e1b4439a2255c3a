// The label picker's logic: the catalogue grouped by theme and searched by name or
// description, best matches first.

import type { LabelGroup, LabelInfo } from "./types";

export const GROUP_ORDER: LabelGroup[] = ["document", "selfie", "data", "compliance", "video", "other"];

/** "back side" finds BACK_SIDE_MISSING; every word must appear in the name or description. */
export function searchLabels(labels: LabelInfo[], query: string): LabelInfo[] {
  const words = query.toLowerCase().split(/[\s_]+/).filter(Boolean);
  if (words.length === 0) return labels;
  const scored = labels
    .map((l) => {
      const name = l.label.toLowerCase().replace(/_/g, " ");
      const text = `${name} ${l.description.toLowerCase()}`;
      if (!words.every((w) => text.includes(w))) return null;
      // Names that start with the query, then names that contain it, then descriptions.
      const q = words.join(" ");
      const rank = name.startsWith(q) ? 0 : name.includes(q) ? 1 : words.every((w) => name.includes(w)) ? 2 : 3;
      return { l, rank };
    })
    .filter((x): x is { l: LabelInfo; rank: number } => x !== null);
  scored.sort((a, b) => a.rank - b.rank || a.l.label.localeCompare(b.l.label));
  return scored.map((x) => x.l);
}

/** Labels grouped by theme, in the catalogue's group order, empty groups left out. */
export function groupLabels(labels: LabelInfo[]): { group: LabelGroup; labels: LabelInfo[] }[] {
  return GROUP_ORDER.map((group) => ({ group, labels: labels.filter((l) => l.group === group) })).filter(
    (g) => g.labels.length > 0,
  );
}
