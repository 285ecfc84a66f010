"""Grammar-constrained decoding cost: mask steps vs Lark's InteractiveParser, and tokens/s.

Part 1 replays canonical scene targets (sampler scenes, block form) token by token through the
real scene tokenizer. At every step it times (a) our mask step: advance the automaton by the
token and fetch the state's cached mask, warm (states seen before: the steady state of a
decoder) and cold (first visit: trie walk over the vocabulary), split into structural steps
(between bracket tokens) and payload steps (inside a ref/id/value), and (b) the baseline on the
same prefix: Lark ``InteractiveParser`` fed the complete tokens so far, then ``accepts()``.
The baseline only answers "which terminal types may come next", not a token mask; it is the
cheapest thing a Lark-driven decoder must do per step.

Part 1b replays the same scenes as row-form targets (``to_text(..., form="row", inline=True)``)
through ``Decoder(tok, "scene", form="row")`` and prints the same warm/cold step times.

Part 2 measures tokens/s of greedy decoding raw vs constrained (same prompts, same budget;
target: >= 0.7x) with the memorised gold model from ``examples/memorize_gold.py`` when its run
folder exists (raw and constrained outputs are then identical, so tokens/s compare like for
like), else with a random-init model (flagged: lengths then differ).

    python benchmarks/decode_mask.py [--scenes 40] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def fmt(name: str, us: list[float]) -> str:
    return f"{name:<34} n={len(us):>6}  median={statistics.median(us):8.2f} us  p99={pct(us, 99):9.2f} us"


def print_steps(label: str, cold: list[float], struct: list[float], payload: list[float]) -> None:
    """The four step-time lines of one replay (warm structural/payload/all, cold)."""
    print(fmt(f"{label}: warm structural step", struct))
    print(fmt(f"{label}: warm payload step", payload))
    print(fmt(f"{label}: all warm steps", struct + payload))
    print(fmt(f"{label}: cold step (first visit)", cold))


def replay(
    masker: Any,
    encode: Callable[[str], list[int]],
    vocab: list[str],
    texts: list[str],
    boundaries: str,
) -> tuple[list[float], list[float], list[float], float]:
    """Replay targets token by token through a masker: mask fetch + advance per step.

    A step is *structural* when the text so far is empty or ends with one of ``boundaries``
    (between bracket tokens; in row form also between parts), else a payload step.

    Returns:
        (cold steps, warm structural steps, warm payload steps) in microseconds, and seconds.
    """
    cold: list[float] = []
    warm_struct: list[float] = []
    warm_payload: list[float] = []
    t_all = time.perf_counter()
    for text in texts:
        ids = encode(text)
        for _ in range(2):  # first pass: cold where new; second pass: all warm
            sid = masker.start
            prefix = ""
            for t in ids:
                was_cached = sid in masker._info
                t0 = time.perf_counter_ns()
                info = masker.info(sid)
                mask = info.mask
                nxt = masker.advance(sid, t)
                dt = (time.perf_counter_ns() - t0) / 1000
                assert mask[t], (text, vocab[t])
                structural = prefix == "" or prefix[-1] in boundaries
                if not was_cached:
                    cold.append(dt)
                elif structural:
                    warm_struct.append(dt)
                else:
                    warm_payload.append(dt)
                sid = nxt
                prefix += vocab[t]
        assert masker.info(sid).mask[masker.eos_id], text
    return cold, warm_struct, warm_payload, time.perf_counter() - t_all


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenes", type=int, default=40)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--gen-rows", type=int, default=4)
    p.add_argument(
        "--run",
        default=str(ROOT / "runs" / "memorize_gold"),
        help="a trained run (model.safetensors, tokenizer/, train.npz) for the tokens/s comparison",
    )
    args = p.parse_args()

    import torch
    from dslkit.tokenizer.corpus import default_corpus
    from dslkit.train.decoding import Decoder
    from dslkit.train.model import GPT, GPTConfig
    from lark import Lark

    import scene_dsl
    from dslkit import tokenizer
    from scene_dsl.strategies import sample_scene

    torch.set_num_threads(args.threads)
    rng = random.Random(0)
    scenes = [sample_scene(rng) for _ in range(args.scenes)]
    texts = [scene_dsl.canonical_text(s, inline=True) for s in scenes]
    tok = tokenizer.build("scene", corpus=default_corpus("scene", n_generated=500), vocab_size=1600)
    dec = Decoder(tok, "scene")
    masker = dec.masker
    vocab = tok.vocab_strings()
    parser = Lark((Path(scene_dsl.__file__).parent / "scene.lark").read_text(), parser="lalr")

    cold, warm_struct, warm_payload, build_s = replay(masker, tok.encode, vocab, texts, "] ")
    lark_us: list[float] = []
    # Lark baseline on the token boundaries of the same programs (complete tokens only)
    for text in texts[: max(5, args.scenes // 4)]:
        ids = tok.encode(text)
        prefix = ""
        for t in ids:
            cut = prefix.rfind("[")
            head = prefix if cut < 0 or "]" in prefix[cut:] else prefix[:cut]
            t0 = time.perf_counter_ns()
            ip = parser.parse_interactive(head)
            ip.exhaust_lexer()
            ip.accepts()
            lark_us.append((time.perf_counter_ns() - t0) / 1000)
            prefix += vocab[t]
    # incremental Lark: feed one more terminal per step and ask accepts() (a fairer baseline)
    inc_us: list[float] = []
    for text in texts[: max(5, args.scenes // 4)]:
        ip = parser.parse_interactive("")
        tokens = list(parser.lex(text))
        for lt in tokens:
            t0 = time.perf_counter_ns()
            ip.accepts()
            ip.feed_token(lt)
            inc_us.append((time.perf_counter_ns() - t0) / 1000)

    print(
        f"vocab={tok.vocab_size} scenes={len(texts)} automaton_states={masker.automaton.n_states} "
        f"cached_masks={masker.n_cached} replay_seconds={build_s:.1f}"
    )
    print_steps("ours", cold, warm_struct, warm_payload)
    print(fmt("lark: reparse prefix + accepts()", lark_us))
    print(fmt("lark: incremental feed + accepts()", inc_us))
    warm = warm_struct + warm_payload
    print(
        f"ratio lark-reparse/ours-warm median: {statistics.median(lark_us) / statistics.median(warm):.0f}x; "
        f"lark-incremental/ours-warm: {statistics.median(inc_us) / statistics.median(warm):.1f}x"
    )

    # ---- part 1b: the same scenes as row-form targets (Decoder(tok, "scene", form="row"))
    contract = scene_dsl.load_contract("v1")
    row_texts = [
        scene_dsl.to_text(scene_dsl.canonicalize(s, contract), form="row", inline=True)
        for s in scenes
    ]
    row_masker = Decoder(tok, "scene", form="row").masker
    r_cold, r_struct, r_payload, r_s = replay(row_masker, tok.encode, vocab, row_texts, "] |")
    print(
        f"row form: scenes={len(row_texts)} automaton_states={row_masker.automaton.n_states} "
        f"cached_masks={row_masker.n_cached} replay_seconds={r_s:.1f}"
    )
    print_steps("row", r_cold, r_struct, r_payload)

    # ---- part 2: tokens/s raw vs constrained
    # Tokens/s is only comparable when both modes emit the same sequences: a random-init model
    # runs raw to the budget but stops early constrained (shorter contexts are cheaper per
    # token). So by default use the memorised gold model of examples/memorize_gold.py, whose
    # raw and constrained outputs are identical; without it, fall back to random init and say so.
    run = Path(args.run)
    contents: list[dict | None] = []  # per prompt, when the run kept its rows
    if (run / "model.safetensors").exists() and (run / "tokenizer").exists():
        from dslkit.train.checkpoint import load_model
        from dslkit.train.packing import PackedRows

        gtok = tokenizer.load(run / "tokenizer")
        # decode in the form the run was trained on (memorize_gold --form row), else the
        # constrained outputs differ from the raw ones and the ratio is not like for like
        summary = run / "summary.json"
        form = json.loads(summary.read_text()).get("form", "block") if summary.exists() else "block"
        gdec = Decoder(gtok, "scene", form=form)
        model = load_model(run / "model.safetensors", "cpu")
        packed = PackedRows.load(run / "train.npz")
        prompts = [list(packed.prompt(i)) for i in range(min(args.gen_rows, len(packed)))]
        budget = int(max(len(packed.target(i)) for i in range(len(packed)))) + 8
        rows_file = run / "rows.jsonl"
        if rows_file.exists():  # the rows the run was packed from, in order: their content
            lines = rows_file.read_text(encoding="utf-8").splitlines()
            contents = [json.loads(line).get("content") for line in lines[: len(prompts)]]
        label = f"memorised gold model {run} ({form} form, {model.num_params():,} params)"
    else:
        torch.manual_seed(0)
        gdec = dec
        model = GPT(
            GPTConfig(vocab_size=tok.vocab_size, block_size=512, n_layer=2, n_head=4, n_embd=128)
        )
        prompts = [gdec.prompt_ids(f"[task:svg] [topic:t{i}] [OUT]") for i in range(args.gen_rows)]
        budget = 200
        label = (
            "random-init 2x128 GPT (no trained run found: raw and constrained outputs differ in "
            "length, so the ratio is not like for like; run examples/memorize_gold.py first)"
        )
    model.eval()
    results: dict[str, float] = {}
    outputs: dict[str, list[tuple[int, ...]]] = {}
    modes = ["raw", "constrained"] + (["with content"] if contents else [])
    for mode in modes * 2:  # twice: the second round is warm
        t_gen = time.perf_counter()
        gens = [
            gdec.generate(
                model,
                pids,
                constrained=mode != "raw",
                max_new_tokens=budget,
                content=contents[k] if mode == "with content" and contents else None,
            )
            for k, pids in enumerate(prompts)
        ]
        n_tok = sum(len(g.ids) for g in gens)
        results[mode] = n_tok / (time.perf_counter() - t_gen)
        outputs[mode] = [g.ids for g in gens]
    raw = results["raw"]
    print(f"generation with {label}, {args.threads} thread(s), greedy, budget {budget}:")
    for mode in modes[1:]:
        print(
            f"  raw {raw:,.0f} tok/s  {mode if mode != 'with content' else 'constrained + content refs'}"
            f" {results[mode]:,.0f} tok/s  ratio {results[mode] / raw:.2f}x "
            f"(target >= 0.7x; identical outputs: {outputs[mode] == outputs['raw']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
