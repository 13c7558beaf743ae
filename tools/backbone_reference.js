#!/usr/bin/env node
// Independent reference for the backbone conversion test (src/engine/backbone_test.cc).
// Runs the Keras MobileNetV2 straight from keras/model.json + weights.bin, as Keras defines it
// (NHWC, batch norm not folded, 'same' padding computed per layer, no LibTorch), on the
// synthetic image that the test also builds, and prints the values the test records.
//
//   node tools/backbone_reference.js ~/.cache/osprey/backbone/keras
'use strict';
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const blob = fs.readFileSync(path.join(dir, 'weights.bin'));

const weights = {};
let offset = 0;
for (const w of model.weightsManifest[0].weights) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = w.quantization.min + w.quantization.scale * blob[offset + i];
  offset += n;
  weights[w.name] = v;
}

// Tensors are {h, w, c, d: Float32Array} in HWC order.
const SIZE = 224;
function syntheticImage() {  // must match SyntheticImage() in backbone_test.cc
  const d = new Float32Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) {
    const value = 0.5 + 0.5 * Math.sin(0.05 * x + 1.3 * c) * Math.cos(0.07 * y - 0.6 * c);
    d[(y * SIZE + x) * 3 + c] = Math.round(255 * value) / 255;
  }
  return {h: SIZE, w: SIZE, c: 3, d};
}

function pad(t, top, bottom, left, right) {
  const h = t.h + top + bottom, w = t.w + left + right, d = new Float32Array(h * w * t.c);
  for (let y = 0; y < t.h; y++) for (let x = 0; x < t.w; x++) for (let c = 0; c < t.c; c++)
    d[((y + top) * w + x + left) * t.c + c] = t.d[(y * t.w + x) * t.c + c];
  return {h, w, c: t.c, d};
}

function samePad(t, k, s) {
  const total = (n) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const th = total(t.h), tw = total(t.w);
  return pad(t, Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2));
}

// kernel [kh, kw, in, out] (depthwise: [kh, kw, in, 1]).
function conv(t, kernel, kh, kw, out, stride, depthwise) {
  const oh = Math.floor((t.h - kh) / stride) + 1, ow = Math.floor((t.w - kw) / stride) + 1;
  const d = new Float32Array(oh * ow * out);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
    const o = (y * ow + x) * out;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const src = ((y * stride + i) * t.w + x * stride + j) * t.c;
      if (depthwise) {
        const kb = (i * kw + j) * t.c;
        for (let c = 0; c < t.c; c++) d[o + c] += t.d[src + c] * kernel[kb + c];
      } else {
        for (let ci = 0; ci < t.c; ci++) {
          const v = t.d[src + ci], kb = ((i * kw + j) * t.c + ci) * out;
          for (let co = 0; co < out; co++) d[o + co] += v * kernel[kb + co];
        }
      }
    }
  }
  return {h: oh, w: ow, c: out, d};
}

function map(t, f) { return {h: t.h, w: t.w, c: t.c, d: t.d.map((v, i) => f(v, i % t.c))}; }
function gap(t) {
  const out = new Float64Array(t.c);
  for (let i = 0; i < t.h * t.w; i++) for (let c = 0; c < t.c; c++) out[c] += t.d[i * t.c + c];
  return Array.from(out, (v) => v / (t.h * t.w));
}

const outputs = {};
for (const layer of model.modelTopology.model_config.config.layers) {
  const cfg = layer.config, name = layer.name;
  const inputs = (layer.inbound_nodes[0] || []).map((n) => outputs[n[0]]);
  const x = inputs[0];
  let y;
  switch (layer.class_name) {
    case 'InputLayer': y = syntheticImage(); break;
    case 'ZeroPadding2D': y = pad(x, cfg.padding[0][0], cfg.padding[0][1], cfg.padding[1][0], cfg.padding[1][1]); break;
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const dw = layer.class_name === 'DepthwiseConv2D';
      const [kh, kw] = cfg.kernel_size, s = cfg.strides[0];
      const src = cfg.padding === 'same' ? samePad(x, kh, s) : x;
      const kernel = weights[name + (dw ? '/depthwise_kernel' : '/kernel')];
      y = conv(src, kernel, kh, kw, dw ? x.c : cfg.filters, s, dw);
      break;
    }
    case 'BatchNormalization': {
      const g = weights[name + '/gamma'], b = weights[name + '/beta'];
      const m = weights[name + '/moving_mean'], v = weights[name + '/moving_variance'];
      y = map(x, (val, c) => g[c] * (val - m[c]) / Math.sqrt(v[c] + cfg.epsilon) + b[c]);
      break;
    }
    case 'ReLU': y = map(x, (val) => Math.min(Math.max(val, 0), cfg.max_value == null ? Infinity : cfg.max_value)); break;
    case 'Add': y = map(x, (val, c) => val); y.d = y.d.map((val, i) => val + inputs[1].d[i]); break;
    default: y = null;  // the NSFW head (pooling, dense) is not part of the backbone
  }
  if (y === null) break;
  outputs[name] = y;
}
const probe = gap(outputs['block_13_expand_relu']);
const pooled = gap(outputs['out_relu']);
const fmt = (a) => a.map((v) => v.toPrecision(7)).join(', ');
const sum = (a) => a.reduce((s, v) => s + v, 0);
const sumsq = (a) => a.reduce((s, v) => s + v * v, 0);
console.log(`// block_13_expand_relu, global average pool: first 8, the sum and the sum of squares of all 576`);
console.log(`probe_head = {${fmt(probe.slice(0, 8))}}; probe_sum = ${sum(probe).toPrecision(8)}; probe_sumsq = ${sumsq(probe).toPrecision(8)};`);
console.log(`// out_relu, global average pool: first 8, the sum and the sum of squares of all 1280`);
console.log(`pooled_head = {${fmt(pooled.slice(0, 8))}}; pooled_sum = ${sum(pooled).toPrecision(8)}; pooled_sumsq = ${sumsq(pooled).toPrecision(8)};`);
