// @ts-check
/**
 * Draws the app icons (a rising price line on the dark theme colour) as PNG files,
 * with no dependencies: a tiny anti-aliased rasteriser plus a PNG encoder on zlib.
 * Run `npm run icons` after changing the design; the output is committed.
 */
import { deflateSync } from "node:zlib";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BG = [11, 16, 32];
const PANEL = [22, 32, 58];
const LINE = [76, 194, 255];
const DOT = [61, 220, 151];
/** The line, in a 0..1 square. */
const POINTS = [[0.2, 0.68], [0.38, 0.5], [0.52, 0.6], [0.8, 0.3]];

/** @param {number} ax @param {number} ay @param {number} bx @param {number} by @param {number} px @param {number} py */
function segmentDistance(ax, ay, bx, by, px, py) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** @param {number} x @param {number} y @param {number} size @param {number} radius */
function insideRoundedSquare(x, y, size, radius) {
  const cx = Math.min(Math.max(x, radius), size - radius);
  const cy = Math.min(Math.max(y, radius), size - radius);
  return Math.hypot(x - cx, y - cy) <= radius;
}

/** @param {number[]} a @param {number[]} b @param {number} t */
const mix = (a, b, t) => a.map((v, i) => Math.round(v + ((b[i] ?? 0) - v) * t));

/**
 * @param {number} size
 * @param {{ maskable: boolean }} opts maskable icons fill the square and keep the art in the safe zone
 */
function draw(size, { maskable }) {
  const scale = maskable ? 0.72 : 1;
  const offset = (1 - scale) / 2;
  const pts = POINTS.map(([x, y]) => [(offset + (x ?? 0) * scale) * size, (offset + (y ?? 0) * scale) * size]);
  const half = size * 0.045 * scale;
  const last = pts[pts.length - 1] ?? [0, 0];
  const dotR = size * 0.075 * scale;
  const radius = maskable ? 0 : size * 0.22;
  const rgba = Buffer.alloc(size * size * 4);
  const sub = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let shape = 0, line = 0, dot = 0;
      for (let sy = 0; sy < sub; sy++) {
        for (let sx = 0; sx < sub; sx++) {
          const px = x + (sx + 0.5) / sub, py = y + (sy + 0.5) / sub;
          if (!insideRoundedSquare(px, py, size, radius)) continue;
          shape++;
          if (Math.hypot(px - (last[0] ?? 0), py - (last[1] ?? 0)) <= dotR) { dot++; continue; }
          for (let i = 1; i < pts.length; i++) {
            const a = pts[i - 1] ?? [0, 0], b = pts[i] ?? [0, 0];
            if (segmentDistance(a[0] ?? 0, a[1] ?? 0, b[0] ?? 0, b[1] ?? 0, px, py) <= half) { line++; break; }
          }
        }
      }
      const n = sub * sub;
      const base = mix(BG, PANEL, y / size);
      let colour = mix(base, LINE, line / Math.max(shape, 1));
      colour = mix(colour, DOT, dot / Math.max(shape, 1));
      const i = (y * size + x) * 4;
      rgba[i] = colour[0] ?? 0; rgba[i + 1] = colour[1] ?? 0; rgba[i + 2] = colour[2] ?? 0;
      rgba[i + 3] = Math.round((255 * shape) / n);
    }
  }
  return encodePng(size, rgba);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** @param {Buffer} buf */
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** @param {string} type @param {Buffer} data */
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** @param {number} size @param {Buffer} rgba */
function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0); header.writeUInt32BE(size, 4);
  header[8] = 8; header[9] = 6; header[10] = 0; header[11] = 0; header[12] = 0;
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
}

function svg() {
  const pts = POINTS.map(([x, y]) => `${(x ?? 0) * 64},${(y ?? 0) * 64}`).join(" ");
  const last = POINTS[POINTS.length - 1] ?? [0, 0];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="rgb(${BG})"/><stop offset="1" stop-color="rgb(${PANEL})"/></linearGradient></defs>
  <rect width="64" height="64" rx="14" fill="url(#g)"/>
  <polyline points="${pts}" fill="none" stroke="rgb(${LINE})" stroke-width="5.8" stroke-linecap="round" stroke-linejoin="round"/>
  <circle cx="${(last[0] ?? 0) * 64}" cy="${(last[1] ?? 0) * 64}" r="4.8" fill="rgb(${DOT})"/>
</svg>
`;
}

const publicDir = join(dirname(fileURLToPath(import.meta.url)), "..", "public");
mkdirSync(join(publicDir, "icons"), { recursive: true });
/** @type {Array<[string, number, boolean]>} */
const outputs = [["icon-192.png", 192, false], ["icon-512.png", 512, false], ["icon-maskable-512.png", 512, true], ["apple-touch-icon.png", 180, true]];
for (const [name, size, maskable] of outputs) writeFileSync(join(publicDir, "icons", name), draw(size, { maskable }));
writeFileSync(join(publicDir, "favicon.svg"), svg());
console.log(`icons written to ${publicDir}`);
