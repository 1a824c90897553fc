#!/usr/bin/env bash
# Compiles the given sources with clang's thread-safety analysis as errors
# (-Wthread-safety, engine/io/mutex.h), with the include paths and
# definitions CMake gives them in BUILD_DIR/compile_commands.json. The
# project builds with g++; this check is what makes HL_GUARDED_BY binding.
#   tests/thread_safety_check.sh BUILD_DIR FILE...
set -euo pipefail
build="$1"
shift
status=0
for file in "$@"; do
  mapfile -t cmd < <(python3 - "$build/compile_commands.json" "$file" <<'PY'
import json, shlex, sys
entries, wanted = json.load(open(sys.argv[1])), sys.argv[2]
for e in entries:
    if e["file"] != wanted:
        continue
    args, keep, skip = shlex.split(e["command"])[1:], [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a == "-c" or a == wanted or a.startswith("-W"):
            pass
        else:
            keep.append(a)
    print(e["directory"])
    for a in keep:
        print(a)
    break
PY
  )
  if [ "${#cmd[@]}" -eq 0 ]; then
    echo "no compile command for $file in $build/compile_commands.json" >&2
    exit 1
  fi
  dir="${cmd[0]}"
  if ! (cd "$dir" && clang++ "${cmd[@]:1}" -fsyntax-only -Wthread-safety -Werror=thread-safety \
        -Wno-unknown-warning-option "$file"); then
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "thread-safety analysis: $# file(s) clean"
exit "$status"
