import { useState } from "preact/hooks";
import type { Api } from "../transport";
import { ApiError } from "../transport";
import type { Session } from "../types";

export function SignIn({ api, onSignedIn }: { api: Api; onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.login(email, password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sign-in" onSubmit={submit}>
      <h1>IdentDesk</h1>
      <label>
        E-mail
        <input name="email" type="email" autoComplete="username" value={email} required autoFocus
          onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" value={password} required
          onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" disabled={busy}>Sign in</button>
    </form>
  );
}
