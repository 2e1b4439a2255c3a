// The API's shapes. They come from the Rust types through the OpenAPI document
// (src/generated/api.ts); the few refined here are noted.

import type * as Api from "./generated/api";

export type {
  Answer,
  ApiKeyInfo,
  CreatedApiKey,
  CreatedUser,
  Environment,
  Applicant,
  ApplicantInfo,
  Case,
  CaseKind,
  CasePage,
  CaseState,
  ChainReport,
  Decision,
  DecisionPage,
  DecisionInput,
  LabelGroup,
  LabelInfo,
  RejectLabel,
  RejectType,
  ReviewerStats,
  Role,
  StaffUser,
  UserAccount,
} from "./generated/api";

/** A signed-in session, as `POST /auth/login` answers. */
export type Session = Api.LoginResponse;

export type DocumentInfo = Api.Document;

/** One check result. The server stores results as JSON it does not describe in its schema. */
export interface CheckResult {
  check: string;
  outcome: "pass" | "fail" | "inconclusive";
  findings: { label: string; explanation: string }[];
  summary: string;
  /** The measured values; for the MRZ check, each MRZ read with its check digits. */
  details?: unknown;
}

/** One MRZ as the MRZ check reports it. */
export interface MrzReading {
  documentId: string;
  format: string;
  valid: boolean;
  checks: { field: string; valid: boolean; found: string; expected: string }[];
}

/** The stored verdict with its results typed. */
export type Verdict = Omit<Api.StoredVerdict, "results"> & { results: CheckResult[] };

/** A case with everything a reviewer needs; its verdict's results typed. */
export type CaseDetail = Omit<Api.CaseDetail, "verdict"> & { verdict?: Verdict | null };
