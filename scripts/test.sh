#!/usr/bin/env bash
# The whole test suite: static checks, then every tests/*_test.ts under Deno and under Bun.
# Fails if any step fails on either runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "deno check"
deno check mod.ts channel.ts net.ts std.ts replay.ts testing.ts observe.ts native.ts metrics.ts shard.ts nats.ts tests/ bench/ examples/ scripts/
step "deno lint"
deno lint
step "deno fmt --check"
deno fmt --check
step "deno doc --lint (every entry)"
deno doc --lint mod.ts channel.ts net.ts std.ts replay.ts testing.ts observe.ts native.ts metrics.ts shard.ts nats.ts
step "deno test (documentation examples)"
deno test -A --doc mod.ts channel.ts net.ts std.ts replay.ts testing.ts observe.ts native.ts metrics.ts shard.ts nats.ts src/
step "deno test"
# Type checking already ran above (deno check); --no-check keeps Deno from type-checking every
# Worker module again when a test starts one.
deno test -A --no-check tests/
step "bun test"
bun test ./tests/
step "deno publish --dry-run (JSR: no slow types, the publish list)"
deno publish --dry-run --allow-dirty --quiet
step "npm package (scripts/build_npm.sh)"
bash scripts/build_npm.sh
step "deno.json and package.json exports agree"
deno run --allow-read scripts/check_exports.ts
