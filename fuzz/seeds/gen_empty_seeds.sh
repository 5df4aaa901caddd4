#!/usr/bin/env bash
# Seeds for fuzzers whose input is an operation sequence: a few fixed byte strings.
set -euo pipefail
out=${1:?usage: gen_empty_seeds.sh CORPUS_DIR}
mkdir -p "$out"
printf '\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b' > "$out/seq1"
printf '\x00\x01\x00\x01\x00\x01\x01\x01\x00\x02\x02\x06\x01\x03\x04\x05' > "$out/seq2"
