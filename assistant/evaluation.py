"""Evaluation on the labelled question set (eval/questions/{dev,test}.jsonl):

- retrieval: hit@1/3/5 and MRR over questions with gold passages, per retrieval mode and per topic;
- safety: kind accuracy, recall/precision per kind and a confusion matrix, through the whole pipeline;
- calibrate: the no_answer thresholds that best separate answerable from uncovered dev questions."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .records import KINDS
from .safety import ORDER, answer_probability, decide_all, escalates
# The retired holdouts are a calibration pool of their own; like dev they also train the classifier
# (safety_model.TUNING_SPLITS), so calibration scores each with a model trained without it.
from .safety_model import QUESTIONS_DIR, RETIRED_SPLITS, TUNING_SPLITS
from .safety_targets import TargetCheck, check, counts
from .settings import Settings


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    passages: tuple[str, ...] = ()
    topic: str = ""


def load_questions(split: str, directory: Path = QUESTIONS_DIR) -> list[Question]:
    splits = ("dev", "test") if split == "all" else (split,)
    out: list[Question] = []
    for s in splits:
        with open(directory / f"{s}.jsonl", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    out.append(Question(d["id"], d["question"], d["kind"], tuple(d.get("passages", ())),
                                        d.get("topic", "")))
    return out


@dataclass
class RetrievalScores:
    n: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    hit5: float = 0.0
    mrr: float = 0.0
    by_topic: dict[str, dict[str, float]] = field(default_factory=dict)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (question, gold, got) at rank > 3


def score_retrieval(retriever, questions: list[Question], k: int = 5) -> RetrievalScores:
    rows = []
    for q in questions:
        if not q.passages:
            continue
        ids = [h.passage.id for h in retriever.search(q.question, k=k).hits]
        rank = next((i + 1 for i, pid in enumerate(ids) if pid in q.passages), None)
        rows.append((q, rank, ids))
    s = RetrievalScores(n=len(rows))
    if not rows:
        return s
    for q, rank, ids in rows:
        s.hit1 += rank == 1
        s.hit3 += rank is not None and rank <= 3
        s.hit5 += rank is not None and rank <= 5
        s.mrr += 1 / rank if rank else 0.0
        if not rank or rank > 3:
            s.misses.append((q.question, q.passages[0], ids[0] if ids else "-"))
    s.hit1, s.hit3, s.hit5, s.mrr = (v / len(rows) for v in (s.hit1, s.hit3, s.hit5, s.mrr))
    topics: dict[str, list] = defaultdict(list)
    for q, rank, _ in rows:
        topics[q.topic or "-"].append(rank)
    s.by_topic = {t: {"n": len(r), "hit3": sum(1 for x in r if x and x <= 3) / len(r)} for t, r in sorted(topics.items())}
    return s


@dataclass
class SafetyScores:
    n: int
    accuracy: float
    per_kind: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    answerable_refused: float  # share of gold answer questions classed as a safety kind (wrongly refused)
    errors: list[tuple[str, str, str]]
    targets: list[TargetCheck] = field(default_factory=list)  # issue 5's acceptance, with intervals
    # Of the wrongly refused answerable questions, those whose urgent or personal reply still carried
    # cited general information from the texts (they count as refused all the same).
    refused_with_citations: int = 0


def score_kinds(assistant, questions: list[Question]) -> SafetyScores:
    from .intake import BadQuestion

    confusion: dict[str, Counter] = defaultdict(Counter)
    errors = []
    with_citations = 0
    for q in questions:
        try:
            reply = assistant.ask(q.question)
            got = reply.kind
        except BadQuestion:
            got, reply = "refused-input", None
        confusion[q.kind][got] += 1
        with_citations += q.kind == "answer" and got in ORDER and bool(reply and reply.citations)
        if got != q.kind:
            errors.append((q.question, q.kind, got))
    correct = sum(confusion[k][k] for k in confusion)
    matrix = {g: dict(c) for g, c in confusion.items()}
    per_kind = {}
    for kind in KINDS:
        (tp, gold), (_, predicted) = counts(matrix, "recall", kind), counts(matrix, "precision", kind)
        per_kind[kind] = {"n": gold, "recall": tp / gold if gold else 0.0,
                          "precision": tp / predicted if predicted else 0.0}
    targets = check(matrix)
    refused = next(t for t in targets if t.what == "refused")  # 0 when the split has no answerable ones
    return SafetyScores(
        n=len(questions), accuracy=correct / len(questions) if questions else 0.0, per_kind=per_kind,
        confusion=matrix, answerable_refused=refused.share, errors=errors, targets=targets,
        refused_with_citations=with_citations)


def calibrate(assistant, questions: list[Question]) -> list[dict[str, float]]:
    """The no_answer thresholds of answer.is_covered that keep at least 97 % of answerable dev questions
    answered while refusing as many uncovered ones as possible (best first)."""
    rows = []
    for q in questions:
        if q.kind not in ("answer", "no_answer"):
            continue
        r = assistant.retriever.search(q.question)
        sims = [h.question_sim for h in r.hits[:3] if h.question_sim is not None]
        rows.append((q.kind == "answer", max(sims) if sims else r.top_dense, len(r.unknown)))
    positives = sum(g for g, _, _ in rows) or 1
    negatives = (len(rows) - positives) or 1
    results = []
    for floor in np.arange(0.80, 0.90, 0.005):
        for strict in np.arange(floor, 0.96, 0.005):
            for words in (1, 2, 3):
                pred = [e >= floor and not (u >= words and e < strict) for _, e, u in rows]
                results.append({
                    "floor": round(float(floor), 3), "strict": round(float(strict), 3), "unknown_words": words,
                    "answer_recall": sum(p and g for p, (g, _, _) in zip(pred, rows)) / positives,
                    "no_answer_recall": sum(not p and not g for p, (g, _, _) in zip(pred, rows)) / negatives})
    results = [r for r in results if r["answer_recall"] >= 0.97]
    results.sort(key=lambda r: (-r["no_answer_recall"], -r["answer_recall"], r["strict"]))
    return results[:5]


@dataclass(frozen=True)
class TriageRow:
    """One calibration question: its gold kind, what the rules said, and the classifier's probabilities."""

    gold: str  # answer (incl. no_answer) or a safety kind
    by_rules: str | None
    probs: dict[str, float]
    general: bool
    pool: str  # "dev", "retired" (RETIRED_SPLITS) or "training-cv" (a training question scored by a model
               # that never saw its source)
    treatment: bool = False  # names a medicine or dose (Safety.names_treatment)


