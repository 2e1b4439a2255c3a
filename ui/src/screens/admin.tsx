// The admin's screen: the tenant's users (add with a one-time password, change a role,
// disable), its API keys (create, shown once; revoke), and its webhooks (add a receiver, its
// secret shown once; the delivery log with resend).

import { useEffect, useState } from "preact/hooks";
import { ApiError, type Api } from "../transport";
import type { ApiKeyInfo, ApiPermission, Environment, Role, UserAccount, WebhookDelivery, WebhookEndpoint } from "../types";

/** Every permission a key can hold, in the order the form shows them. */
const PERMISSIONS: ApiPermission[] = [
  "applicants:read",
  "applicants:write",
  "video:invite",
  "applicants:erase",
  "applicants:export",
];

const ROLES: Role[] = ["reviewer", "video_operator", "supervisor", "admin"];

/** A secret the server shows once: displayed until dismissed, with what it is for. */
interface Shown {
  what: string;
  secret: string;
}

export function Admin({ api, me }: { api: Api; me: string }) {
  const [users, setUsers] = useState<UserAccount[]>([]);
  const [keys, setKeys] = useState<ApiKeyInfo[]>([]);
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[]>([]);
  const [deliveries, setDeliveries] = useState<WebhookDelivery[]>([]);
  const [hookUrl, setHookUrl] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("reviewer");
  const [environment, setEnvironment] = useState<Environment>("sandbox");
  const [permissions, setPermissions] = useState<ApiPermission[]>(PERMISSIONS);
  const [shown, setShown] = useState<Shown | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = () => {
    void api.users().then(setUsers);
    void api.apiKeys().then(setKeys);
    void api.webhookEndpoints().then(setEndpoints);
    void api.webhookDeliveries().then(setDeliveries);
  };
  useEffect(reload, [api]);

  /** Runs a change; its error is shown, the list reloaded either way. */
  const change = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
    reload();
  };

  return (
    <section class="admin">
      {error && <p class="error" role="alert">{error}</p>}
      {shown && (
        <div class="banner secret" role="status">
          {shown.what} (shown once; copy it now): <code data-testid="secret">{shown.secret}</code>{" "}
          <button class="link" onClick={() => setShown(null)}>Done</button>
        </div>
      )}
      <h2>Users</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void change(async () => {
            const created = await api.addUser(email, role);
            setShown({ what: `Password of ${created.user.email}`, secret: created.password });
            setEmail("");
          });
        }}
      >
        <input name="email" type="email" placeholder="e-mail" value={email} required
          onInput={(e) => setEmail(e.currentTarget.value)} />
        <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
        <button type="submit">Add user</button>
      </form>
      <table class="users">
        <thead><tr><th>E-mail</th><th>Role</th><th>Since</th><th></th></tr></thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} class={u.disabledAtMs ? "disabled" : ""}>
              <td>{u.email}</td>
              <td>
                <select value={u.role} disabled={u.id === me || !!u.disabledAtMs}
                  onChange={(e) => void change(async () => void (await api.setRole(u.id, e.currentTarget.value as Role)))}>
                  {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                </select>
              </td>
              <td>{new Date(u.createdAtMs).toLocaleDateString()}</td>
              <td>
                {u.disabledAtMs ? (
                  `disabled ${new Date(u.disabledAtMs).toLocaleDateString()}`
                ) : u.id === me ? (
                  "you"
                ) : (
                  <button onClick={() => void change(async () => void (await api.disableUser(u.id)))}>Disable</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>API keys</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void change(async () => {
            const created = await api.createApiKey(environment, permissions);
            setShown({ what: `New ${environment} API key`, secret: created.key });
          });
        }}
      >
        <select name="environment" value={environment}
          onChange={(e) => setEnvironment(e.currentTarget.value as Environment)}>
          <option value="sandbox">sandbox</option>
          <option value="production">production</option>
        </select>
        {PERMISSIONS.map((p) => (
          <label key={p} class="permission">
            <input type="checkbox" name="permission" value={p} checked={permissions.includes(p)}
              onChange={() => setPermissions(permissions.includes(p) ? permissions.filter((q) => q !== p) : [...permissions, p])} />
            {p}
          </label>
        ))}
        <button type="submit" disabled={permissions.length === 0}>Create API key</button>
      </form>
      <table class="api-keys">
        <thead><tr><th>Key</th><th>Environment</th><th>May</th><th>Created</th><th></th></tr></thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} class={k.revokedAtMs ? "disabled" : ""}>
              <td>{k.id.slice(0, 8)}</td>
              <td>{k.environment}</td>
              <td>{k.permissions.length === PERMISSIONS.length ? "everything" : k.permissions.join(", ")}</td>
              <td>{new Date(k.createdAtMs).toLocaleString()}</td>
              <td>
                {k.revokedAtMs ? (
                  `revoked ${new Date(k.revokedAtMs).toLocaleString()}`
                ) : (
                  <button onClick={() => void change(async () => void (await api.revokeApiKey(k.id)))}>Revoke</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Webhooks</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void change(async () => {
            const created = await api.addWebhookEndpoint(hookUrl);
            setShown({ what: `Signing secret of ${created.endpoint.url}`, secret: created.secret });
            setHookUrl("");
          });
        }}
      >
        <input name="webhook-url" type="url" placeholder="https://client.example/identdesk" value={hookUrl} required
          onInput={(e) => setHookUrl(e.currentTarget.value)} />
        <button type="submit">Add receiver</button>
        <button type="button" onClick={reload}>Refresh</button>
      </form>
      <ul class="endpoints">
        {endpoints.map((e) => <li key={e.id}><code>{e.url}</code> since {new Date(e.createdAtMs).toLocaleDateString()}</li>)}
      </ul>
      <table class="deliveries">
        <thead><tr><th>Event</th><th>Applicant</th><th>State</th><th>Attempts</th><th>Last answer</th><th>Next try</th><th></th></tr></thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.id} data-state={d.state}>
              <td>{d.eventType}</td>
              <td><code>{d.applicantId?.slice(0, 8) ?? "–"}</code></td>
              <td>{d.state}</td>
              <td>{d.attempts}</td>
              <td>{d.lastStatus ?? ""} {d.lastError ?? ""}</td>
              <td>{d.state === "pending" && d.nextAttemptAtMs ? new Date(d.nextAttemptAtMs).toLocaleString() : ""}</td>
              <td><button onClick={() => void change(async () => void (await api.resendWebhook(d.id)))}>Resend</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
