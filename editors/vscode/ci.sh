#!/usr/bin/env bash
# Builds, tests and packages the VS Code extension (editors/vscode); the project's CI runs it.
# Needs Node 20 and npm, and the npm registry for `npm ci`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

npm ci --no-audit --no-fund
npm run build
npm test
rm -f pol-*.vsix
npm run package

version=$(node -p "require('./package.json').version")
vsix="pol-${version}.vsix"
if [[ ! -f "$vsix" ]]; then
  echo "ci.sh: npm run package did not produce $vsix" >&2
  exit 1
fi
listing=$(unzip -l "$vsix")
for entry in \
  extension/package.json \
  extension/package.nls.json \
  extension/package.nls.zh-cn.json \
  extension/language-configuration.json \
  extension/syntaxes/pol.tmLanguage.json \
  extension/out/extension.js \
  extension/l10n/bundle.l10n.zh-cn.json \
  extension/LICENSE.txt \
  extension/readme.md; do
  if ! grep -qiF " $entry" <<<"$listing"; then
    echo "ci.sh: $vsix has no $entry" >&2
    echo "$listing" >&2
    exit 1
  fi
done
for unwanted in extension/node_modules/ extension/src/ extension/test/; do
  if grep -qF " $unwanted" <<<"$listing"; then
    echo "ci.sh: $vsix should not contain $unwanted" >&2
    exit 1
  fi
done
echo "ci.sh: $vsix ($(wc -c <"$vsix") bytes) is complete"