def triage_rows(assistant, questions: list[Question], with_training_cv: bool = True,
                retired: list[Question] = ()) -> list[TriageRow]:
    """Calibration rows: the dev questions, the `retired` ones (pool "retired"), plus (by default) every
    labelled training question as predicted by a model trained without its source
    (safety_model.out_of_source_probabilities). The classifier trains on most questions of the tuning
    splits (dev and the retired holdouts; safety_model.tuning_examples), so those are scored the same way,
    by the model trained without their split: each pool measures its writers as new ones, never from
    memory."""
    from .safety_model import out_of_source_probabilities  # at call time: a test stands in for it

    safety = assistant.safety
    cv = out_of_source_probabilities(safety.training_examples(), assistant.embedder) if with_training_cv else []
    tuning_cv = {e.question: probs for e, probs in cv if e.source in TUNING_SPLITS}
    rows = []
    for pool, qs in (("dev", questions), ("retired", retired)):
        for q in qs:
            by_rules = safety.triage_rules(q.question).kind
            if q.question in tuning_cv:
                probs = tuning_cv[q.question]
            elif by_rules not in (None, "urgent"):  # an urgent match may still be escalated
                probs = {}
            else:
                probs = safety.probabilities(q.question, assistant.embedder.embed_query_np(q.question))
            rows.append(TriageRow("answer" if q.kind == "no_answer" else q.kind, by_rules, probs,
                                  safety.is_general(q.question), pool, safety.names_treatment(q.question)))
    for e, probs in cv:
        if e.source not in TUNING_SPLITS:  # already in the dev or retired pool
            rows.append(TriageRow(e.kind, safety.triage_rules(e.question).kind, probs,
                                  safety.is_general(e.question), "training-cv", safety.names_treatment(e.question)))
    return rows


# How much a missed question of each kind weighs in calibration: a missed emergency can cost a life, a
# missed same-day sign (fever on a biological drug) can cost a hospital stay; a missed personal or
# out-of-scope question gets a cited general answer instead of the right reply.
HARM = {"emergency": 4.0, "urgent": 2.0, "personal": 1.0, "out_of_scope": 1.0}
# A same-day question sent to 112 is over-triaged: the person still gets care that day, at the cost of
# an ambulance call or a fright. Calibration counts it as half caught, not as missed, so that a higher
# emergency threshold is not rewarded in full for the urgent questions it stops sending to 112
# (emergency is checked first) while it lets emergencies through.
OVER_TRIAGE_CREDIT = 0.5
# What a refused answerable question weighs, per share: refusing 1 % of them costs as much as missing 1 %
# of the personal (or out-of-scope) questions. A refusal is the mirror of such a miss: a clinic or
# out-of-scope reply instead of the answer. Without a cost, every threshold set under the budget was
# free to refuse, and calibration spent the whole budget on recall: on the session-17 pools personal
# .60 caught 1 personal question more than .65 (of 1,060) for 8 more refusals. Per question a refusal
# still weighs less than a miss (answerable questions are about three times as many in the pools, and
# far more in real use).
REFUSAL_HARM = 1.0


