// Rejection labels grouped by theme and searchable; Enter in the search picks the first match.

import { useMemo, useState } from "preact/hooks";
import { groupLabels, searchLabels } from "../labels";
import type { LabelInfo, RejectLabel } from "../types";

interface Props {
  catalogue: LabelInfo[];
  picked: RejectLabel[];
  onChange: (labels: RejectLabel[]) => void;
}

export function LabelPicker({ catalogue, picked, onChange }: Props) {
  const [query, setQuery] = useState("");
  const found = useMemo(() => searchLabels(catalogue, query), [catalogue, query]);
  const toggle = (label: RejectLabel) =>
    onChange(picked.includes(label) ? picked.filter((l) => l !== label) : [...picked, label]);
  return (
    <div class="label-picker">
      <input
        id="label-search"
        type="search"
        placeholder="Search labels ( / )"
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            const first = found[0];
            if (first) {
              if (!picked.includes(first.label)) onChange([...picked, first.label]);
              setQuery("");
            }
          }
        }}
      />
      <div class="picked">
        {picked.map((l) => (
          <button key={l} class="chip" onClick={() => toggle(l)} title="Remove">
            {l} ×
          </button>
        ))}
      </div>
      <div class="groups">
        {groupLabels(found).map((g) => (
          <fieldset key={g.group}>
            <legend>{g.group}</legend>
            {g.labels.map((l) => (
              <label key={l.label} title={l.description}>
                <input type="checkbox" checked={picked.includes(l.label)} onChange={() => toggle(l.label)} />
                {l.label}
              </label>
            ))}
          </fieldset>
        ))}
      </div>
    </div>
  );
}
