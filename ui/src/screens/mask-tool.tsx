// Masking a region of a document image: the reviewer drags a rectangle over what the tenant
// may not keep (a national number, a bystander), says why, and the server blurs it for good.

import { useRef, useState } from "preact/hooks";
import { ApiError, type Api } from "../transport";
import type { DocumentInfo, MaskRegion } from "../types";

type Region = MaskRegion;

interface Props {
  api: Api;
  doc: DocumentInfo;
  /** The image shown, to map screen pixels to the stored image's pixels. */
  image: HTMLImageElement;
  onDone: () => void;
  onCancel: () => void;
}

/** Drawn over the image while masking: drag to mark regions, then blur them. */
export function MaskTool({ api, doc, image, onDone, onCancel }: Props) {
  const [regions, setRegions] = useState<Region[]>([]);
  const [drawing, setDrawing] = useState<Region | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const start = useRef<{ x: number; y: number } | null>(null);
  // Screen pixels to stored pixels.
  const scale = () => doc.width / image.clientWidth;
  const at = (e: MouseEvent) => {
    const box = image.getBoundingClientRect();
    const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
    return { x: clamp(e.clientX - box.left, box.width), y: clamp(e.clientY - box.top, box.height) };
  };
  const rect = (a: { x: number; y: number }, b: { x: number; y: number }): Region => ({
    x: Math.min(a.x, b.x),
    y: Math.min(a.y, b.y),
    width: Math.abs(a.x - b.x),
    height: Math.abs(a.y - b.y),
  });
  const toStored = (r: Region): Region => {
    const k = scale();
    const x = Math.floor(r.x * k);
    const y = Math.floor(r.y * k);
    return {
      x,
      y,
      width: Math.max(1, Math.min(doc.width - x, Math.ceil(r.width * k))),
      height: Math.max(1, Math.min(doc.height - y, Math.ceil(r.height * k))),
    };
  };
  const submit = async () => {
    if (regions.length === 0) return setError("Drag over the part to blur first.");
    if (!reason.trim()) return setError("Say why (it goes to the audit trail).");
    setBusy(true);
    setError(null);
    try {
      await api.maskDocument(doc.id, regions.map(toStored), reason.trim());
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };
  const shown = drawing ? [...regions, drawing] : regions;
  return (
    <div class="mask-tool">
      <div
        class="mask-canvas"
        data-testid="mask-canvas"
        style={{ width: `${image.clientWidth}px`, height: `${image.clientHeight}px` }}
        onMouseDown={(e) => {
          e.preventDefault();
          start.current = at(e);
          setDrawing(rect(start.current, start.current));
        }}
        onMouseMove={(e) => start.current && setDrawing(rect(start.current, at(e)))}
        onMouseUp={(e) => {
          if (!start.current) return;
          const r = rect(start.current, at(e));
          start.current = null;
          setDrawing(null);
          if (r.width >= 3 && r.height >= 3) setRegions([...regions, r]);
        }}
      >
        {shown.map((r, i) => (
          <div key={i} class="mask-region" style={{ left: `${r.x}px`, top: `${r.y}px`, width: `${r.width}px`, height: `${r.height}px` }} />
        ))}
      </div>
      <div class="mask-form">
        <input name="mask-reason" placeholder="Why (e.g. national number we may not keep)" value={reason}
          onInput={(e) => setReason(e.currentTarget.value)} />
        <button class="primary" disabled={busy} onClick={() => void submit()}>
          Blur {regions.length || ""} region{regions.length === 1 ? "" : "s"} for good
        </button>
        <button onClick={() => setRegions([])} disabled={busy || regions.length === 0}>Clear</button>
        <button onClick={onCancel} disabled={busy}>Cancel</button>
        {error && <span class="error" role="alert">{error}</span>}
        <p class="hint">The original is replaced; a decision staged on it becomes void.</p>
      </div>
    </div>
  );
}
