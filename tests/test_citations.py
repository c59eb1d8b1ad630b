"""Every citation of the documents points where the text is, and every cited figure is there.

The five documents lie beside the repository, in ``../shared/seeds/`` (found from the
repository root, or from the nearest folder above it that holds ``shared/seeds``); where they
are absent (CI) the tests that read them are skipped.  Plain text checks, no TensorFlow.

A citation, in README.md / README.zh-CN.md:

* ``report §2.3`` / ``报告 §2.3``: a numbered heading (or, for §1.1-1.3, a numbered line) of
  the course report ``000_*``;
* ``blog part 9`` / ``博客第 9 篇``: the part titled 机器学习进阶笔记之九 in the blog ``001_*``;
* ``PKU lecture`` / ``北大课程讲义`` (``002_*``), ``report 003`` / ``报告 003`` (``003_*``),
  ``weekly notes`` / ``周报`` (``004_*``);
* ``the book, ch. 6`` / ``书第 6 章``: 《TensorFlow实战》, not among the documents (only kept
  in step between the two READMEs).
"""
import glob
import os
import re

import pytest

from tfcourse import REPO_ROOT
from scripts_table import SCRIPTS, SOURCES, TOLERANCES

EN, ZH = 'README.md', 'README.zh-CN.md'
MAP_HEADINGS = {EN: '## Chapter map', ZH: '## 章节对照'}
FOLDER_READMES = ['alexnet/README.md', 'lstm_ptb/README.md', 'mnist_cnn/README.md',
                  'apps/README.md']
CN_NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一']

#: (pattern, kind): a citation in either README; kind + the matched number is its key
CITATIONS = [
    (r'(?:report|报告) (§\d+(?:\.\d+)*)', 'report'),
    (r'(?:^|[^\w§])(§\d+(?:\.\d+)*)', 'report'),        # "§2.4" after "report §2.3, "
    (r'blog part (\d+)|博客第 (\d+) 篇', 'blog'),
    (r'PKU lecture|北大课程讲义', 'pku'),
    (r'report 003|报告 003', 'r003'),
    (r'weekly notes|周报', 'weekly'),
    (r'the book, ch\. (\d+)|书第 (\d+) 章', 'book'),
]
#: the spellings of today's maps before the sections were checked: book chapters given as
#: the report's
STALE = re.compile(r'report ch(?:apter|\.) ?\d|报告第 ?\d+(?:\.\d+)? ?[章节]')


def find_seeds():
    here = REPO_ROOT
    candidates = [os.path.join(os.path.dirname(here), 'shared', 'seeds')]
    while os.path.dirname(here) != here:
        here = os.path.dirname(here)
        candidates.append(os.path.join(here, 'shared', 'seeds'))
    for folder in candidates:
        if glob.glob(os.path.join(folder, '000_*.txt')):
            return folder
    return None


SEEDS = find_seeds()
needs_seeds = pytest.mark.skipif(SEEDS is None, reason='the documents (../shared/seeds/) are '
                                 'not beside this checkout, as in CI')


def read(name):
    with open(os.path.join(REPO_ROOT, name), encoding='utf-8') as f:
        return f.read()


def seed(prefix):
    path, = glob.glob(os.path.join(SEEDS, prefix + '_*.txt'))
    with open(path, encoding='utf-8') as f:
        return f.read()


# ---------------------------------------------------------------- the documents' structure

def report_sections():
    """{'2.3': text of report §2.3 with its subsections}: numbered markdown headings, and the
    numbered lines of §1 ('1.3 应用'), outside code blocks."""
    lines = seed('000').splitlines()
    starts, fenced = [], False
    for i, line in enumerate(lines):
        if line.startswith('```'):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = re.match(r'#+\s*(\d+(?:\.\d+)*)\.?\s', line) or re.match(r'(\d+\.\d+) \S', line)
        if m:
            starts.append((i, m.group(1)))
    sections = {}
    for n, (i, number) in enumerate(starts):
        key = tuple(int(x) for x in number.split('.'))
        end = len(lines)
        for j, other in starts[n + 1:]:
            other_key = tuple(int(x) for x in other.split('.'))
            # the next section that is neither inside this one nor a misnumbered
            # earlier one (§2.7 has a subsection headed "2.6.2")
            if other_key[:len(key)] != key and other_key > key:
                end = j
                break
        sections.setdefault(number, '\n'.join(lines[i:end]))
    return sections


