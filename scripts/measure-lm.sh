#!/usr/bin/env bash
# What the word LM does for the built-in model: CER and WER of greedy decoding, beam search without an LM,
# and beam search with LMs of several sizes built by scripts/build_lm.py from the sakhaspell counts, on
#   - the demo model's held-out synthetic test set (make-demo-model.sh's synth-adapter test.tsv: held-out
#     voices, sentences sampled from the same bigram counts as the LM, which flatters the LM), and
#   - "other text": the Yakut UDHR (scripts/udhr_sakha_sentences.py) spoken by the same held-out voices,
#     text the LM was not built from.
# For each LM size, α (--lm-weight), β (--word-bonus) and the unknown-word penalty come from a grid search
# on the synthetic DEV set (eval's grid mode); the test sets are decoded once with the best triple. Writes the table into
# BENCHMARKS.md between its measure-lm.sh markers and prints it. About an hour on 2 cores.
#
# Usage: scripts/measure-lm.sh [--smoke] [--out FILE] [WORK_DIR]   (default ~/.cache/sakha-asr/lm-data, BENCHMARKS.md)
# --smoke: a quick check that needs no Python beyond the standard library: in a temporary WORK_DIR,
#   2 utterances of crate/tests/demo-eval (held-out voices) as each test set and 2 more as the dev set,
#   one LM from the fixture counts (crate/tests/fixtures/lm), a grid of 2; it writes only to an --out
#   given to it.
# Environment: PYTHON (default: a venv with numpy and soundfile for the synthetic speech, made where
#   missing; scripts/bench-common.sh), SIZES (default below: name:max-words:max-bigrams, "all" for no
#   limit), ALPHAS, BETAS, PENALTIES (grid lists), BEAM (default: the CLI's).
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=
out=
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1; shift ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
source scripts/bench-common.sh
scripts/install-tools.sh --speech
counts=()
if [ -n "$smoke" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  out=${out:-/dev/null}
  python=python3
  sizes=${SIZES:-"T:all:all"}
  alphas=${ALPHAS:-0.45,0.6}
  betas=${BETAS:-3}
  penalties=${PENALTIES:--9}
  counts=(--counts crate/tests/fixtures/lm/counts)
else
  work=${1:-$HOME/.cache/sakha-asr/lm-data}
  out=${out:-BENCHMARKS.md}
  bench_python numpy soundfile
  sizes=${SIZES:-"S:50000:50000 M:100000:100000 XL:all:all"}
  # Ranges from trial grids on the dev set: the best unknown-word penalty lay beyond -9 once the LM
  # had 50 k words or more (the synthetic sentences hardly have unknown words).
  alphas=${ALPHAS:-0.45,0.6,0.8}
  betas=${BETAS:-2,3,4,5}
  penalties=${PENALTIES:--9,-16,-22}
fi
beam=${BEAM:+--beam $BEAM}
cli=$work/sakha-asr
lower_orders="kn-estimated kn-kept residual unigram"
mkdir -p "$work/lm" "$work/eval"

synth=$work/synth-adapter
other=$work/other-text
if [ -n "$smoke" ]; then
  mkdir -p "$synth" "$other"
  ln -s "$PWD/crate/tests/demo-eval/clips" "$synth/clips"
  ln -s "$PWD/crate/tests/demo-eval/clips" "$other/clips"
  sed -n '1,3p' crate/tests/demo-eval/test.tsv | tee "$synth/test.tsv" >"$other/test.tsv"
  sed -n '1p;4,5p' crate/tests/demo-eval/test.tsv >"$synth/dev.tsv"
fi
# The demo model's dev and test sets (train hours 0 leaves the sentence stream and voice draws unchanged).
[ -f "$synth/test.tsv" ] ||
  nice -n 10 "$python" scripts/make_synthetic_sakha.py --out "$synth" --voices adapter --train-hours 0 --seed 2 -j 2
if [ ! -f "$other/test.tsv" ]; then
  "$python" scripts/udhr_sakha_sentences.py "$work/udhr-sah.txt"
  nice -n 10 "$python" scripts/make_synthetic_sakha.py --out "$other" --sentences "$work/udhr-sah.txt" --seed 2 -j 2
fi

bench_build
# one binary for the whole run, even if the tree is rebuilt meanwhile (a run takes the better part of an hour)
cp "$SAKHA_ASR_CLI" "$cli"

# eval NAME TSV_DIR ARGS...: runs the CLI's eval once, its output kept in eval/NAME.txt
run_eval() {
  local name=$1 data=$2
  shift 2
  echo "== $name" >&2
  nice -n 10 "$cli" eval --tsv "$data/test.tsv" --clips "$data/clips" "$@" > "$work/eval/$name.txt"
  tail -n 2 "$work/eval/$name.txt" >&2
}

for set in synth other; do
  data=$synth; [ $set = other ] && data=$other
  run_eval "$set-greedy" "$data" --greedy
  run_eval "$set-beam" "$data" --no-lm $beam
done

# The lower-order distributions build_lm.py offers, on the full vocabulary, by held-out perplexity.
for order in $lower_orders; do
  nice -n 10 "$python" scripts/build_lm.py "${counts[@]}" --lower-order "$order" --stats-json "$work/lm/order-$order.json" \
    --heldout "$synth/dev.tsv" --heldout "$other/test.tsv" 2> "$work/lm/order-$order.log"
done

for size in $sizes; do
  IFS=: read -r name words bigrams <<< "$size"
  limits=()
  [ "$words" = all ] || limits+=(--max-words "$words")
  [ "$bigrams" = all ] || limits+=(--max-bigrams "$bigrams")
  lm=$work/lm/$name.lm
  nice -n 10 "$python" scripts/build_lm.py "${counts[@]}" "${limits[@]}" --out "$lm" --stats-json "$work/lm/$name.json" \
    --heldout "$synth/test.tsv" --heldout "$other/test.tsv" 2> "$work/lm/$name.log"
  echo "== $name: grid on the synthetic dev set" >&2
  nice -n 10 "$cli" eval --tsv "$synth/dev.tsv" --clips "$synth/clips" --lm "$lm" $beam \
    --lm-weight "$alphas" --word-bonus "$betas" --unknown-word-penalty "$penalties" > "$work/eval/dev-grid-$name.txt"
  # the triple with the lowest WER, then the lowest CER
  read -r alpha beta penalty < <(awk -F'|' '$2 ~ /[0-9]/ { gsub(/[ %]/, ""); print $5, $6, $2, $3, $4 }' \
    "$work/eval/dev-grid-$name.txt" | sort -g -k1,1 -k2,2 | head -n 1 | cut -d' ' -f3-5)
  echo "$alpha $beta $penalty" > "$work/eval/best-$name.txt"
  for set in synth other; do
    data=$synth; [ $set = other ] && data=$other
    run_eval "$set-lm-$name" "$data" --lm "$lm" $beam --lm-weight "$alpha" --word-bonus "$beta" \
      --unknown-word-penalty "$penalty"
  done
done

"$python" - "$work" "$sizes" "$alphas" "$betas" "$penalties" "$lower_orders" "$out" ${smoke:+smoke} <<'EOF'
import json, re, sys
from pathlib import Path

work, sizes = Path(sys.argv[1]), [s.split(":")[0] for s in sys.argv[2].split()]


def rates(name):
    text = (work / "eval" / f"{name}.txt").read_text()
    return tuple(float(re.search(rf"^{k}: ([0-9.]+) %", text, re.M).group(1)) for k in ("CER", "WER"))


beam_width = re.search(r"beam search \((\d+)\)", (work / "eval" / "synth-beam.txt").read_text()).group(1)


def utterances(test_set):
    return re.search(r"^utterances: (\d+) scored", (work / "eval" / f"{test_set}-greedy.txt").read_text(), re.M).group(1)


def cells(name):
    return [f"{v:.2f} %" for pair in zip(rates(f"synth-{name}"), rates(f"other-{name}")) for v in pair]


rows = [["greedy", "", "", "", "", "", *cells("greedy")], ["beam, no LM", "", "", "", "", "", *cells("beam")]]
for size in sizes:
    stats = json.loads((work / "lm" / f"{size}.json").read_text())
    synth, other = (v for k, v in stats.items() if k.startswith("heldout:"))
    alpha, beta, penalty = (work / "eval" / f"best-{size}.txt").read_text().split()
    rows.append([f"beam + LM {size}", f"{stats['bytes'] / 1e6:.2f} MB", f"{stats['words'] - 2:,}",
                 f"{stats['bigrams']:,}", f"{synth['perplexity']:.0f} / {synth['oov_rate'] * 100:.1f} %",
                 f"{other['perplexity']:.0f} / {other['oov_rate'] * 100:.1f} %", *cells(f"lm-{size}"),
                 f"{alpha}, {beta}, {penalty}"])
header = ["decoding", "LM size", "words", "bigrams", "perplexity / OOV, synth test", "perplexity / OOV, other",
          "CER synth", "CER other", "WER synth", "WER other", "α, β, unknown-word penalty (dev grid)"]


def markdown(header, rows):
    return "\n".join("| " + " | ".join(r + [""] * (len(header) - len(r))) + " |"
                     for r in [header, ["---"] * len(header), *rows])


table = markdown(header, rows)
orders = []
for order in sys.argv[6].split():
    stats = json.loads((work / "lm" / f"order-{order}.json").read_text())
    dev, other = (v for k, v in stats.items() if k.startswith("heldout:"))
    orders.append([order, f"{dev['perplexity']:.1f}", f"{other['perplexity']:.1f}"])
order_table = markdown(["lower order (full vocabulary, all bigrams)", "perplexity, synth dev", "perplexity, other"],
                       orders)
smoke = ("**A smoke run** (`--smoke`): demo-eval utterances as every set, an LM of the fixture counts; "
         "it checks that the measurement runs, its figures mean nothing. ") if sys.argv[8:] == ["smoke"] else ""
section = f"""<!-- measure-lm.sh: begin -->
## Word LM in decoding (built-in model, `scripts/measure-lm.sh`)

{smoke}Held-out voices. "synth": the demo model's synthetic test set ({utterances("synth")} utterances); its sentences were
sampled from the same sakhaspell bigram counts the LM is built from, which flatters the LM. "other": the Yakut
UDHR (scripts/udhr_sakha_sentences.py, {utterances("other")} segments) spoken by the same held-out voices, text the LM was
not built from (legal language, far from the news-like corpus). LMs from `scripts/build_lm.py` (interpolated
Kneser-Ney on the count-5-truncated bigrams, D = 1.0); beam {beam_width}; α, β and the unknown-word
penalty from a grid on the synthetic dev set (LM weights {sys.argv[3]}, word bonuses {sys.argv[4]},
penalties {sys.argv[5]}).

{table}

Perplexity counts </s> and scores unknown words as one class (<unk>), so it is comparable only at one
vocabulary. Lower orders compared (`build_lm.py --lower-order`): KN continuation counts estimated from the
kept contexts plus the residual tokens (the default), KN counts of the kept contexts alone, residual
tokens (each word's tokens outside kept bigrams), plain unigram counts. The synthetic dev sentences use
kept bigrams only, so the lower order matters most for "other".

{order_table}
<!-- measure-lm.sh: end -->
"""
bench = Path(sys.argv[7])
text = bench.read_text() if bench.exists() else ""
begin, end = text.find("<!-- measure-lm.sh: begin -->"), text.find("<!-- measure-lm.sh: end -->")
if begin >= 0 and end > begin:
    text = text[:begin] + section + text[end + len("<!-- measure-lm.sh: end -->\n"):]
else:
    text = text.rstrip() + "\n\n" + section
bench.write_text(text)
print(section)
EOF
