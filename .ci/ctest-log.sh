# Helpers for stages that run ctest -V into a log; source it from a stage script.

# Summary of a ctest -V log: totals, skip reasons, the expected-ISA test, [exp] lines.
digest() {  # log label
  local log=$1 label=$2
  echo "$label: $(grep -E 'tests passed, [0-9]+ tests failed' "$log")"
  echo "$label: $(grep -c '\*\*\*Skipped' "$log" || true) skipped; reasons:"
  { grep -A1 -E '^[0-9]+: .*: Skipped$' "$log" | grep -vE ': Skipped$|^--$'
    grep -E '^[0-9]+: SKIPPED: ' "$log"; } | sed -E 's/^[0-9]+: //' | sort | uniq -c | sed 's/^/    /'
  grep -E 'Test +#[0-9]+: Dispatch\.ActiveIsaMatchesExpectation ' "$log" | sed -E "s/^ *[0-9]+\/[0-9]+ /$label: /" || true
  grep -E '^[0-9]+: \[exp\] ' "$log" | sed -E "s/^[0-9]+: /$label: /" || true
}

# On failure: the failing tests' own output (gtest messages), from a ctest -V log.
failures() {  # log
  local log=$1 n
  grep -q 'The following tests FAILED:' "$log" || { tail -40 "$log"; return; }
  sed -n '/The following tests FAILED:/,$p' "$log"
  for n in $(sed -n '/The following tests FAILED:/,$p' "$log" | grep -oE '^\s+[0-9]+ ' | head -5); do
    echo "--- output of test $n:"
    grep -E "^$n: " "$log" | grep -vE '^[0-9]+: (Test command|Working Directory|Test timeout)' | head -60
  done
}
