"""Token-mask cost of constrained decoding: dslkit beside xgrammar and llguidance, and HF tokens/s.

Part 1 replays canonical texts (sampled scenes in block form, sampled traces) token by token
with the same vocabularies for every engine: dslkit's own atomic tokenizer of the language, a
16k and a 32k byte-level BPE and an 8k SentencePiece-style Unigram (``▁`` spaces, ``<0xNN>``
byte fallback), all trained here on generated text. Every engine gets the grammar from the same
contract / step schema: dslkit its prefix automaton, xgrammar an EBNF and llguidance the same
grammar in Lark syntax (converted with ``llguidance.gbnf_to_lark``, with ``no_forcing``: the
reserved tokens of an atomic vocabulary would otherwise be forced byte by byte). The peers'
grammars are looser than dslkit's automaton (no per-family component sets, no singleton or
canonical-default rules, no value checks), which only makes their masks cheaper. dslkit's
masker runs on one thread; xgrammar compiles on ``--threads`` (default 1: the same budget;
its compile splits the vocabulary, so 2 threads cut its 32k trace compile about in half).
``--text-seed`` samples other texts of the same languages (the default, 0, is the issue's).
Real material instead of sampled texts: ``--scene-files`` replays scene files (any dialect
dslkit reads, e.g. the CKE v7 corpus, with ``--scene-contract v2`` for its vocabulary; a file
that does not read or validate is left out and counted) and ``--gsm8k`` traces converted from
GSM8K problems.

At every step each engine computes the full mask of the state, the benchmark checks the gold
token is allowed (a refused gold token is counted and printed), then advances. Per engine it
prints build time (dslkit: tables and automaton, first visits are in the masks; xgrammar:
tokenizer info + grammar compile; llguidance: tokenizer + matcher), mask p50/p99 over every
step (first visits included), the total (build + every mask and advance of the replay) and the
ratio to dslkit's total, then the warm p50/p99 of a second pass, and ``full gc N`` when N full
passes of Python's cyclic collector ran in the engine's timed part (each is in its total;
every engine starts from a collected heap). Below dslkit's line, ``(loaded)`` replays once more
with its masker saved after the first replay (untimed) and loaded from disk, as a second
process with the same grammar and vocabulary would: printed apart, never in the ratios, which
compare dslkit built from scratch in the run. The harness's own lookups (the tokenizer's
``eos_token_id`` property, the ids of a text) are read outside the timed steps, and every
engine's modules are imported before (dslkit's processor and the languages' automaton modules,
as the peers' packages are). A missing
engine is skipped and says so.

Part 2: HF ``generate`` tokens/s of a tiny random ``LlamaForCausalLM`` with and without
:class:`dslkit.train.hf_decoding.GrammarLogitsProcessor` (greedy, batch of 8, one thread).

    python benchmarks/decode_mask.py [--texts 20] [--text-seed 0] [--threads 1] [--repeat 5] [--skip-gen]
        [--tokenizer-cache DIR] [--languages scene,trace] [--vocabularies 'byte-level BPE 32k']
        [--scene-files DIR... --scene-contract v2] [--gsm8k ../shared/data/gsm8k/train.jsonl]
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# ----------------------------------------------------------------------------- peer grammars
def _q(text: str) -> str:
    """A GBNF string literal."""
    return json.dumps(text)


def scene_gbnf(contract: Any = "v1") -> str:
    """Canonical inline block-form scenes of a contract as xgrammar EBNF (GBNF syntax)."""
    import scene_dsl

    c = scene_dsl.load_contract(contract)
    kinds = {
        "ref": "ref",
        "id": "ident",
        "idref": "ident",
        "int": "[0-9]+",
        "text": "[A-Za-z0-9_] [A-Za-z0-9_.-]*",  # a display slug (scene_dsl.contract.TEXT_RE)
    }
    lines = [
        "ident ::= [A-Za-z_] [A-Za-z0-9_]*",
        'ref ::= [A-Za-z0-9_]+ ("." [A-Za-z0-9_]+)*',
    ]

    def value(kind: str, values: tuple[str, ...]) -> str:
        if values:
            return "(" + " | ".join(_q(v) for v in values) + ")"
        return kinds[kind]

    attrs = []
    for a in c.attributes:
        piece = f"{_q(f' [{a.name}:')} {value(a.kind, a.values)} {_q(']')}"
        attrs.append(f"({piece})" + ("" if a.required else "?"))
    tops = [n for n, s in c.components.items() if not s.child_only]
    lines.append(
        f"root ::= {_q('[scene]')} {' '.join(attrs)} ("
        + " | ".join(f"c_{n}" for n in tops)
        + f")* {_q(' [/scene]')}"
    )
    for name, spec in c.components.items():
        parts = []
        for f in spec.fields:
            piece = f"({_q(f' [{f.name}:')} {value(f.kind, f.values)} {_q(']')})"
            suffix = ("+" if f.required else "*") if f.repeatable else ("" if f.required else "?")
            parts.append(piece + suffix)
        if spec.children:
            parts.append("(" + " | ".join(f"c_{k}" for k in spec.children) + ")*")
        lines.append(f"c_{name} ::= {_q(f' [{name}]')} {' '.join(parts)} {_q(f' [/{name}]')}")
    return "\n".join(lines) + "\n"


def trace_gbnf() -> str:
    """Canonical traces (single and composed) of the step schema as xgrammar EBNF."""
    from trace_dsl.experts import COMPUTE_OPS, EXPERTS, ops_for
    from trace_dsl.schema import SCHEMAS

    values = {
        "name": "name",
        "number": "number",
        "arg": "(name | number)",
        "args": '"[" (name | number) (", " (name | number))* "]"',
        "compute_op": "(" + " | ".join(_q(o) for o in sorted(COMPUTE_OPS)) + ")",
        "source": '("prev.result" | "sub" [0-9]+ ".result")',
        "text": '"\\"" [^"\\\\\\n]* "\\""',
        "num_map": '"{" name ": " number (", " name ": " number)* "}"',
    }
    lines = [
        'name ::= [A-Za-z_] [A-Za-z0-9_]* ("." [A-Za-z_] [A-Za-z0-9_]*)*',
        'number ::= "-"? [0-9]+ ("." [0-9]+)?',
    ]
    for op, schema in SCHEMAS.items():
        parts = []
        grouped = {k for g in schema.one_of for k in g}
        for key in schema.keys:
            piece = f"({_q(f', {key.name}: ')} {values[key.kind]})"
            if key.name in grouped:
                continue
            parts.append(piece + ("" if key.required else "?"))
        for group in schema.one_of:
            alts = [f"{_q(f', {k}: ')} {values[schema.key(k).kind]}" for k in group]  # type: ignore[union-attr]
            parts.append("(" + " | ".join(alts) + ")")
        lines.append(f"op_{op} ::= {_q(op)} {' '.join(parts)}")
    singles, blocks = [], []
    for e in EXPERTS:
        body = "(" + " | ".join(f"op_{o}" for o in sorted(ops_for(e))) + ")"
        lines.append(f's_{e} ::= {_q(f"expert: {e}")} "\\ntrace:\\n" ("- {{op: " {body} "}}\\n")+')
        lines.append(
            f'b_{e} ::= {_q(f"- expert: {e}")} "\\n  trace:\\n" ("  - {{op: " {body} "}}\\n")+'
        )
        singles.append(f"s_{e}")
        blocks.append(f"b_{e}")
    lines.append(f"root ::= {' | '.join(singles)} | ({' | '.join(blocks)})+")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- vocabularies
def corpus(n: int, seed: int = 1) -> list[str]:
    """Generated scenes (both forms), traces and content prose to train tokenizers on."""
    import scene_dsl
    import trace_dsl
    from scene_dsl.strategies import sample_content, sample_scene
    from trace_dsl.strategies import sample_trace

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        scene = scene_dsl.canonicalize(sample_scene(rng))
        out += [scene_dsl.to_text(scene, form=f, inline=True) for f in ("block", "row")]
        out.append(json.dumps(sample_content(scene, rng=rng)))
        out.append(trace_dsl.to_text(sample_trace(rng)))
    return out


def canonical_texts(n: int, seed: int = 0) -> dict[str, list[str]]:
    """The texts every engine replays: ``n`` sampled scenes (block form), then ``n`` sampled
    traces, from one generator seeded with ``seed`` (benchmarks/decode_mask_work.py replays
    the same)."""
    import scene_dsl
    import trace_dsl
    from scene_dsl.strategies import sample_scene
    from trace_dsl.strategies import sample_trace

    rng = random.Random(seed)
    scenes = [scene_dsl.canonical_text(sample_scene(rng), inline=True) for _ in range(n)]
    return {"scene": scenes, "trace": [trace_dsl.to_text(sample_trace(rng)) for _ in range(n)]}


def scene_files(paths: list[Path], contract: str, n: int, seed: int) -> list[str]:
    """The canonical inline block-form texts of real scene files (any dialect dslkit reads:
    ``dialect="auto"``), ``n`` of them in an order shuffled with ``seed``. A folder stands
    for every ``*.dsl`` file under it. A file that does not read, or whose scene does not
    validate under ``contract``, is left out and counted (it is not a program of the
    language the engines are built for: every engine would refuse it)."""
    import scene_dsl
    from scene_dsl.dialects import parse as read_scene

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"--scene-files: no such file or folder: {', '.join(missing)}")
    files = sorted(f for p in paths for f in (p.rglob("*.dsl") if p.is_dir() else [p]))
    if not files:
        raise SystemExit(f"--scene-files: no .dsl file in {', '.join(map(str, paths))}")
    texts: list[str] = []
    unread: list[str] = []
    invalid: list[str] = []
    for f in files:
        try:
            scene = read_scene(f.read_text(encoding="utf-8"), dialect="auto", contract=contract)
        except (scene_dsl.DslkitError, UnicodeDecodeError) as exc:
            unread.append(f"{f}: {str(exc).splitlines()[0]}")
            continue
        bad = [d for d in scene_dsl.validate(scene, contract) if d.severity == "error"]
        if bad:
            invalid.append(f"{f}: {str(bad[0]).splitlines()[0]}")
            continue
        texts.append(scene_dsl.canonical_text(scene, inline=True, contract=contract))
    random.Random(seed).shuffle(texts)
    print(
        f"scene files: {len(files)}, {len(texts)} valid under contract {contract}, "
        f"replaying {min(n, len(texts))}; left out: {len(unread)} that do not read, "
        f"{len(invalid)} that do not validate"
    )
    for line in (unread + invalid)[:5]:
        print(f"  left out {line}")
    if not texts:
        raise SystemExit("--scene-files: no file holds a valid scene")
    return texts[:n]


def gsm8k_traces(path: Path, n: int, seed: int) -> list[str]:
    """``n`` canonical traces converted from a GSM8K JSONL file (``trace_dsl.gsm8k``; the
    problems it cannot turn into a trace are left out and counted), in an order shuffled
    with ``seed``, from the first ``max(200, 10 n)`` problems."""
    from dslkit.train.data import trace_rows

    limit = max(200, 10 * n)
    rows, notes = trace_rows(path, limit=limit)
    for note in notes:
        print(f"gsm8k: {note}")
    if not rows:
        raise SystemExit(f"--gsm8k: no trace from {path}")
    texts = [row.target for row in rows]
    random.Random(seed).shuffle(texts)
    print(
        f"gsm8k: {len(texts)} traces from the first {limit} problems, replaying {min(n, len(texts))}"
    )
    return texts[:n]


def generic_text(megabytes: float) -> list[str]:
    """Generic English and code to train the "generic" BPEs on (the DSL corpus alone has too
    few distinct words for 16k or 32k merges): the Python sources of the installed packages,
    read in a fixed order. Nothing is downloaded."""
    import sysconfig

    budget = int(megabytes * 1e6)
    out: list[str] = []
    for path in sorted(Path(sysconfig.get_paths()["purelib"]).rglob("*.py")):
        if budget <= 0:
            break
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out.append(text)
        budget -= len(text)
    return out


def hf_tokenizers(
    language: str, texts: Callable[[], list[str]], cache: Path | None = None
) -> dict[str, Any]:
    """label -> transformers fast tokenizer, every vocabulary of the comparison.

    With ``cache``, tokenizers saved there by an earlier run with the same options are loaded
    (training the BPEs is nearly all of a run's time) and new ones are saved there."""
    from transformers import PreTrainedTokenizerFast

    folder = cache / language if cache else None
    # the labels are written last: a run stopped while saving leaves no half set to load
    saved = folder / "labels.json" if folder else None
    if saved and saved.is_file():
        labels = json.loads(saved.read_text())
        return {label: PreTrainedTokenizerFast.from_pretrained(folder / label) for label in labels}
    out = _train_tokenizers(language, texts())
    if folder and saved:
        for label, tok in out.items():
            tok.save_pretrained(folder / label)
        saved.write_text(json.dumps(list(out)))
    return out


def atomic_tokenizer(language: str) -> Any:
    """dslkit's own atomic tokenizer of the language (a ``tokenizers.Tokenizer``, built in a
    few seconds from the language's generated corpus)."""
    from dslkit.tokenizer.corpus import default_corpus

    from dslkit import tokenizer

    dsl = tokenizer.build(
        language, corpus=default_corpus(language, n_generated=500), granularity="atomic"
    )
    return dsl.tokenizer


def _train_tokenizers(language: str, texts: list[str]) -> dict[str, Any]:
    """Train every vocabulary of the comparison on ``texts`` (and the language's corpus)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    out: dict[str, Any] = {}
    out["dslkit atomic"] = PreTrainedTokenizerFast(
        tokenizer_object=atomic_tokenizer(language),
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        pad_token="<|pad|>",
    )
    for size in (16_000, 32_000):
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.train_from_iterator(
            texts,
            trainers.BpeTrainer(
                show_progress=False,
                vocab_size=size,
                special_tokens=["<s>", "</s>", "<pad>"],
                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            ),
        )
        out[f"byte-level BPE {size // 1000}k"] = PreTrainedTokenizerFast(
            tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
        )
    tok = Tokenizer(models.Unigram(byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    tok.train_from_iterator(
        texts,
        trainers.UnigramTrainer(
            show_progress=False,
            vocab_size=8000,
            special_tokens=["<s>", "</s>", "<pad>", *(f"<0x{b:02X}>" for b in range(256))],
            unk_token="<s>",
        ),
    )
    out["SentencePiece-style 8k"] = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    return out


# ----------------------------------------------------------------------------- engines
# An engine: build(tokenizer, language, grammar) -> (mask(state) -> allowed(id) -> bool,
# advance(state, id) -> state, start state). The replay times mask + advance per step.
Engine = Callable[[Any, str, str], tuple[Callable[..., Any], Callable[..., Any], Any, Any]]


_LAST: dict[str, Any] = {}  # the last dslkit processor built (to save its masker, untimed)


def dslkit_engine(
    tok: Any,
    language: str,
    grammar: str,
    cache_dir: str | None = None,
    contract: str = "v1",
) -> tuple[Any, Any, Any, Any]:
    """dslkit built from scratch (``cache_dir`` empty, or None: a new temporary folder), or
    loaded from the masker saved in ``cache_dir``; scenes under ``contract``."""
    from dslkit.train import hf_decoding

    hf_decoding.clear_caches()  # first visits count: nothing from earlier runs (maskers, vocabularies)
    cache = cache_dir or tempfile.mkdtemp()
    proc = hf_decoding.GrammarLogitsProcessor(
        tok,
        language,  # type: ignore[arg-type]
        check_values=False,
        cache_dir=cache,
        contract=contract,  # (a trace has none: ignored)
    )
    _LAST["proc"] = proc

    # The state is the processor's row itself, as generate's steps hold it (no tuple per step:
    # the harness adds as little to dslkit's step as to the peers'); the first step is the
    # root row's (the only thing the count of generated tokens decides without a budget).
    root = proc._root(0)

    def mask(row: Any) -> Any:
        return proc._allowed(row, 0 if row is root else 1)

    def advance(row: Any, token: int) -> Any:
        return proc._advance(row, token, row is root)

    return mask, advance, root, lambda: None


def xgrammar_engine(
    tok: Any, language: str, grammar: str, threads: int = 1
) -> tuple[Any, Any, Any, Any]:
    import torch
    import xgrammar as xg

    info = xg.TokenizerInfo.from_huggingface(tok, vocab_size=len(tok))
    # (its compile splits the vocabulary over ``threads`` threads; dslkit uses one)
    compiled = xg.GrammarCompiler(info, max_threads=threads).compile_grammar(grammar)
    matcher = xg.GrammarMatcher(compiled)
    bitmask = xg.allocate_token_bitmask(1, info.vocab_size)

    def mask(_: Any) -> Any:
        matcher.fill_next_token_bitmask(bitmask)
        return bitmask

    def advance(state: Any, token: int) -> Any:
        assert matcher.accept_token(token)
        return state

    _ = torch
    return mask, advance, None, matcher.reset


def xgrammar_allows(bitmask: Any, token: int) -> bool:
    return bool((int(bitmask[0, token // 32]) >> (token % 32)) & 1)


def llguidance_engine(tok: Any, language: str, grammar: str) -> tuple[Any, Any, Any, Any]:
    import llguidance as llg
    import llguidance.hf
    from llguidance.gbnf_to_lark import gbnf_to_lark

    lltok = llguidance.hf.from_tokenizer(tok)
    lark = '%llguidance {"no_forcing": true}\n' + gbnf_to_lark(grammar)
    matcher = llg.LLMatcher(lltok, llg.LLMatcher.grammar_from_lark(lark))
    if matcher.is_error():
        raise RuntimeError(matcher.get_error())

    def mask(_: Any) -> Any:
        return matcher.compute_bitmask()

    def advance(state: Any, token: int) -> Any:
        assert matcher.consume_token(token), matcher.get_error()
        return state

    return mask, advance, None, matcher.reset


def llguidance_allows(bitmask: bytes, token: int) -> bool:
    return bool(bitmask[token // 8] >> (token % 8) & 1)


def replay(
    engine: Engine,
    allows: Callable[[Any, int], bool],
    tok: Any,
    language: str,
    grammar: str,
    texts: list[str],
) -> dict[str, Any]:
    """Build the engine once, replay every text (a reset matcher per text), then replay them
    all again (warm: every state met before). Totals cover the build and the first pass; a
    step times the engine's mask and its advance, not the harness's check that the gold token
    is allowed (an engine's own mask format, read the same way for every token).

    Each engine starts from a collected heap (``gc.collect()`` before its build, untimed), so
    none pays for a full pass of Python's cyclic collector that the objects of an earlier one
    (or of the tokenizer training) left pending; the full passes that run during its own
    build and first pass are counted and printed (they are in its total)."""
    gc.collect()
    full = gc.get_stats()[2]["collections"]
    t0 = time.perf_counter()
    mask, advance, state0, reset = engine(tok, language, grammar)
    build = time.perf_counter() - t0
    passes: list[list[float]] = [[], []]
    refused = 0
    total = build
    # read once, outside the timed steps: a transformers tokenizer's eos_token_id is a
    # property lookup of about a microsecond, as long as a whole warm step
    eos = tok.eos_token_id
    for k in (0, 1):
        for text in texts:
            reset()
            state = state0
            for t in [*tok.encode(text, add_special_tokens=False), eos]:
                # the mask and the step are timed, the harness's check of the gold token is
                # not: reading one bit of xgrammar's torch bitmask costs ~1.5 us, half of its
                # warm step, where a numpy or bytes mask reads it in 0.04 us
                t0 = time.perf_counter_ns()
                allowed = mask(state)
                dt = time.perf_counter_ns() - t0
                ok = allows(allowed, t)
                if ok and t != eos:
                    t0 = time.perf_counter_ns()
                    state = advance(state, t)
                    dt += time.perf_counter_ns() - t0
                passes[k].append(dt / 1000)
                total += dt / 1e9 if k == 0 else 0.0
                if not ok:
                    refused += k == 0
                    break
        if k == 0:
            full = gc.get_stats()[2]["collections"] - full
    return {
        "build": build,
        "steps": passes[0],
        "warm": passes[1],
        "total": total,
        "refused": refused,
        "full_gc": full,
    }


def print_line(name: str, r: dict[str, Any], ratio: str) -> None:
    """One engine's line: build, step p50/p99, total, ratio, warm p50/p99."""
    print(
        f"  {name:<11} build {r['build'] * 1000:8.1f} ms  step p50 "
        f"{statistics.median(r['steps']):8.1f} us  p99 {pct(r['steps'], 99):9.1f} us  "
        f"total {r['total']:7.3f} s  {ratio}  warm p50 "
        f"{statistics.median(r['warm']):6.1f} us p99 {pct(r['warm'], 99):7.1f} us"
        + (f"  full gc {r['full_gc']}" if r["full_gc"] else "")
        + (f"  REFUSED {r['refused']} gold tokens" if r["refused"] else "")
    )


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


# ----------------------------------------------------------------------------- part 2
def generate_speed(tok: Any, threads: int, budget: int = 64, rows: int = 8) -> None:
    import torch
    from dslkit.train.hf_decoding import GrammarLogitsProcessor
    from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessorList

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
    )
    model = LlamaForCausalLM(cfg).eval()
    tok.padding_side = "left"
    batch = tok([f"draw {i}" for i in range(rows)], return_tensors="pt", padding=True)
    n_prompt = batch["input_ids"].shape[1]
    results = {}
    for mode in ("raw", "constrained", "raw", "constrained"):  # the second round is warm
        procs = []
        if mode == "constrained":
            procs = [
                GrammarLogitsProcessor(tok, "scene", max_new_tokens=budget, check_values=False)
            ]
        t0 = time.perf_counter()
        out = model.generate(
            **batch,
            do_sample=False,
            max_new_tokens=budget,
            min_new_tokens=budget if mode == "raw" else 0,
            logits_processor=LogitsProcessorList(procs),
            pad_token_id=tok.pad_token_id,
        )
        dt = time.perf_counter() - t0
        gen = out[:, n_prompt:]
        n_tok = int((gen != tok.pad_token_id).sum())
        results[mode] = (n_tok / dt, n_tok, out.shape[1] - n_prompt)
    raw, con = results["raw"], results["constrained"]
    print(
        f"HF generate, tiny random LlamaForCausalLM (2x64), {rows} rows, greedy, budget {budget}, "
        f"{threads} thread(s), warm: raw {raw[0]:,.0f} tok/s ({raw[1]} tokens, {raw[2]} steps); "
        f"constrained {con[0]:,.0f} tok/s ({con[1]} tokens, {con[2]} steps); "
        f"ratio {con[0] / raw[0]:.2f}x (target >= 0.7x)"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=int, default=20, help="canonical texts per language")
    p.add_argument("--corpus", type=int, default=3000, help="generated cases to train the BPEs on")
    p.add_argument("--generic-mb", type=float, default=12.0, help="generic text for the BPEs")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads, and xgrammar's compile threads (dslkit's masker uses one)",
    )
    p.add_argument(
        "--text-seed",
        type=int,
        default=0,
        help="seed of the sampled canonical texts (other samples of the same languages)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="replays per engine and cell, the engines taking turns; each line is the run "
        "with the median total (a shared machine's load moves single runs by a tenth or more, "
        "so one run can cross a ratio of 1 that the median does not)",
    )
    p.add_argument(
        "--scene-files",
        type=Path,
        nargs="+",
        default=None,
        help="replay these real scene files (or every .dsl file under these folders; any "
        "dialect dslkit reads, e.g. the CKE v7 corpus) instead of sampled scenes: --texts of "
        "them, shuffled with --text-seed, as canonical inline block-form text",
    )
    p.add_argument(
        "--scene-contract",
        default="v1",
        help="the contract every engine's scene grammar is built from (v1: the sampled "
        "scenes'; v2 for the CKE vocabulary)",
    )
    p.add_argument(
        "--gsm8k",
        type=Path,
        default=None,
        help="replay traces converted from this GSM8K JSONL file (e.g. "
        "../shared/data/gsm8k/train.jsonl) instead of sampled traces",
    )
    p.add_argument("--skip-gen", action="store_true", help="skip the HF generate comparison")
    p.add_argument("--languages", default="scene,trace")
    p.add_argument(
        "--vocabularies",
        default="",
        help="replay only these vocabularies (comma-separated labels as printed, e.g. "
        "'byte-level BPE 32k'; default: all)",
    )
    p.add_argument(
        "--tokenizer-cache",
        type=Path,
        default=None,
        help="folder to save the trained tokenizers in and load them from in later runs "
        "(same --corpus and --generic-mb); the masks are built from scratch either way",
    )
    args = p.parse_args()
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1, not {args.repeat}")

    import torch
    from dslkit.train import hf_decoding  # imported before timing, as the peers are

    # the automaton modules too (loaded on first use otherwise)
    import scene_dsl.automaton  # noqa: F401
    import trace_dsl.automaton  # noqa: F401

    torch.set_num_threads(args.threads)
    engines: list[tuple[str, Engine, Callable[[Any, int], bool]]] = [
        ("dslkit", dslkit_engine, lambda m, t: bool(m is None or m[t]))
    ]
    for name, module, engine, allows in (
        (
            "xgrammar",
            "xgrammar",
            functools.partial(xgrammar_engine, threads=args.threads),
            xgrammar_allows,
        ),
        ("llguidance", "llguidance", llguidance_engine, llguidance_allows),
    ):
        try:
            __import__(module)
            engines.append((name, engine, allows))
        except ImportError:
            print(f"{name}: not installed, skipped (pip install 'dslkit[bench]')")

    @functools.cache
    def texts_for_training() -> list[str]:
        # generated once, and only when a tokenizer is trained (not when all are loaded)
        t0 = time.perf_counter()
        texts = corpus(args.corpus) + generic_text(args.generic_mb)
        print(f"corpus of {len(texts)} texts ({time.perf_counter() - t0:.1f} s)")
        return texts

    cache = args.tokenizer_cache
    if cache:
        cache = cache / f"corpus{args.corpus}-generic{args.generic_mb:g}"
    # dslkit's cache folder of each replay lies in one scratch folder, removed on exit
    scratch = tempfile.mkdtemp(prefix="decode_mask-")
    atexit.register(shutil.rmtree, scratch, True)
    replayed = canonical_texts(args.texts, args.text_seed)
    if args.scene_files:
        replayed["scene"] = scene_files(
            args.scene_files, args.scene_contract, args.texts, args.text_seed
        )
    if args.gsm8k:
        replayed["trace"] = gsm8k_traces(args.gsm8k, args.texts, args.text_seed)
    cases = {
        "scene": (replayed["scene"], scene_gbnf(args.scene_contract)),
        "trace": (replayed["trace"], trace_gbnf()),
    }
    ours = functools.partial(dslkit_engine, contract=args.scene_contract)
    vocabularies: dict[str, dict[str, Any]] = {}
    for language in args.languages.split(","):
        texts, grammar = cases[language]
        vocabularies[language] = hf_tokenizers(language, texts_for_training, cache)
        for label, tok in vocabularies[language].items():
            if args.vocabularies and label not in args.vocabularies.split(","):
                continue
            print(f"\n{language}, {label} ({len(tok)} ids), {len(texts)} canonical texts:")
            # --repeat N: the engines take turns N times (load that comes and goes hits each
            # alike); each line is the run with the median total, the ratio the medians'
            runs: dict[str, list[dict[str, Any]]] = {}
            failed: set[str] = set()
            for _ in range(args.repeat):
                for name, engine, allows in engines:
                    if name in failed:
                        continue
                    # the last masker is dropped here, untimed (each dslkit build starts
                    # empty), with the processor that holds it before dslkit's own turn (a
                    # build never pays for freeing the one before)
                    hf_decoding.clear_caches()
                    timed = engine
                    if name == "dslkit":
                        _LAST.clear()
                        # its empty cache folder made here, untimed: a user's exists already
                        # (the processor's own look for a saved masker in it is timed), and
                        # the peers make none
                        timed = functools.partial(ours, cache_dir=tempfile.mkdtemp(dir=scratch))
                    try:
                        r = replay(timed, allows, tok, language, grammar, texts)
                    except Exception as exc:  # a peer that cannot take this grammar or vocabulary
                        print(f"  {name:<11} failed: {type(exc).__name__}: {str(exc)[:200]}")
                        failed.add(name)
                        continue
                    runs.setdefault(name, []).append(r)
            base = None
            for name, _, allows in engines:
                if name not in runs:
                    continue
                ranked = sorted(runs[name], key=lambda x: x["total"])
                r = ranked[(len(ranked) - 1) // 2]
                base = r["total"] if name == "dslkit" else base
                ratio = f"{r['total'] / base:6.2f}x dslkit" if base else ""
                if len(ranked) > 1:
                    low, high = ranked[0]["total"], ranked[-1]["total"]
                    ratio += f" (median of {len(ranked)}, {low:.3f}-{high:.3f} s)"
                print_line(name, r, ratio)
                if name == "dslkit":
                    # untimed: save the last masker built with the states of its replay, drop
                    # it, and replay with it loaded from disk (a second process's view; printed
                    # apart, never in the ratios: the line above built it from scratch)
                    folder = str(_LAST.pop("proc").save_cache().parent)
                    hf_decoding.clear_caches()
                    loaded = replay(
                        functools.partial(ours, cache_dir=folder),
                        allows,
                        tok,
                        language,
                        grammar,
                        texts,
                    )
                    _LAST.clear()
                    hf_decoding.clear_caches()
                    print_line("  (loaded)", loaded, "masker loaded from disk, not in the ratios")
    if not args.skip_gen:
        print()
        scene_vocabularies = vocabularies.get("scene") or hf_tokenizers(
            "scene", texts_for_training, cache
        )
        generate_speed(scene_vocabularies["byte-level BPE 16k"], args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
