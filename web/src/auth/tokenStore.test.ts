import { describe, expect, it } from "vitest";
import { createTokenStore, type KeyValueStorage } from "./tokenStore";

function mapStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

const pair = { access_token: "acc", refresh_token: "ref", expires_in: 900, session_id: "sid" };

describe("createTokenStore", () => {
  it("persists only the refresh token", () => {
    const storage = mapStorage();
    const store = createTokenStore(storage);
    store.save(pair);
    expect([...storage.map.values()]).toEqual(["ref"]);
    expect(store.getAccess()).toBe("acc");
    expect(store.sessionId()).toBe("sid");
    expect(createTokenStore(storage).getAccess()).toBeNull();
    expect(createTokenStore(storage).getRefresh()).toBe("ref");
  });

  it("clears everything", () => {
    const storage = mapStorage();
    const store = createTokenStore(storage);
    store.save(pair);
    store.clear();
    expect(storage.map.size).toBe(0);
    expect(store.getAccess()).toBeNull();
    expect(store.getRefresh()).toBeNull();
  });

  it("works in memory when storage is unavailable", () => {
    const store = createTokenStore(null);
    store.save(pair);
    expect(store.getRefresh()).toBe("ref");
  });
});
