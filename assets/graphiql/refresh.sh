#!/usr/bin/env bash
# Refreshes the vendored GraphiQL build from the npm registry: `npm pack` each package into a
# temp folder and copy the browser files and licences here. Edit the versions, run, commit.
# Usage: assets/graphiql/refresh.sh
set -euo pipefail

GRAPHIQL=3.9.0 # the last 3.x: UMD files that run on React 18 UMD; 4.x+ is ESM-only
REACT=18.3.1   # react and react-dom, same version; React 19 ships no UMD files

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for pkg in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir "$pkg"
  tar -xzf "$pkg.tgz" -C "$pkg" --strip-components=1
done

cp "graphiql-$GRAPHIQL/graphiql.min.js" "graphiql-$GRAPHIQL/graphiql.min.css" "$here/"
cp "react-$REACT/umd/react.production.min.js" "$here/"
cp "react-dom-$REACT/umd/react-dom.production.min.js" "$here/"
cp "graphiql-$GRAPHIQL/LICENSE" "$here/LICENSE.graphiql"
cp "react-$REACT/LICENSE" "$here/LICENSE.react"
cp "react-dom-$REACT/LICENSE" "$here/LICENSE.react-dom"

echo "graphiql $GRAPHIQL, react $REACT, react-dom $REACT copied to $here"
echo "Update the versions in $here/README.md, then run the browser test: tests/e2e/run browser.mjs"
