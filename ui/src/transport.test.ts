import { describe, expect, it, vi } from "vitest";
import { ApiError, httpTransport, makeApi, tauriTransport } from "./transport";
import type { Session } from "./types";

const session: Session = {
  token: "idt_secret",
  expiresAtMs: Date.now() + 60_000,
  user: { id: "u1", tenantId: "t1", email: "ana@acme.test", role: "reviewer" },
};

function recorder(responses: Response[]) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetcher = async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) throw new TypeError("network down");
    return next;
  };
  return { calls, fetcher };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("HTTP transport", () => {
  it("sends the bearer token, the JSON body and the idempotency key", async () => {
    const { calls, fetcher } = recorder([json(201, { id: "d1" })]);
    const api = makeApi(httpTransport("/api/v1", fetcher), () => session, () => undefined);
    await api.decide("c1", { answer: "GREEN", labels: [], version: 3 }, "key-1");
    const [call] = calls;
    expect(call?.url).toBe("/api/v1/cases/c1/decision");
    const headers = call?.init?.headers as Record<string, string>;
    expect(headers.authorization).toBe("Bearer idt_secret");
    expect(headers["idempotency-key"]).toBe("key-1");
    expect(headers["content-type"]).toBe("application/json");
    expect(JSON.parse(call?.init?.body as string)).toEqual({ answer: "GREEN", labels: [], version: 3 });
  });

  it("turns an error body into ApiError with its code", async () => {
    const { fetcher } = recorder([json(409, { code: "LEASE_NOT_HELD", message: "you do not hold this case" })]);
    const api = makeApi(httpTransport("/api/v1", fetcher), () => session, () => undefined);
    const err = await api.release("c1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("LEASE_NOT_HELD");
    expect((err as ApiError).status).toBe(409);
  });

  it("reports an expired session once the server answers 401", async () => {
    const expired = vi.fn();
    const { fetcher } = recorder([json(401, { code: "UNAUTHENTICATED", message: "the token expired" })]);
    const api = makeApi(httpTransport("/api/v1", fetcher), () => session, expired);
    await expect(api.me()).rejects.toThrow("the token expired");
    expect(expired).toHaveBeenCalledOnce();
  });

  it("204 is no content, and an unreachable server is OFFLINE", async () => {
    const { fetcher } = recorder([new Response(null, { status: 204 })]);
    const api = makeApi(httpTransport("/api/v1", fetcher), () => session, () => undefined);
    expect(await api.claim()).toBeUndefined();
    const err = await api.claim().catch((e: unknown) => e);
    expect((err as ApiError).code).toBe("OFFLINE");
  });
});

describe("Tauri transport", () => {
  it("sends every call through the api_request command and maps its errors", async () => {
    const calls: [string, unknown][] = [];
    const invoke = async (cmd: string, args: unknown) => {
      calls.push([cmd, args]);
      if (cmd === "api_request") throw { status: 409, code: "LEASE_NOT_HELD", message: "you do not hold this case" };
      if (cmd === "api_bytes") return new Uint8Array([137, 80, 78, 71]).buffer;
      if (cmd === "desk_status") return { online: false, pending: 2, conflicts: 0, lastSyncMs: null, cursor: 7 };
      return null;
    };
    const api = makeApi(tauriTransport(invoke), () => session, () => undefined);
    const err = await api.decide("c1", { answer: "GREEN", labels: [], version: 3 }, "key-1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("LEASE_NOT_HELD");
    expect(calls[0]?.[0]).toBe("api_request");
    const sent = (calls[0]?.[1] as { request: { path: string; method: string } }).request;
    expect([sent.method, sent.path]).toEqual(["POST", "/cases/c1/decision"]);
    const image = await api.documentImage("d1");
    expect(new Uint8Array(await image.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect((await api.desk?.status())?.pending).toBe(2);
  });

  it("has no desktop extras in a browser", () => {
    const api = makeApi(httpTransport("/api/v1", fetch), () => session, () => undefined);
    expect(api.desk).toBeUndefined();
  });
});
