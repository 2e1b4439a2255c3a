// The one module that knows how the UI reaches the server: HTTP in a browser, Tauri's
// `invoke` inside the desktop app. Everything else calls `api` and never asks which.

import type {
  AbortReason,
  FeatureToCheck,
  InterviewStep,
  ApiKeyInfo,
  ApiPermission,
  CallView,
  CreatedEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
  CreatedApiKey,
  CreatedUser,
  Environment,
  HitResolution,
  HitReview,
  Role,
  UserAccount,
  CaseDetail,
  CasePage,
  ChainReport,
  Decision,
  DocumentInfo,
  DecisionInput,
  DecisionPage,
  LabelInfo,
  MaskRegion,
  QaAgreement,
  ReviewerStats,
  Session,
  StaffUser,
} from "./types";

/** An answer from the server that is not a success: its `{code, message}` and status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Request {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The desktop console's state, as its status line shows it. */
export interface DeskStatus {
  online: boolean;
  pending: number;
  conflicts: number;
  lastSyncMs: number | null;
  cursor: number;
}

/** A decision the server refused, with the server's version of the case beside it. */
export interface DeskConflict {
  item: { seq: number; caseId: string; input: DecisionInput; createdAtMs: number };
  code: string;
  message: string;
  /** The case as the server has it (its decision included), when it could be read. */
  server: CaseDetail | null;
}

/** One step of the interview on the call screen, done or not. */
export type CallStep = InterviewStep & { done: boolean };

/** The operator's call as the desktop shows it (crates/media/src/call_desk.rs). */
export interface CallScreen {
  sessionId: string;
  caseId: string | null;
  applicantId: string;
  steps: CallStep[];
  nextStep: InterviewStep | null;
  features: FeatureToCheck[];
  readOut: string;
  tanSent: boolean;
  connection: "connecting" | "connected" | "interrupted" | "lost";
  /** How the session ended, once it did ("completed", "aborted", …). */
  ended: string | null;
  firstFrameMs: number | null;
  quality: {
    videoKbps: number;
    audioKbps: number;
    framesPerSecond: number;
    loss: number;
    roundTripMs: number | null;
    width: number;
    height: number;
    framesDecoded: number;
  };
  /** The operator's microphone and loudspeaker; `null` where none could be used (see problems). */
  audio: {
    microphone: string | null;
    loudspeaker: string | null;
    problems: string[];
    /** The applicant hears silence from the microphone. */
    muted: boolean;
    /** The microphone's loudness (RMS, 0 to 1), muted or not. */
    level: number;
  };
  shots: { n: number; tag: string; sha256: string; capturedAtMs: number; width: number; height: number }[];
  /** The call is over on this side too: hung up, the recording uploaded. */
  hungUp: boolean;
}

/** How the operator ends a call. */
export type Ending = { how: "finish" } | { how: "abort"; reason: AbortReason } | { how: "close" };

/** The video call, run by the desktop app's media core. */
export interface CallDesk {
  /** Takes the next waiting applicant and connects; `null` when nobody waits. */
  next(): Promise<CallScreen | null>;
  screen(): Promise<CallScreen>;
  /** The next picture after frame `after`; `null` when none came within a second. */
  frame(after: number | null): Promise<{ number: number; jpeg: Blob } | null>;
  /** The screenshot the interview asks for next, from frame `frame` (the one on screen). */
  capture(frame: number): Promise<CallScreen>;
  shot(n: number): Promise<Blob>;
  confirmReadOut(): Promise<CallScreen>;
  sendTan(): Promise<CallScreen>;
  mute(muted: boolean): Promise<CallScreen>;
  end(ending: Ending): Promise<CallScreen>;
}

/** What only the desktop app has: a sync with an outbox, a sign-in kept in the keyring, and
 * the video call. */
export interface Desk {
  status(): Promise<DeskStatus>;
  conflicts(): Promise<DeskConflict[]>;
  dismissConflict(seq: number): Promise<void>;
  /** The sign-in the keyring kept from the last run, if still valid. */
  resume(): Promise<Session | null>;
  /** Why sign-ins are not kept between runs, when no keyring is usable. */
  keyringProblem(): Promise<string | null>;
  call: CallDesk;
}

export interface Transport {
  /** JSON in, JSON out; `undefined` for 204. Throws `ApiError`. */
  json<T>(request: Request, token: string | null): Promise<T>;
  /** Bytes (document images). */
  blob(path: string, token: string | null): Promise<Blob>;
  /** Present in the desktop app only. */
  desk?: Desk;
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function failure(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { code?: string; message?: string };
    return new ApiError(res.status, body.code ?? "HTTP_" + res.status, body.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, "HTTP_" + res.status, res.statusText);
  }
}

