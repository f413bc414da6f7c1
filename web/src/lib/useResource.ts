import { useCallback, useEffect, useState } from "react";
import { reconnects } from "./reconnect";

export type Resource<T> =
  | { state: "loading" }
  | { state: "error"; error: unknown }
  | { state: "ready"; data: T };

/**
 * Load data once (and again on reload()); the loader should be stable (useCallback).
 * A resource left in error loads again by itself when the live feed reconnects (lib/reconnect.ts).
 */
export function useResource<T>(load: () => Promise<T>): [Resource<T>, () => void] {
  const [resource, setResource] = useState<Resource<T>>({ state: "loading" });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setResource((previous) => (previous.state === "ready" ? previous : { state: "loading" }));
    load().then(
      (data) => live && setResource({ state: "ready", data }),
      (error: unknown) => live && setResource({ state: "error", error }),
    );
    return () => {
      live = false;
    };
  }, [load, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const failed = resource.state === "error";
  useEffect(() => (failed ? reconnects.subscribe(reload) : undefined), [failed, reload]);
  return [resource, reload];
}