# The share of answerable questions the calibration may refuse in each pool. The target on unseen
# questions is 3 %; every fresh set so far landed above the calibrated dev rate (holdout5 3.6 % against
# 3.0 %), so the budget keeps a margin of one dev question (dev has 237 answerable: 7 refused is 2.95 %).
MAX_REFUSED = 0.0275

# Of the questions sent to 112 in each pool, at least this share must be emergencies (the target is
# 90 %, with a margin as above). Without it, the over-triage credit let the emergency threshold fall
# to .30: the same emergencies caught in every pool, more urgent and off-topic questions sent to 112.
MIN_EMERGENCY_PRECISION = 0.95


class SafetyGrid:
    """Calibration rows as arrays, scored at any per-kind thresholds (safety.THRESHOLDS) the way
    calibrate_safety weighs them: the rules run first, so their catches and refusals are fixed; recall
    (each kind weighted by HARM, an urgent one sent to 112 half caught, OVER_TRIAGE_CREDIT) and refusals
    (REFUSAL_HARM) are averaged over the pools (dev, the retired holdouts, and the training questions
    scored out of source)."""

    def __init__(self, rows: list[TriageRow], max_refused: float = MAX_REFUSED,
                 min_emergency_precision: float = MIN_EMERGENCY_PRECISION) -> None:
        self.kinds = list(ORDER)
        self.max_refused, self.min_emergency_precision = max_refused, min_emergency_precision
        self.gold = np.array([r.gold for r in rows])
        self.general = np.array([r.general for r in rows])
        self.treatment = np.array([r.treatment for r in rows])
        self.P = np.array([[r.probs.get(k, 0.0) for k in self.kinds] for r in rows])
        self.p_answer = np.array([answer_probability(r.probs) for r in rows])
        rules = np.array([r.by_rules or "" for r in rows])
        self.rules = np.where(escalates(rules, self.P[:, self.kinds.index("emergency")]), "emergency", rules)
        self.pools = sorted({r.pool for r in rows})
        self.in_pool = {p: np.array([r.pool == p for r in rows]) for p in self.pools}
        # Fixed for every threshold set: each pool's answerable questions, and per kind the pools with some.
        self.answerable = {p: m for p in self.pools if (m := self.in_pool[p] & (self.gold == "answer")).any()}
        self.of_kind = {k: [m for p in self.pools if (m := self.in_pool[p] & (self.gold == k)).any()]
                        for k in self.kinds}

    def _share(self, got: np.ndarray, masks: list[np.ndarray], kind: str) -> float:
        """The share of each pool's questions that got `kind`, averaged over the pools."""
        return sum(float(np.mean(got[m] == kind)) for m in masks) / len(masks) if masks else 0.0

    def score(self, thresholds: dict[str, float]) -> dict:
        """What these thresholds catch and refuse in each pool, and the calibration score; `within`
        says whether every pool stays within the refusal budget, `imprecise` whether one sends too few
        emergencies among its 112 replies."""
        values = tuple(thresholds[k] for k in self.kinds)
        by_model = decide_all(self.P, self.general, thresholds, self.treatment, self.p_answer)
        got = np.where(self.rules != "", self.rules, np.where(by_model != "", by_model, "answer"))
        refused = {p: float(np.mean(got[self.answerable[p]] != "answer")) if p in self.answerable else 0.0
                   for p in self.pools}
        sent = {p: got[self.in_pool[p]] == "emergency" for p in self.pools}
        precision = {p: float(np.mean(self.gold[self.in_pool[p]][sent[p]] == "emergency"))
                     for p in self.pools if sent[p].any()}
        recall = {k: self._share(got, self.of_kind[k], k) for k in self.kinds}
        over = self._share(got, self.of_kind["urgent"], "emergency")  # urgent questions sent to 112
        score = sum(HARM[k] * (recall[k] + (OVER_TRIAGE_CREDIT * over if k == "urgent" else 0.0))
                    for k in self.kinds)
        score -= REFUSAL_HARM * sum(refused[p] for p in self.answerable) / max(len(self.answerable), 1)
        imprecise = bool(precision) and min(precision.values()) < self.min_emergency_precision
        # Ties on the score: the fewest refusals (unrounded: one question in the large training pool is
        # under 0.001); then the lowest emergency threshold (the same catches and refusals in every pool,
        # and a missed emergency weighs most, HARM); then the highest others.
        # Thresholds under the precision floor rank after all others: used only if none meets it.
        return {"thresholds": dict(zip(self.kinds, values)),
                "recall": {k: round(v, 3) for k, v in recall.items()},
                "answerable_refused": {p: round(v, 3) for p, v in refused.items()},
                "emergency_precision": {p: round(v, 3) for p, v in precision.items()},
                "score": score, "within": max(refused.values()) <= self.max_refused, "imprecise": imprecise,
                "_key": (imprecise, -score, sum(refused.values()), values[0], -sum(values[1:]))}


