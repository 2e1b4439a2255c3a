// Every case that matches the filters, in one scrolling list that stays smooth with 100,000
// rows: only the rows in view are in the page, fetched in blocks as they scroll into view.

import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../transport";
import type { Case } from "../types";

export const ROW_HEIGHT = 30;
/** Rows per request (the server's maximum is 200). */
const BLOCK = 100;
/** Rows drawn above and below the view, so a fast scroll does not show gaps. */
const OVERSCAN = 10;

interface Props {
  api: Api;
  /** The server's filter; a change starts the list afresh. */
  query: Record<string, string | number>;
  onOpen: (id: string) => void;
}

export function CaseList({ api, query, onOpen }: Props) {
  const key = JSON.stringify(query);
  const [total, setTotal] = useState<number | null>(null);
  const [blocks, setBlocks] = useState<Map<number, Case[]>>(new Map());
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const box = useRef<HTMLDivElement>(null);
  const asked = useRef<Set<number>>(new Set());

  // A new filter: forget what was loaded, back to the top.
  const generation = useRef(0);
  useEffect(() => {
    generation.current += 1;
    asked.current = new Set();
    setBlocks(new Map());
    setTotal(null);
    setTop(0);
    if (box.current) box.current.scrollTop = 0;
  }, [key]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const resized = new ResizeObserver(() => setHeight(el.clientHeight));
    resized.observe(el);
    return () => resized.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total ?? BLOCK, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);

  // Fetch the blocks in view that are neither loaded nor on their way. An answer for an
  // earlier filter is dropped; one for rows scrolled past is kept for the way back.
  useEffect(() => {
    const asOf = generation.current;
    for (let b = Math.floor(first / BLOCK); b <= Math.floor(Math.max(first, last - 1) / BLOCK); b++) {
      if (asked.current.has(b)) continue;
      asked.current.add(b);
      void api
        .cases({ ...query, limit: BLOCK, offset: b * BLOCK })
        .then((page) => {
          if (asOf !== generation.current) return;
          setTotal(page.total);
          setBlocks((old) => new Map(old).set(b, page.items));
        })
        .catch(() => {
          if (asOf === generation.current) asked.current.delete(b);
        });
    }
    // `key` stands for `query`, which is a new object on every render.
  }, [api, key, first, last]);

  // One state update per frame, however fast the wheel turns.
  const frame = useRef(0);
  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (box.current) setTop(box.current.scrollTop);
    });
  };

  const now = Date.now();
  const rows = [];
  for (let i = first; i < last; i++) {
    const c = blocks.get(Math.floor(i / BLOCK))?.[i % BLOCK];
    rows.push(
      c ? (
        <div
          key={c.id}
          role="row"
          class={c.dueAtMs < now && c.state !== "decided" ? "row late" : "row"}
          style={{ top: i * ROW_HEIGHT }}
          onClick={() => onOpen(c.id)}
          data-case={c.id}
        >
          <span>{c.id.slice(0, 8)}</span>
          <span>
            {c.kind}
            {c.fourEyes ? " · four-eyes" : ""}
          </span>
          <span>{c.state}</span>
          <span>{c.priority}</span>
          <span>{new Date(c.dueAtMs).toLocaleString()}</span>
          <span>{c.suggestedLabels.join(", ")}</span>
        </div>
      ) : (
        <div key={`loading-${i}`} role="row" class="row loading" style={{ top: i * ROW_HEIGHT }}>
          <span>…</span>
        </div>
      ),
    );
  }
  return (
    <div class="case-list" role="table" aria-rowcount={total ?? undefined}>
      <div class="row head" role="row">
        <span>Case</span>
        <span>Kind</span>
        <span>State</span>
        <span>Priority</span>
        <span>Due</span>
        <span>Labels suggested</span>
      </div>
      <div class="rows" ref={box} onScroll={onScroll} data-testid="case-rows">
        <div style={{ height: (total ?? 0) * ROW_HEIGHT, position: "relative" }}>{total === 0 ? null : rows}</div>
        {total === 0 && <p class="empty">No case matches these filters.</p>}
      </div>
      <div class="list-total" data-testid="list-total">
        {total === null ? "…" : `${total.toLocaleString()} cases`}
      </div>
    </div>
  );
}
