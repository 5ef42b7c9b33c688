// Precompressed copies beside the built assets: the server sends the .gz when the browser
// accepts gzip, so no CPU is spent compressing on each request.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("../dashboard/static", import.meta.url));
let plain = 0, packed = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) { walk(path); continue; }
    if (!/\.(js|css|html|svg|json)$/.test(name)) continue;
    const data = readFileSync(path);
    const gz = gzipSync(data, { level: 9 });
    writeFileSync(`${path}.gz`, gz);
    plain += data.length;
    packed += gz.length;
  }
}
walk(root);
console.log(`compressed: ${(plain / 1024).toFixed(0)} KiB -> ${(packed / 1024).toFixed(0)} KiB (gzip)`);
