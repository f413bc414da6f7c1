import { useEffect, useState } from "react";
import { useAuth } from "../auth/AuthContext";

let cached: Promise<Set<string>> | null = null;

/**
 * The API paths the server has right now (from /openapi.json, fetched once per page load).
 * Panels whose endpoint is missing keep an honest "coming" state instead of an error.
 * null while loading; on failure every path is assumed present (the panels show real errors).
 */
export function useApiPaths(): Set<string> | null | "unknown" {
  const { api } = useAuth();
  const [paths, setPaths] = useState<Set<string> | null | "unknown">(null);
  useEffect(() => {
    let live = true;
    cached ??= api.meta.openapi().then((doc) => new Set(Object.keys(doc.paths ?? {})));
    cached.then(
      (set) => live && setPaths(set),
      () => {
        cached = null;
        if (live) setPaths("unknown");
      },
    );
    return () => {
      live = false;
    };
  }, [api]);
  return paths;
}

export function hasPath(paths: ReturnType<typeof useApiPaths>, path: string): boolean | null {
  if (paths === null) return null;
  if (paths === "unknown") return true;
  return paths.has(path);
}
