// The API's shapes, as identdesk-server serialises them (camelCase JSON).

export type Role = "reviewer" | "video_operator" | "supervisor" | "admin";
export type CaseKind = "review" | "video_ident" | "four_eyes" | "qa_sample";
export type CaseState = "queued" | "claimed" | "decided" | "escalated" | "on_hold";
export type Answer = "GREEN" | "RED";
export type RejectType = "FINAL" | "RETRY";
export type LabelGroup = "document" | "selfie" | "data" | "compliance" | "video" | "other";

export interface StaffUser {
  id: string;
  tenantId: string;
  email: string;
  role: Role;
}

export interface Session {
  token: string;
  expiresAtMs: number;
  user: StaffUser;
}

export interface Case {
  id: string;
  tenantId: string;
  applicantId: string;
  kind: CaseKind;
  state: CaseState;
  priority: number;
  dueAtMs: number;
  holderId: string | null;
  leaseUntilMs: number | null;
  version: number;
  changeSeq: number;
  createdAtMs: number;
  updatedAtMs: number;
  suggestedLabels: string[];
  fourEyes: boolean;
}

export interface CasePage {
  items: Case[];
  total: number;
  offset: number;
  limit: number;
}

export interface ApplicantInfo {
  firstName: string;
  lastName: string;
  middleName?: string;
  dob?: string;
  nationality?: string;
  address?: string;
}

export interface Applicant {
  id: string;
  externalUserId: string | null;
  level: string;
  status: string;
  info: ApplicantInfo;
  reviewAnswer: string | null;
  rejectType: string | null;
}

export interface DocumentInfo {
  id: string;
  docType: string;
  side: string | null;
  country: string | null;
  width: number;
  height: number;
  sha256: string;
}

export interface Finding {
  label: string;
  explanation: string;
}

export interface CheckResult {
  check: string;
  outcome: "pass" | "fail" | "inconclusive";
  findings: Finding[];
  summary: string;
}

export interface Verdict {
  answer: "GREEN" | "RED" | "YELLOW";
  labels: string[];
  fourEyes: boolean;
  reason: string;
  results: CheckResult[];
}

export interface Decision {
  id: string;
  caseId: string;
  reviewerId: string;
  answer: Answer;
  rejectType: RejectType | null;
  labels: string[];
  moderationComment: string | null;
  clientComment: string | null;
  internalNote: string | null;
  decidedAtMs: number;
}

export interface CaseDetail {
  case: Case;
  applicant: Applicant;
  documents: DocumentInfo[];
  decision: Decision | null;
  verdict: Verdict | null;
}

export interface DecisionInput {
  answer: Answer;
  rejectType?: RejectType;
  labels: string[];
  moderationComment?: string;
  clientComment?: string;
  internalNote?: string;
  version: number;
}

export interface LabelInfo {
  label: string;
  group: LabelGroup;
  defaultRejectType: RejectType;
  description: string;
}
