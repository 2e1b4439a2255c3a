// The API's shapes. They come from the Rust types through the OpenAPI document
// (src/generated/api.ts); the few refined here are noted.

import type * as Api from "./generated/api";

export type {
  AbortReason,
  CreatedEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
  FeatureToCheck,
  InterviewStep,
  Answer,
  ApiKeyInfo,
  ApiPermission,
  CallView,
  Evidence,
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
  HitResolution,
  HitReview,
  LabelGroup,
  LabelInfo,
  MaskRegion,
  QaAgreement,
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
  /** Absent in verdicts made before it was reported. */
  documentNumber?: string;
}

/** The stored verdict with its results typed. */
export type Verdict = Omit<Api.StoredVerdict, "results"> & { results: CheckResult[] };

/** A case with everything a reviewer needs; its verdict's results typed. */
export type CaseDetail = Omit<Api.CaseDetail, "verdict"> & { verdict?: Verdict | null };

/** One screening hit as the screening check reports it (`details.hits`). */
export interface ScreeningHit {
  entityId: string;
  name: string;
  list: "sanctions" | "pep" | "blacklist";
  score: number;
  features: {
    matchedName: string;
    nameScore: number;
    dobMatch?: boolean;
    countryMatch?: boolean;
  };
  /** Absent in verdicts made before entries were reported. */
  entry?: { aliases: string[]; birthDates: string[]; countries: string[]; documents: string[]; programs: string[] };
}

/** Another applicant with the same identifiers (`details.matches` of the duplicates check). */
export interface DuplicateMatch {
  applicantId: string;
  shared: string[];
}
