#!/usr/bin/env node
// Renders the JIT Access logo (the shape of app/_components/logo.tsx) into the PWA's PNG icons in public/icons/.
// No image tool is needed: shapes are rasterised with 4×4 supersampling and encoded as PNG with node:zlib.
// Run it again after changing the logo: node scripts/make-icons.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "icons");
const ACCENT = [0x4f, 0x46, 0xe5]; // indigo-600, the console's accent
const WHITE = [0xff, 0xff, 0xff];

// The logo in its 32×32 viewBox. Curves are flattened into polygons.
function cubic(p0, p1, p2, p3, steps = 24) {
  const pts = [];
  for (let i = 1; i <= steps; i++) {
    const t = i / steps, u = 1 - t;
    pts.push([
      u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
      u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
    ]);
  }
  return pts;
}
// M16 6 l8 3 v6 c0 5.2-3.4 9.5-8 11 c-4.6-1.5-8-5.8-8-11 V9 l8-3z
const SHIELD = [[16, 6], [24, 9], [24, 15], ...cubic([24, 15], [24, 20.2], [20.6, 24.5], [16, 26]), ...cubic([16, 26], [11.4, 24.5], [8, 20.2], [8, 15]), [8, 9]];
// M17 10 l-4 7 h3 l-1 5 l4-7 h-3 l1-5z
const BOLT = [[17, 10], [13, 17], [16, 17], [15, 22], [19, 15], [16, 15]];

function inPolygon(x, y, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inRoundedRect(x, y, size, r) {
  const cx = Math.min(Math.max(x, r), size - r), cy = Math.min(Math.max(y, r), size - r);
  return x >= 0 && y >= 0 && x <= size && y <= size && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/**
 * One icon. `rounded`: the tile has the logo's rounded corners (transparent outside), else it fills the square.
 * `scale`: how much of the square the 32-unit logo spans (maskable icons keep it inside the 80 % safe zone).
 */
function render(size, { rounded, scale }) {
  const px = new Uint8Array(size * size * 4);
  const S = 4;
  const unit = (size * scale) / 32;
  const offset = (size - size * scale) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const fx = x + (sx + 0.5) / S, fy = y + (sy + 0.5) / S;
          const lx = (fx - offset) / unit, ly = (fy - offset) / unit;
          let c = null;
          if (rounded ? inRoundedRect(lx, ly, 32, 7) : true) c = ACCENT;
          if (c && inPolygon(lx, ly, SHIELD)) c = inPolygon(lx, ly, BOLT) ? ACCENT : WHITE;
          if (c) { r += c[0]; g += c[1]; b += c[2]; a += 1; }
        }
      }
      const i = (y * size + x) * 4;
      if (a) { px[i] = Math.round(r / a); px[i + 1] = Math.round(g / a); px[i + 2] = Math.round(b / a); }
      px[i + 3] = Math.round((a / (S * S)) * 255);
    }
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const ICONS = [
  { file: "icon-192.png", size: 192, rounded: true, scale: 1 },
  { file: "icon-512.png", size: 512, rounded: true, scale: 1 },
  // Maskable: the platform crops it to its own shape; the logo stays inside the central 80 % safe zone.
  { file: "icon-maskable-512.png", size: 512, rounded: false, scale: 0.62 },
  // iOS rounds the corners itself and shows transparency as black: a full, opaque square.
  { file: "apple-touch-icon.png", size: 180, rounded: false, scale: 0.8 },
];

mkdirSync(OUT, { recursive: true });
for (const icon of ICONS) {
  writeFileSync(join(OUT, icon.file), encodePng(icon.size, render(icon.size, icon)));
  console.log(`public/icons/${icon.file} (${icon.size}×${icon.size})`);
}