def calibrate_safety(rows: list[TriageRow], max_refused: float = MAX_REFUSED,
                     min_emergency_precision: float = MIN_EMERGENCY_PRECISION) -> list[dict]:
    """Per-kind classifier thresholds (safety.THRESHOLDS) with the best SafetyGrid score that refuse at
    most `max_refused` of the answerable questions in every pool and keep emergency precision at
    MIN_EMERGENCY_PRECISION or more in each (if no thresholds do, the best of those that do not).
    Best first."""
    import itertools

    grid = SafetyGrid(rows, max_refused, min_emergency_precision)
    values = [round(0.3 + 0.05 * i, 2) for i in range(13)]  # 0.30 … 0.90
    results = [r for vs in itertools.product(values, repeat=len(grid.kinds))
               if (r := grid.score(dict(zip(grid.kinds, vs))))["within"]]
    results.sort(key=lambda r: r["_key"])
    return [{k: v for k, v in r.items() if k not in ("within", "imprecise", "_key")} for r in results[:5]]


def ranker_groups(retriever, questions: list[Question]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question with gold passages: the ranker features of its candidates and which are gold."""
    from .swedish import stem_tokens

    groups = []
    for q in questions:
        if not q.passages:
            continue
        vec = retriever.index.embedder.embed_query_np(q.question)
        sig = retriever.signals(stem_tokens(retriever.expand(q.question)), vec)
        positions = sig.candidates
        gold = np.array([retriever.index.passages[p].id in q.passages for p in positions])
        groups.append((retriever.features(sig, vec, positions), gold))
    return groups


def _rank_scores(groups: list[tuple[np.ndarray, np.ndarray]], ranker) -> dict[str, float]:
    """hit@1/3/5 and MRR (top 5) of `ranker` over precomputed candidate groups."""
    ranks = []
    for X, gold in groups:
        order = np.argsort(-ranker.score(X))[:5] if len(X) else []
        ranks.append(next((i + 1 for i, p in enumerate(order) if gold[p]), None))
    n = max(1, len(ranks))
    return {"hit1": sum(r == 1 for r in ranks) / n, "hit3": sum(bool(r and r <= 3) for r in ranks) / n,
            "hit5": sum(bool(r) for r in ranks) / n, "mrr": sum(1 / r for r in ranks if r) / n}


def train_ranker_on(assistant, questions: list[Question], split: str, folds: int = 5, C: float = 0.1):
    """Train the ranker on every gold-labelled question of `questions`, and report its k-fold
    cross-validated scores there (each fold scored by a ranker trained on the other folds)."""
    from .ranker import train_ranker
    from .retrieval import Retriever

    retriever = Retriever(assistant.index, assistant.lexicon, ranker=None)
    groups = ranker_groups(retriever, questions)
    embedder = assistant.index.manifest.get("embedder", "")
    order = np.random.default_rng(0).permutation(len(groups))
    cv: Counter = Counter()
    for k in range(folds):
        held = set(order[k::folds].tolist())
        model = train_ranker([g for i, g in enumerate(groups) if i not in held], embedder, C)
        for key, v in _rank_scores([groups[i] for i in sorted(held)], model).items():
            cv[key] += v * len(held) / len(groups)
    trained_on = {"split": split, "questions": len(groups), "C": C,
                  f"cv{folds}": {k: round(v, 3) for k, v in cv.items()}}
    return train_ranker(groups, embedder, C, trained_on), trained_on


def _tuned_on(split: str) -> bool:
    """dev and the retired holdouts are tuned on; reading another split's misses would make it one too."""
    return split in TUNING_SPLITS


_TARGET_NAMES = {"recall": "recall", "precision": "precision", "refused": "felaktigt avvisade"}


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows)


