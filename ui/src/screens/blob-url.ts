// An object URL for content fetched with the user's token (images the browser cannot fetch
// itself), revoked when the component goes or the content changes.

import { useEffect, useState } from "preact/hooks";

export function useBlobUrl(load: () => Promise<Blob>, deps: unknown[]): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    let gone = false;
    void load().then((blob) => {
      if (gone) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
    // `deps` names what `load` reads.
  }, deps);
  return url;
}