/** The browser's transport: `fetch` against `base` (e.g. "/api/v1"). */
export function httpTransport(base: string, fetcher: Fetch = (i, init) => fetch(i, init)): Transport {
  const headers = (token: string | null, extra: Record<string, string> = {}) => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });
  return {
    async json<T>(request: Request, token: string | null): Promise<T> {
      const init: RequestInit = { method: request.method, headers: headers(token, request.headers) };
      if (request.body !== undefined) {
        init.body = JSON.stringify(request.body);
        init.headers = { ...init.headers, "content-type": "application/json" };
      }
      let res: Response;
      try {
        res = await fetcher(base + request.path, init);
      } catch {
        throw new ApiError(0, "OFFLINE", "The server cannot be reached. Your work is kept; try again.");
      }
      if (!res.ok) throw await failure(res);
      if (res.status === 204) return undefined as T;
      return (await res.json()) as T;
    },
    async blob(path: string, token: string | null): Promise<Blob> {
      const res = await fetcher(base + path, { headers: headers(token) });
      if (!res.ok) throw await failure(res);
      return res.blob();
    },
  };
}

interface TauriWindow {
  __TAURI_INTERNALS__?: { invoke: (cmd: string, args: unknown) => Promise<unknown> };
}

/** The desktop app's transport: one `api_request` command that the Rust side forwards. */
export function tauriTransport(invokeRaw: (cmd: string, args: unknown) => Promise<unknown>): Transport {
  // Every command fails with `{status, code, message}`: one `ApiError` for the UI.
  const invoke = async (cmd: string, args: unknown): Promise<unknown> => {
    try {
      return await invokeRaw(cmd, args);
    } catch (e) {
      const err = e as { status?: number; code?: string; message?: string };
      throw new ApiError(err.status ?? 0, err.code ?? "DESKTOP", err.message ?? String(e));
    }
  };
  const bytes = (raw: unknown) => (raw instanceof ArrayBuffer ? raw : new Uint8Array(raw as number[]).buffer);
  const screen = async (cmd: string, args: unknown = {}) => (await invoke(cmd, args)) as CallScreen;
  return {
    json: async <T>(request: Request, token: string | null) => (await invoke("api_request", { request, token })) as T,
    blob: async (path: string, token: string | null) => new Blob([bytes(await invoke("api_bytes", { path, token }))]),
    desk: {
      status: async () => (await invoke("desk_status", {})) as DeskStatus,
      conflicts: async () => (await invoke("desk_conflicts", {})) as DeskConflict[],
      dismissConflict: async (seq: number) => void (await invoke("dismiss_conflict", { seq })),
      resume: async () => ((await invoke("resume_sign_in", {})) as Session | null) ?? null,
      keyringProblem: async () => ((await invoke("keyring_problem", {})) as string | null) ?? null,
      call: {
        next: async () => ((await invoke("call_next", {})) as CallScreen | null) ?? null,
        screen: () => screen("call_screen"),
        async frame(after: number | null) {
          const raw = bytes(await invoke("call_frame", { after }));
          if (raw.byteLength < 4) return null;
          const number = new DataView(raw).getUint32(0);
          return { number, jpeg: new Blob([raw.slice(4)], { type: "image/jpeg" }) };
        },
        capture: (frame: number) => screen("call_capture", { frame }),
        shot: async (n: number) => new Blob([bytes(await invoke("call_shot", { n }))], { type: "image/png" }),
        confirmReadOut: () => screen("call_read_out"),
        sendTan: () => screen("call_send_tan"),
        mute: (muted: boolean) => screen("call_mute", { muted }),
        end: (ending: Ending) => screen("call_end", { ending }),
      },
    },
  };
}

export function pickTransport(): Transport {
  const tauri = (globalThis as unknown as TauriWindow).__TAURI_INTERNALS__;
  return tauri ? tauriTransport(tauri.invoke) : httpTransport("/api/v1");
}

