// Builds what the server serves from this folder (`npm ci && npm run build`; node build.mjs OUTDIR writes elsewhere):
//   dist/widget.js        the visitor widget: src/main.js and what it imports (the shared helpers in
//                         ../static/shared.js, the socket.io client from node_modules, src/widget.css as minified
//                         text), bundled and minified by esbuild into one script whose only global is ChatWidget.
//                         chatserver/views/widget.py wraps it with the server's defaults (WIDGET_DEFAULTS).
//   dist/socket.io.min.js the same npm package's own browser build, unchanged, for the agent console
//                         (/vendor/socket.io.min.js), so widget and console run the one version in package-lock.json.
//   dist/THIRD-PARTY-LICENSES.txt  the licence of every npm package inside those two files.
// All three are committed, so installing the Python package needs no Node; tests/test_widget_build.py rebuilds them
// and fails when they differ from the sources. The output is deterministic: no paths, dates or source maps.
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, "dist"));
// The syntax the widget ships in: what host pages' browsers of the last years parse (no ?., ??, class fields).
const JS_TARGET = ["es2018"];
const CSS_TARGET = ["chrome80", "edge80", "firefox78", "safari13"];
const clientDist = path.join(here, "node_modules", "socket.io-client", "dist", "socket.io.min.js");

/** `import css from "./widget.css"` gives the stylesheet as a string, minified by esbuild's CSS minifier. */
const cssAsText = {
  name: "css-as-text",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const { code } = await esbuild.transform(source, { loader: "css", minify: true, target: CSS_TARGET });
      return { contents: code.trim(), loader: "text" };
    });
  },
};

/** The npm packages inside the bundle (from esbuild's metafile), by name, with their package.json. */
async function bundledPackages(metafile) {
  const names = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) names.add(match[1]);
  }
  const packages = [];
  for (const name of [...names].sort()) {
    const meta = JSON.parse(await readFile(path.join(here, "node_modules", name, "package.json"), "utf8"));
    packages.push({ name, version: meta.version, license: meta.license });
  }
  return packages;
}

async function licences(packages) {
  const texts = [];
  for (const p of packages) {
    const text = await readFile(path.join(here, "node_modules", p.name, "LICENSE"), "utf8");
    texts.push(`${p.name} ${p.version} (${p.license})\n\n${text.trim()}\n`);
  }
  return texts.join("\n" + "-".repeat(78) + "\n\n");
}

/** dist/widget.js's text, and the npm packages in it. */
async function buildWidget() {
  const result = await esbuild.build({
    entryPoints: [path.join(here, "src", "main.js")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: JS_TARGET,
    minify: true,
    charset: "utf8",
    legalComments: "none",   // the licences are named in the banner below instead
    plugins: [cssAsText],
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  const packages = await bundledPackages(result.metafile);
  // The client's own licence banner, as its dist files carry it, then every other bundled package.
  const client = await readFile(clientDist, "utf8");
  const clientBanner = client.match(/^\/\*![\s\S]*?\*\//)[0];
  const others = packages.filter((p) => p.name !== "socket.io-client")
    .map((p) => `${p.name} ${p.version} (${p.license})`);
  const banner = `${clientBanner}\n/*! Also bundled: ${others.join(", ")}. Licences: THIRD-PARTY-LICENSES.txt. `
    + "The chat widget: chatserver/widget/src. */\n";
  // Modules are strict; the IIFE esbuild makes of them is not unless it says so (first statement of the function
  // the server wraps it in, so it stays a directive there).
  return { text: banner + '"use strict";\n' + result.outputFiles[0].text, packages };
}

const widget = await buildWidget();
await mkdir(outdir, { recursive: true });
await writeFile(path.join(outdir, "widget.js"), widget.text);
await copyFile(clientDist, path.join(outdir, "socket.io.min.js"));
await writeFile(path.join(outdir, "THIRD-PARTY-LICENSES.txt"), await licences(widget.packages));
console.log(`built ${path.relative(process.cwd(), outdir) || "."}/: widget.js, socket.io.min.js, THIRD-PARTY-LICENSES.txt`);
