#!/usr/bin/env bash
# The day-two comparison at scale, in one command (docs/toptag.md, "Measured"): generate a jets
# folder, check it against the reference figures, train both physics baselines and every network
# on the same jets at the same time (one process each; on a GPU they share it), the lab's DNN and
# CNN at the lab's training size on the same test jets, then `keraslab toptag compare`.
#
#   JETS=280000 SPLIT=0.6,0.04,0.36 WORKERS=16 bash benchmarks/toptag_comparison.sh WORKDIR
#
# Everything lands in WORKDIR (jets/, compare/, lab-size/, logs/). With RESULTS=FILE.tgz the small
# files (metrics, tables, plots, test scores, logs) are packed into FILE every PACK_SECONDS while it
# runs, so that a run cut short still leaves what finished. Sizes, batch size and workers are
# environment variables; the networks' epochs are their defaults, with early stopping (patience 3).
set -u
WORK=${1:?usage: bash benchmarks/toptag_comparison.sh WORKDIR}
JETS=${JETS:-280000}
SPLIT=${SPLIT:-0.6,0.04,0.36}      # train, val, test: 100,800 test jets (50,400 QCD) at 280,000
WORKERS=${WORKERS:-16}              # generation, and N-subjettiness for nsub+m (half of them)
BATCH=${BATCH:-512}                 # the networks' batch size (their default, 128, is too slow here)
LAB_JETS=${LAB_JETS:-10000}         # the lab's training size (labs/06, labs/07 at full size)
SEED=${SEED:-2026}
COMPARE_FLAGS=${COMPARE_FLAGS:-}    # e.g. --allow-small for a trial on few jets
RESULTS=${RESULTS:-}
PACK_SECONDS=${PACK_SECONDS:-30}
NETWORKS="toptag-particlenet toptag-cnn-improved toptag-pfn toptag-cnn toptag-image-dense toptag-dnn"
KERASLAB=(python3 -m keraslab.cli)
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false  # several JAX processes share one GPU

mkdir -p "$WORK/logs" "$WORK/compare" "$WORK/lab-size"
log() { echo "[$(date +%T) +$((SECONDS))s] $*"; }
pack() {
    [ -n "$RESULTS" ] || return 0
    (cd "$WORK" && find . -path ./jets/chunks -prune -o -type f \( -name '*.json' -o -name '*.md' -o -name '*.csv' \
        -o -name '*.png' -o -name '*.log' -o -name '*.txt' -o -name 'test_scores.npz' -o -name 'scores.npy' \) -print \
        | tar czf "$RESULTS.tmp" -T - 2>/dev/null && mv "$RESULTS.tmp" "$RESULTS")
}
if [ -n "$RESULTS" ]; then
    (while sleep "$PACK_SECONDS"; do pack; done) &
    PACKER=$!
    trap 'kill $PACKER 2>/dev/null; pack' EXIT
fi

log "generating $JETS jets (split $SPLIT) on $WORKERS workers"
"${KERASLAB[@]}" toptag generate --jets "$JETS" --split "$SPLIT" --seed "$SEED" --workers "$WORKERS" \
    --out "$WORK/jets" > "$WORK/logs/generate.log" 2>&1 || { log "generation failed:"; tail -5 "$WORK/logs/generate.log"; exit 1; }
grep -a "jets/s\|wrote\|->" "$WORK/logs/generate.log" | tail -3
log "reference checks"
"${KERASLAB[@]}" toptag validate "$WORK/jets" --reference > "$WORK/logs/validate.log" 2>&1
tail -20 "$WORK/logs/validate.log"

log "training, all at once: the baselines, $NETWORKS, and the lab's DNN and CNN on $LAB_JETS jets"
pids=()
"${KERASLAB[@]}" run toptag-baseline --data "$WORK/jets" --out "$WORK/compare/toptag-baseline" \
    > "$WORK/logs/toptag-baseline.log" 2>&1 & pids+=($!)
"${KERASLAB[@]}" run toptag-nsub --data "$WORK/jets" --out "$WORK/compare/toptag-nsub" --workers $((WORKERS / 2)) \
    > "$WORK/logs/toptag-nsub.log" 2>&1 & pids+=($!)
for name in $NETWORKS; do
    "${KERASLAB[@]}" run "$name" --data "$WORK/jets" --out "$WORK/compare/$name" --batch-size "$BATCH" \
        > "$WORK/logs/$name.log" 2>&1 & pids+=($!)
done
for name in toptag-dnn toptag-cnn; do
    "${KERASLAB[@]}" run "$name" --data "$WORK/jets" --out "$WORK/lab-size/$name" --jets "$LAB_JETS" \
        > "$WORK/logs/lab-size-$name.log" 2>&1 & pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
log "training done ($failed failed)"
for f in "$WORK"/logs/toptag-*.log "$WORK"/logs/lab-size-*.log; do echo "--- $(basename "$f"): $(grep -a "on the test jets\|AUC\|rror" "$f" | tail -1)"; done

"${KERASLAB[@]}" toptag compare --data "$WORK/jets" --out "$WORK/compare" --workers $((WORKERS / 2)) $COMPARE_FLAGS \
    > "$WORK/logs/compare.log" 2>&1
status=$?
sed -n '/^| tagger/,$p' "$WORK/logs/compare.log"
log "done (compare exit code $status)"
exit $status
