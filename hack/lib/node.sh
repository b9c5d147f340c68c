# Sourced by hack/ scripts: the repo's pinned Node 24 (the npm package `node`), since the
# machine's own node may be older. Falls back to node on PATH when npm ci has not run.
repo_node() {
  local root="$1"
  if [[ -x "$root/node_modules/node/bin/node" ]]; then echo "$root/node_modules/node/bin/node"; else command -v node; fi
}