def blog_parts():
    """{9: text of blog part 9 followed by the file's picture text}.  A part starts at its
    title line followed by its 来源 line (part 1: the first line); part 4 has no title of its
    own in the text (only in the reading lists), so it stays inside part 3.  The pictures'
    text (OCR, after the last part's last 以上。) cannot be told apart by part, so it is
    searched with every part."""
    text = seed('001')
    lines = text.splitlines()
    starts = {}
    for i, line in enumerate(lines):
        m = re.match(r'\s*机器学习进阶笔记之(\S+) \|', line)
        if not m or m.group(1) not in CN_NUMERALS:
            continue
        following = [x for x in lines[i + 1:i + 4] if x.strip()]
        if i == 0 or (following and following[0].startswith('来源')):
            starts[CN_NUMERALS.index(m.group(1)) + 1] = i
    appendix = text[text.rindex('以上。'):]
    order = sorted(starts.items(), key=lambda kv: kv[1])
    parts = {}
    for n, (part, i) in enumerate(order):
        end = order[n + 1][1] if n + 1 < len(order) else len(lines)
        parts[part] = '\n'.join(lines[i:end]) + '\n' + appendix
    return parts, text


def cited_text(kind, number):
    """The text a citation points at, or None where it points at nothing."""
    if kind == 'report':
        return report_sections().get(number.lstrip('§'))
    if kind == 'blog':
        part = int(number)
        parts, whole = blog_parts()
        if part in parts:
            return parts[part]
        title = '机器学习进阶笔记之%s |' % CN_NUMERALS[part - 1] if part <= 11 else None
        return whole if title and title in whole else None
    return {'pku': lambda: seed('002'), 'r003': lambda: seed('003'),
            'weekly': lambda: seed('004'), 'book': lambda: ''}[kind]()


# ---------------------------------------------------------------- the READMEs' citations

def citations(cell):
    """The citations of a README cell in order, as (kind, number) keys, EN and ZH alike."""
    found = []
    for pattern, kind in CITATIONS:
        for m in re.finditer(pattern, cell):
            number = next((g for g in m.groups() if g), '') if m.groups() else ''
            found.append((m.start(), (kind, number)))
    keys, seen = [], set()
    for _, key in sorted(found):
        if key not in seen:  # "report §2.3" is matched by both report patterns
            seen.add(key)
            keys.append(key)
    return keys


def chapter_map(name):
    section = read(name).split(MAP_HEADINGS[name], 1)[1].split('\n## ', 1)[0]
    rows = [line for line in section.splitlines() if line.startswith('|')][2:]
    return [[c.strip() for c in row.strip('|').split(' | ')] for row in rows]


def figures(cell):
    """The numbers of a 'document's figure' cell that are figures: with a decimal point or at
    least three digits, not part of a word or a citation (HWDB1.1, §2.3, 20w); with '%' when
    the text gives it in per cent."""
    cell = re.sub(r'§\d+(?:\.\d+)*', '', cell)
    found = []
    for m in re.finditer(r'(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])(\s*%)?', cell):
        number = m.group(1)
        if '.' in number or len(number) >= 3:
            found.append((number, bool(m.group(2))))
    return found


def in_text(number, percent, text):
    """``number`` as the text writes it: 99.27 as '99.27', 92.06 % also as '0.9206', 120.36
    inside '120.362'."""
    if re.search(r'(?<![\d.])%s' % re.escape(number), text):
        return True
    if percent:
        fraction = ('%.6f' % (float(number) / 100)).rstrip('0')
        return re.search(r'(?<![\d.])%s' % re.escape(fraction), text) is not None
    return False


@pytest.mark.parametrize('name', [EN, ZH])
def test_every_map_row_cites_a_document_section(name):
    """Every row names where it comes from; no book chapter is passed off as the report's."""
    for row in chapter_map(name):
        assert citations(row[0]) and citations(row[0])[0][0] != 'book', (
            '%s: the chapter map row %r cites no document' % (name, row[0]))
        assert not STALE.search(' '.join(row)), (
            '%s: %r names the report by the book\'s chapters: cite the report\'s section '
            '(report §2.2) and the book as "the book, ch. 5"' % (name, row[0]))


def test_both_maps_carry_the_same_citations():
    en, zh = chapter_map(EN), chapter_map(ZH)
    assert len(en) == len(zh)
    for row_en, row_zh in zip(en, zh):
        assert citations(row_en[0]) == citations(row_zh[0]), (row_en[0], row_zh[0])
        assert citations(row_en[3]) == citations(row_zh[3]), (row_en[3], row_zh[3])
        assert sorted(figures(row_en[3])) == sorted(figures(row_zh[3])), (row_en[3],
                                                                          row_zh[3])


@needs_seeds
@pytest.mark.parametrize('name', [EN, ZH])
def test_map_citations_point_at_existing_sections(name):
    for row in chapter_map(name):
        for kind, number in citations(row[0]) + citations(row[3]):
            assert cited_text(kind, number) is not None, (
                '%s: %r cites %s %s, which is not in the document' % (name, row[0], kind, number))


