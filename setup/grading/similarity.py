"""Similar submissions, MOSS-style: normalised token k-grams, winnowed fingerprints.

Each graded file is read as Python tokens; names become ``N`` (keywords
stay), strings ``S``, numbers ``0``; comments, blank lines, indentation and
line breaks are dropped, so renaming variables, rewording strings and
reformatting change nothing.  The hashes of every run of K tokens are
winnowed (the smallest hash of every window of W, Schleimer, Wilkerson and
Aiken 2003, the algorithm of MOSS), and the fingerprints of the reference
tree's own files are removed: code every clean copy shares is no evidence.
Two submissions are similar when the fingerprints they share are a large
part of the smaller one's; the shared fingerprints give the line ranges of
the shared regions.  A hint for the grader, never a penalty.
"""
import io
import itertools
import keyword
import os
import tokenize
import zlib

K = 12          # tokens in a k-gram
WINDOW = 8      # k-grams in a winnowing window
THRESHOLD = 0.5  # share of the smaller submission's fingerprints
MIN_SHARED = 6  # fingerprints a pair must share at least


def tokens(text):
    """[(normalised token, line)] of Python source (falls back to words for non-Python)."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, value, line = tok.type, tok.string, tok.start[0]
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if kind == tokenize.NAME:
                value = value if keyword.iskeyword(value) else "N"
            elif kind == tokenize.STRING:
                value = "S"
            elif kind == tokenize.NUMBER:
                value = "0"
            out.append((value, line))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = [("N" if w.isidentifier() else w, i + 1)
               for i, line in enumerate(text.splitlines()) for w in line.split()]
    return out


def fingerprints(text, k=K, window=WINDOW):
    """{hash: [line, ...]} of the winnowed k-grams of ``text``."""
    toks = tokens(text)
    grams = []
    for i in range(len(toks) - k + 1):
        h = zlib.crc32(" ".join(t for t, _ in toks[i:i + k]).encode())
        grams.append((h, toks[i][1], toks[i + k - 1][1]))
    if not grams:
        return {}
    chosen = {}
    for start in range(max(len(grams) - window + 1, 1)):
        win = grams[start:start + window]
        low = min(range(len(win)), key=lambda j: (win[j][0], -j))
        h, first, last = win[low]
        chosen.setdefault(h, set()).update(range(first, last + 1))
    return {h: sorted(lines) for h, lines in chosen.items()}


def submission_prints(tree, files, reference=None):
    """{hash: [(file, line), ...]} of a submission's files, less the reference's hashes."""
    from grader import read_untrusted

    prints = {}
    for rel in files:
        text = read_untrusted(os.path.join(tree, rel))
        if text is None:
            continue
        for h, lines in fingerprints(text).items():
            if reference and h in reference:
                continue
            prints.setdefault(h, []).extend((rel, line) for line in lines)
    return prints


def reference_prints(root, files):
    found = set()
    for rel in files:
        try:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                found |= set(fingerprints(f.read()))
        except OSError:
            continue
    return found


def _ranges(lines):
    out = []
    for line in sorted(set(lines)):
        if out and line - out[-1][1] <= 3:
            out[-1][1] = line
        else:
            out.append([line, line])
    return ["%d-%d" % tuple(r) if r[0] != r[1] else str(r[0]) for r in out]


def regions(a, b, shared):
    """Shared line ranges, file by file: [{a_file, a_lines, b_file, b_lines}]."""
    pairs = {}
    for h in shared:
        files_a = {f for f, _ in a[h]}
        files_b = {f for f, _ in b[h]}
        for fa, fb in itertools.product(sorted(files_a), sorted(files_b)):
            entry = pairs.setdefault((fa, fb), ([], []))
            entry[0].extend(line for f, line in a[h] if f == fa)
            entry[1].extend(line for f, line in b[h] if f == fb)
    out = []
    for (fa, fb), (la, lb) in sorted(pairs.items(), key=lambda kv: -len(kv[1][0])):
        out.append({"a_file": fa, "a_lines": ", ".join(_ranges(la)), "b_file": fb,
                    "b_lines": ", ".join(_ranges(lb)), "fingerprints": len(set(la))})
    return out


def similar_pairs(prints, threshold=THRESHOLD, min_shared=MIN_SHARED):
    """[{a, b, similarity, shared, regions}] of the pairs above ``threshold``, most similar
    first.  ``prints``: {submission id: submission_prints(...)}."""
    found = []
    for a, b in itertools.combinations(sorted(prints), 2):
        pa, pb = prints[a], prints[b]
        if not pa or not pb:
            continue
        shared = set(pa) & set(pb)
        if len(shared) < min_shared:
            continue
        score = len(shared) / float(min(len(pa), len(pb)))
        if score >= threshold:
            found.append({"a": a, "b": b, "similarity": round(score, 3),
                          "shared": len(shared), "regions": regions(pa, pb, shared)})
    return sorted(found, key=lambda p: -p["similarity"])
