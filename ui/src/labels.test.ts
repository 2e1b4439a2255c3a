import { describe, expect, it } from "vitest";
import { groupLabels, searchLabels } from "./labels";
import type { LabelInfo, RejectLabel } from "./types";

const label = (name: RejectLabel, group: LabelInfo["group"], description: string): LabelInfo => ({
  label: name,
  group,
  defaultRejectType: "RETRY",
  description,
});

const CATALOGUE: LabelInfo[] = [
  label("FORGERY", "document", "The document shows signs of forgery or alteration."),
  label("BACK_SIDE_MISSING", "document", "The back side of the document is missing."),
  label("FRONT_SIDE_MISSING", "document", "The front side of the document is missing."),
  label("LOW_QUALITY", "document", "The image quality is too low to read the document."),
  label("UNSATISFACTORY_PHOTOS", "document", "The photos are unsuitable (glare, blur, too dark)."),
  label("BAD_SELFIE", "selfie", "The selfie is unsuitable."),
  label("SANCTIONS", "compliance", "The applicant matches a sanctions list entry."),
];

describe("label search", () => {
  it("finds a label by the words of its name, best match first", () => {
    expect(searchLabels(CATALOGUE, "back side")[0]?.label).toBe("BACK_SIDE_MISSING");
    expect(searchLabels(CATALOGUE, "LOW_QUALITY")[0]?.label).toBe("LOW_QUALITY");
    expect(searchLabels(CATALOGUE, "low quality")[0]?.label).toBe("LOW_QUALITY");
  });

  it("finds labels by their description and needs every word", () => {
    expect(searchLabels(CATALOGUE, "glare").map((l) => l.label)).toEqual(["UNSATISFACTORY_PHOTOS"]);
    expect(searchLabels(CATALOGUE, "side missing").map((l) => l.label)).toEqual([
      "BACK_SIDE_MISSING",
      "FRONT_SIDE_MISSING",
    ]);
    expect(searchLabels(CATALOGUE, "sanctions selfie")).toEqual([]);
  });

  it("an empty query keeps the catalogue, grouped in theme order", () => {
    expect(searchLabels(CATALOGUE, "  ")).toHaveLength(CATALOGUE.length);
    expect(groupLabels(CATALOGUE).map((g) => g.group)).toEqual(["document", "selfie", "compliance"]);
  });
});