@needs_seeds
@pytest.mark.parametrize('name', [EN, ZH])
def test_map_figures_stand_in_the_cited_text(name):
    """Each figure of the 'document's figure' column is in the sections its row cites."""
    checked = 0
    for row in chapter_map(name):
        cited = [cited_text(*key) for key in citations(row[0]) + citations(row[3])]
        text = '\n'.join(t for t in cited if t)
        for number, percent in figures(row[3]):
            assert in_text(number, percent, text), (
                '%s: %s%s in %r is not in %s' % (name, number, ' %' if percent else '', row[3],
                                                 citations(row[0]) + citations(row[3])))
            checked += 1
    assert checked >= 20


def test_report_figures_of_the_table_name_their_source():
    """Every figure the results table shows in its "report" column has a SOURCES entry."""
    for script in SCRIPTS:
        for figure in script.figures:
            if figure.report is not None:
                assert script.name in SOURCES, '%s: %s has no source' % (script.name,
                                                                         figure.label)
    names = {s.name for s in SCRIPTS}
    assert set(SOURCES) <= names


@needs_seeds
def test_report_figures_of_the_table_stand_in_their_source():
    """99.27 in report §2.2.3, 0.016 in §2.3.3, 114.32 in §2.7.3, 0.9206 in blog part 1 ..."""
    checked = 0
    for script in SCRIPTS:
        for figure in script.figures:
            if figure.report is None or figure.kind == 'ratio':  # ratios: two timings divided
                continue
            (kind, number), = citations(SOURCES[script.name])
            text = cited_text(kind, number)
            assert text is not None, SOURCES[script.name]
            value = figure.report
            forms = ['%g' % value] + (['%g' % round(100 * value, 4)] if figure.unit == '%'
                                      else [])
            assert any(re.search(r'(?<![\d.])%s' % re.escape(f), text) for f in forms), (
                '%s: %s %s is not in %s' % (script.name, figure.label, forms,
                                            SOURCES[script.name]))
            checked += 1
    assert checked >= 12


def test_targets_are_this_projects():
    """A bound no document gives is called this project's; none is the course's or an issue's."""
    for key, (_, reason) in TOLERANCES.items():
        assert not re.search(r"\bissue\b|the course's", reason), (key, reason)
    for script in SCRIPTS:
        for figure in script.figures:
            if 'target' in figure.label:
                assert "this project's target" in figure.label, figure.label
                assert figure.report is None, figure.label


@needs_seeds
@pytest.mark.parametrize('name', [EN, ZH] + FOLDER_READMES)
def test_every_citation_in_the_readmes_exists(name):
    text = read(name)
    assert not STALE.search(text), '%s: %s' % (name, STALE.search(text).group(0))
    for kind, number in citations(text):
        assert cited_text(kind, number) is not None, '%s cites %s %s' % (name, kind, number)


@needs_seeds
def test_every_citation_in_the_scripts_exists():
    """Docstrings and comments of the scripts cite sections that exist too."""
    paths = [p for p in glob.glob(os.path.join(REPO_ROOT, '*', '*.py'))
             + glob.glob(os.path.join(REPO_ROOT, 'apps', '*', '*.py'))
             if os.path.relpath(p, REPO_ROOT).split(os.sep)[0] not in ('tests', 'runs', 'data')]
    assert len(paths) > 30
    for path in paths:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for kind, number in citations(text):
            assert cited_text(kind, number) is not None, '%s cites %s %s' % (path, kind, number)


@needs_seeds
def test_the_checks_read_the_documents_right():
    """The parsing above finds what a reader finds: the report's sections, the blog's parts."""
    sections = report_sections()
    assert {'1.3', '2.1', '2.2', '2.2.3', '2.3', '2.4', '2.5', '2.6', '2.7', '2.7.3'} <= set(
        sections)
    assert '3' not in sections and '5' not in sections and '7.1' not in sections
    assert '99.27%' in sections['2.2.3'] and '114.323' in sections['2.7']
    assert '0.016s' in sections['2.3.3'] and '0.016s' not in sections['2.4']
    parts, _ = blog_parts()
    assert set(parts) == set(range(1, 12)) - {4}
    assert 'Accuracy 0.9206' in parts[1] and 'Accuracy 0.9206' not in parts[2].split('以上。')[0]
    assert '全是1' in parts[9] and 'Wide & Deep In Google Play' in parts[10]
    assert cited_text('blog', '4') is not None and cited_text('blog', '12') is None
    assert cited_text('report', '§3') is None and cited_text('report', '§7.2') is None
