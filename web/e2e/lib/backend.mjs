// @ts-check
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** @returns {Promise<number>} a TCP port nobody listens on right now */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Start `amarktai serve` on a free port with a throw-away data dir, serving web/dist.
 * @param {{ repoRoot: string, webDist: string, env: Record<string, string> }} options
 */
export async function startBackend({ repoRoot, webDist, env }) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "amarktai-e2e-"));
  const binary = resolve(repoRoot, ".venv/bin/amarktai");
  const log = /** @type {string[]} */ ([]);
  const child = spawn(binary, ["serve", "--demo", "--port", String(port)], {
    cwd: dataDir,
    env: { ...process.env, ...env, AMARKTAI_DATA_DIR: dataDir, AMARKTAI_WEB_DIST: webDist, AMARKTAI_HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => log.push(String(chunk)));
  child.stderr.on("data", (chunk) => log.push(String(chunk)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((done) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          done(undefined);
        }, 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          done(undefined);
        });
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, stop, log };
}

/**
 * @param {string} baseUrl
 * @param {import("node:child_process").ChildProcess} child
 * @param {string[]} log
 */
async function waitForHealth(baseUrl, child, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode}:\n${log.join("")}`);
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`backend did not become healthy within 60 s:\n${log.join("")}`);
}
