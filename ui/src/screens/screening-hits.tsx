// The case's watchlist hits, each with the list entry beside the applicant's data and the
// reviewer's confirm or dismiss. The server refuses an approval while a hit is open or confirmed.

import { useState } from "preact/hooks";
import { ApiError, type Api } from "../transport";
import type { CaseDetail, HitResolution, HitReview, MrzReading, ScreeningHit } from "../types";

/** The hits of the screening check, if it found any. */
export function screeningHits(detail: CaseDetail): ScreeningHit[] {
  const screening = detail.verdict?.results.find((r) => r.check === "screening");
  const details = screening?.details as { hits?: ScreeningHit[] } | undefined;
  return details?.hits ?? [];
}

interface Props {
  api: Api;
  detail: CaseDetail;
  /** Only the case's holder may give their word. */
  editable: boolean;
}

export function ScreeningHits({ api, detail, editable }: Props) {
  const hits = screeningHits(detail);
  const [reviews, setReviews] = useState<HitReview[]>(detail.hitReviews);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  if (hits.length === 0) return null;
  const info = detail.applicant.info;
  const mrz = detail.verdict?.results.find((r) => r.check === "mrz");
  const readings = Array.isArray(mrz?.details) ? (mrz.details as MrzReading[]) : [];
  const numbers = readings.map((r) => r.documentNumber).filter(Boolean).join(", ") || "—";

  const word = async (hit: ScreeningHit, resolution: HitResolution) => {
    setError(null);
    try {
      setReviews(await api.reviewHit(detail.case.id, hit.entityId, resolution, notes[hit.entityId] ?? ""));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <div class="hits">
      <h2>Screening hits ({hits.length})</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {hits.map((hit) => {
        const review = reviews.find((r) => r.entityId === hit.entityId);
        const e = hit.entry;
        return (
          <div key={hit.entityId} class={`hit ${review?.resolution ?? "open"}`} data-entity={hit.entityId}>
            <table>
              <thead>
                <tr>
                  <th></th>
                  <th>Applicant</th>
                  <th>
                    {hit.list} list · {hit.entityId} · score {hit.score.toFixed(2)}
                  </th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <th>Name</th>
                  <td>{[info.firstName, info.middleName, info.lastName].filter(Boolean).join(" ")}</td>
                  <td>
                    {hit.name}
                    {hit.features.matchedName !== hit.name && <> (matched alias “{hit.features.matchedName}”)</>}
                    {e && e.aliases.length > 0 && <div class="aliases">aka {e.aliases.join("; ")}</div>}
                  </td>
                </tr>
                <tr class={hit.features.dobMatch === false ? "differs" : ""}>
                  <th>Date of birth</th>
                  <td>{info.dob ?? "—"}</td>
                  <td>{e?.birthDates.join(", ") || "not listed"}</td>
                </tr>
                <tr class={hit.features.countryMatch === false ? "differs" : ""}>
                  <th>Country</th>
                  <td>{info.nationality ?? "—"}</td>
                  <td>{e?.countries.join(", ") || "not listed"}</td>
                </tr>
                <tr>
                  <th>Documents</th>
                  <td>{numbers}</td>
                  <td>{e?.documents.join(", ") || "not listed"}</td>
                </tr>
                {e && e.programs.length > 0 && (
                  <tr>
                    <th>Programs</th>
                    <td></td>
                    <td>{e.programs.join(", ")}</td>
                  </tr>
                )}
              </tbody>
            </table>
            <div class="hit-word">
              {review ? (
                <strong class={review.resolution === "confirmed" ? "error" : "ok"}>
                  {review.resolution === "confirmed" ? "Confirmed: the applicant is the listed person" : "Dismissed: someone else"}
                  {review.note ? ` — ${review.note}` : ""}
                </strong>
              ) : (
                <strong>Open: confirm or dismiss before approving</strong>
              )}
              {editable && (
                <>
                  <input
                    name="hit-note"
                    placeholder="Why (e.g. date of birth differs by 11 years)"
                    value={notes[hit.entityId] ?? ""}
                    onInput={(ev) => setNotes({ ...notes, [hit.entityId]: ev.currentTarget.value })}
                  />
                  <button class="confirm" onClick={() => void word(hit, "confirmed")}>Confirm match</button>
                  <button class="dismiss" onClick={() => void word(hit, "dismissed")}>Dismiss</button>
                </>
              )}
            </div>
          </div>
        );
      })}
    </div>
  );
}