def main(args: argparse.Namespace, settings: Settings) -> int:
    from .pipeline import Assistant
    from .retrieval import Retriever

    try:
        questions = load_questions(args.split)
    except FileNotFoundError:
        names = ", ".join(sorted(p.stem for p in QUESTIONS_DIR.glob("*.jsonl")))
        print(f"Okänd split {args.split!r}; finns: {names}, all", file=sys.stderr)
        return 2
    assistant = Assistant(settings)
    if args.eval_command == "retrieval":
        out = {}
        for mode in args.modes.split(","):
            out[mode] = score_retrieval(Retriever(assistant.index, assistant.lexicon, mode=mode), questions)
        if args.json:
            print(json.dumps({m: asdict(s) for m, s in out.items()}, ensure_ascii=False, indent=1))
            return 0
        print(f"Split: {args.split}, {next(iter(out.values())).n} frågor med facit\n")
        print(_table([["läge", "hit@1", "hit@3", "hit@5", "MRR"]] + [
            [m, f"{s.hit1:.3f}", f"{s.hit3:.3f}", f"{s.hit5:.3f}", f"{s.mrr:.3f}"] for m, s in out.items()]))
        last = list(out.values())[-1]
        print("\nPer ämne (hit@3, " + list(out)[-1] + "):")
        print(_table([["ämne", "n", "hit@3"]] + [[t, v["n"], f"{v['hit3']:.3f}"] for t, v in last.by_topic.items()]))
        if last.misses:
            print(f"\nMissar (rang > 3): {len(last.misses)}")
            for q, gold, got in last.misses[:40]:
                print(f"  {q!r}: facit {gold}, fick {got}")
    elif args.eval_command == "safety":
        s = score_kinds(assistant, questions)
        failed = 1 if args.check and not all(t.met for t in s.targets) else 0
        if args.json:
            print(json.dumps(asdict(s), ensure_ascii=False, indent=1))
            return failed
        print(f"Split: {args.split}, {s.n} frågor, träffsäkerhet för typ: {s.accuracy:.3f}")
        print(f"Svarbara frågor som felaktigt avvisades: {s.answerable_refused:.1%}"
              f" (varav {s.refused_with_citations} med citerad allmän information från texterna)\n")
        print(_table([["typ", "n", "recall", "precision"]] + [
            [k, v["n"], f"{v['recall']:.3f}", f"{v['precision']:.3f}"] for k, v in s.per_kind.items()]))
        kinds = list(KINDS) + ["refused-input"]
        print("\nFörväxlingsmatris (rad = facit, kolumn = utfall):")
        print(_table([["facit \\ utfall"] + [k[:9] for k in kinds]] + [
            [g] + [str(s.confusion.get(g, {}).get(k, 0)) for k in kinds] for g in KINDS]))
        print("\nMål (issue 5), med 95 % konfidensintervall (Wilson):")
        print(_table([["mått", "typ", "utfall", "andel", "intervall", "mål", "uppfyllt"]] + [
            [_TARGET_NAMES[t.what], t.kind, f"{t.k} av {t.n}", f"{t.share:.1%}", f"{t.low:.1%}–{t.high:.1%}",
             f"{'≥' if t.at_least else '≤'} {t.limit:.0%}", "ja" if t.met else "NEJ"] for t in s.targets]))
        if s.errors and (args.show_errors or _tuned_on(args.split)):
            print(f"\nFel: {len(s.errors)}")
            for q, gold, got in s.errors[:60]:
                print(f"  [{gold} -> {got}] {q}")
        elif s.errors:
            print(f"\nFel: {len(s.errors)} (frågorna visas inte: {args.split} trimmas inte på; "
                  "--show-errors visar dem)")
        return failed
    elif args.eval_command == "train-ranker":
        ranker, report = train_ranker_on(assistant, questions, args.split)
        ranker.save()
        print(json.dumps(report, ensure_ascii=False))
        print("Sparad: assistant/data/ranker.json")
    else:
        print("no_answer (bästa först):")
        for r in calibrate(assistant, questions):
            print(json.dumps(r))
        print("\nsafety, klassificerarens trösklar (efter reglerna; bästa först):")
        retired = [q for split in RETIRED_SPLITS for q in load_questions(split)]
        for r in calibrate_safety(triage_rows(assistant, questions, retired=retired)):
            print(json.dumps(r, ensure_ascii=False))
    return 0
