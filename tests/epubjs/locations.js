// Print epub.js 0.3.93's book.locations.generate(chars) for an EPUB file, as JSON.
// Usage: node locations.js BOOK.epub [CHARS]
"use strict";
const fs = require("fs");
const { JSDOM } = require("jsdom");

const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>", { url: "http://localhost/", pretendToBeVisual: true });
for (const name of ["window", "document", "DOMParser", "XMLSerializer", "NodeFilter", "Node", "navigator", "Blob"]) {
  if (global[name] === undefined) global[name] = name === "window" ? dom.window : dom.window[name];
}
// epub.js makes blob URLs for resources it will never render here.
dom.window.URL.createObjectURL = () => "blob:unused";
dom.window.URL.revokeObjectURL = () => {};
const ePub = require("epubjs").default;

async function main() {
  const [file, chars] = process.argv.slice(2);
  const data = fs.readFileSync(file);
  const book = ePub(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  await book.ready;
  const locations = await book.locations.generate(chars ? Number(chars) : 150);
  process.stdout.write(JSON.stringify(locations));
  book.destroy();
}
main().catch((error) => { console.error(error); process.exit(1); });
