import { describe, expect, it, vi } from "vitest";
import { ApiError, httpTransport, makeApi } from "./transport";
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