/** The calls the UI makes. `onExpired` runs when the session's token stops working. */
export function makeApi(transport: Transport, session: () => Session | null, onExpired: () => void) {
  const call = async <T>(request: Request): Promise<T> => {
    try {
      return await transport.json<T>(request, session()?.token ?? null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && session()) onExpired();
      throw e;
    }
  };
  return {
    /** The desktop app's extras; `undefined` in a browser. */
    desk: transport.desk,
    login: (email: string, password: string) =>
      transport.json<Session>({ method: "POST", path: "/auth/login", body: { email, password } }, null),
    logout: () => call<void>({ method: "POST", path: "/auth/logout" }),
    me: () => call<StaffUser>({ method: "GET", path: "/auth/me" }),
    cases: (query: Record<string, string | number>) => call<CasePage>({ method: "GET", path: `/cases?${params(query)}` }),
    /** The next case for me, or `undefined` when the queue is empty. */
    claim: () => call<CaseDetail["case"] | undefined>({ method: "POST", path: "/cases/claim" }),
    caseDetail: (id: string) => call<CaseDetail>({ method: "GET", path: `/cases/${id}` }),
    renew: (id: string) => call<CaseDetail["case"]>({ method: "POST", path: `/cases/${id}/renew` }),
    release: (id: string) => call<void>({ method: "POST", path: `/cases/${id}/release` }),
    decide: (id: string, input: DecisionInput, idempotencyKey: string) =>
      call<Decision>({
        method: "POST",
        path: `/cases/${id}/decision`,
        body: input,
        headers: { "idempotency-key": idempotencyKey },
      }),
    labels: () => call<LabelInfo[]>({ method: "GET", path: "/labels" }),
    documentImage: (id: string) => transport.blob(`/documents/${id}/content`, session()?.token ?? null),
    /** Blurs regions of a document image for good; answers with the document as it now is. */
    maskDocument: (id: string, regions: MaskRegion[], reason: string) =>
      call<DocumentInfo>({ method: "POST", path: `/documents/${id}/mask`, body: { regions, reason } }),
    /** A video identification's session, evidence and interview, by its case. */
    caseVideo: (caseId: string) => call<CallView>({ method: "GET", path: `/cases/${caseId}/video` }),
    evidenceContent: (id: string) => transport.blob(`/video/evidence/${id}/content`, session()?.token ?? null),
    decisions: (query: Record<string, string | number>) =>
      call<DecisionPage>({ method: "GET", path: `/decisions?${params(query)}` }),
    exportDecisions: (query: Record<string, string | number>) =>
      transport.blob(`/decisions/export.csv?${params(query)}`, session()?.token ?? null),
    reviewerStats: (fromMs: number, toMs: number) =>
      call<ReviewerStats[]>({ method: "GET", path: `/stats/reviewers?${params({ fromMs, toMs })}` }),
    qaAgreement: (fromMs: number, toMs: number) =>
      call<QaAgreement>({ method: "GET", path: `/stats/qa?${params({ fromMs, toMs })}` }),
    verifyAudit: () => call<ChainReport>({ method: "GET", path: "/audit/verify" }),
    assign: (caseId: string, userId: string) =>
      call<CaseDetail["case"]>({ method: "POST", path: `/cases/${caseId}/assign`, body: { userId } }),
    reviewHit: (caseId: string, entityId: string, resolution: HitResolution, note: string) =>
      call<HitReview[]>({ method: "POST", path: `/cases/${caseId}/hits`, body: { entityId, resolution, note } }),
    users: () => call<UserAccount[]>({ method: "GET", path: "/users" }),
    addUser: (email: string, role: Role) =>
      call<CreatedUser>({ method: "POST", path: "/users", body: { email, role } }),
    setRole: (userId: string, role: Role) =>
      call<UserAccount>({ method: "POST", path: `/users/${userId}/role`, body: { role } }),
    disableUser: (userId: string) => call<UserAccount>({ method: "POST", path: `/users/${userId}/disable` }),
    apiKeys: () => call<ApiKeyInfo[]>({ method: "GET", path: "/api-keys" }),
    createApiKey: (environment: Environment, permissions: ApiPermission[]) =>
      call<CreatedApiKey>({ method: "POST", path: "/api-keys", body: { environment, permissions } }),
    revokeApiKey: (id: string) => call<ApiKeyInfo>({ method: "POST", path: `/api-keys/${id}/revoke` }),
    webhookEndpoints: () => call<WebhookEndpoint[]>({ method: "GET", path: "/webhooks" }),
    addWebhookEndpoint: (url: string) => call<CreatedEndpoint>({ method: "POST", path: "/webhooks", body: { url } }),
    webhookDeliveries: (limit = 50) => call<WebhookDelivery[]>({ method: "GET", path: `/webhooks/deliveries?limit=${limit}` }),
    resendWebhook: (id: string) => call<WebhookDelivery>({ method: "POST", path: `/webhooks/deliveries/${id}/resend` }),
  };
}

function params(query: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
}

export type Api = ReturnType<typeof makeApi>;
