#!/bin/bash
# Fetches the pretrained MobileNetV2 backbone used by `osprey train` and extracts it into the
# backbone cache. Run once at set-up time (scripts/install-deps.sh does); training never downloads.
#
#   scripts/fetch_backbone.sh [DIR]
#
# DIR defaults to $OSPREY_BACKBONE_DIR, else $XDG_CACHE_HOME/osprey/backbone, else
# ~/.cache/osprey/backbone (the same rule as engine::DefaultBackboneDir()).
#
# Source: the npm package nsfwjs@4.3.0 (MIT licence; upstream GantMan/nsfw_model, MIT). Its
# Keras MobileNetV2-1.0 has the ImageNet weights of keras-applications (Apache-2.0) in layers
# Conv1 ... block_10, stored uint8-quantised as base64 inside JavaScript files. This script
# checks the tarball against the pinned sha512, then writes keras/model.json (topology and
# weights manifest) and keras/weights.bin (the raw quantised bytes). The first training run
# converts those into mobilenet_v2_imagenet.pt (a LibTorch archive) next to them.
# Needs: npm and node (Debian packages `npm`, `nodejs`), network access to the npm registry.
set -euo pipefail

PACKAGE=nsfwjs
VERSION=4.3.0
INTEGRITY=sha512-WTKDte0vp1X97N1h34P79G/hG+sVT3+TnDz9di1WseIJR93v11E4viNX7Vg9WsO6HYoR772Nzq2iM8jo3XBZ+g==
MODEL=dist/models/mobilenet_v2

die() { echo "fetch_backbone.sh: error: $*" >&2; exit 1; }

if [[ $# -ge 1 ]]; then
  DEST=$1
elif [[ -n ${OSPREY_BACKBONE_DIR:-} ]]; then
  DEST=$OSPREY_BACKBONE_DIR
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
  DEST=$XDG_CACHE_HOME/osprey/backbone
else
  DEST=$HOME/.cache/osprey/backbone
fi

if [[ -f $DEST/keras/model.json && -f $DEST/keras/weights.bin && -f $DEST/SOURCE ]] &&
   grep -qx "integrity: $INTEGRITY" "$DEST/SOURCE"; then
  echo "backbone already in $DEST"
  exit 0
fi
command -v npm >/dev/null || die "npm is missing (apt-get install npm)"
command -v node >/dev/null || die "node is missing (apt-get install nodejs)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "fetching $PACKAGE@$VERSION with npm pack"
(cd "$WORK" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null) || die "npm pack $PACKAGE@$VERSION failed"
TARBALL=$WORK/$PACKAGE-$VERSION.tgz
[[ -f $TARBALL ]] || die "npm pack did not write $TARBALL"
ACTUAL=sha512-$(node -e 'const c=require("crypto"),f=require("fs");
  process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$TARBALL")
[[ $ACTUAL == "$INTEGRITY" ]] || die "integrity mismatch for $TARBALL: got $ACTUAL, want $INTEGRITY"

tar -xzf "$TARBALL" -C "$WORK" "package/$MODEL" package/LICENSE package/package.json 2>/dev/null ||
  tar -xzf "$TARBALL" -C "$WORK" "package/$MODEL" package/package.json
mkdir -p "$WORK/out/keras"
# The model files are UMD bundles that export the Keras JSON and a base64 string per shard.
# They are evaluated as CommonJS by hand: the package's package.json says "type": "module".
node -e '
const fs = require("fs"), path = require("path");
const dir = process.argv[1], out = process.argv[2];
const load = file => {
  const module = {exports: {}};
  new Function("module", "exports", fs.readFileSync(path.join(dir, file), "utf8"))(module, module.exports);
  return module.exports;
};
const model = load("model.min.js");
const shards = model.weightsManifest[0].paths.map(p => load(p + ".min.js"));
fs.writeFileSync(path.join(out, "model.json"), JSON.stringify(model));
fs.writeFileSync(path.join(out, "weights.bin"), Buffer.concat(shards.map(s => Buffer.from(s, "base64"))));
' "$WORK/package/$MODEL" "$WORK/out/keras"
[[ -f $WORK/package/LICENSE ]] && cp "$WORK/package/LICENSE" "$WORK/out/LICENSE.nsfwjs"
cat > "$WORK/out/SOURCE" <<INFO
package: $PACKAGE@$VERSION (npm), licence MIT
integrity: $INTEGRITY
model: $MODEL (Keras MobileNetV2-1.0, 224 px; layers Conv1..block_10 are keras-applications ImageNet weights, Apache-2.0)
fetched: $(date -u +%Y-%m-%dT%H:%M:%SZ)
INFO

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial.$$"
mv "$WORK/out" "$DEST.partial.$$"
rm -rf "$DEST"
mv "$DEST.partial.$$" "$DEST"
echo "backbone written to $DEST ($(du -sh "$DEST" | cut -f1))"
