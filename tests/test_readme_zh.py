"""README.md and README.zh-CN.md cannot drift apart: the same generated table, the same commands,
links to each other, a chapter map whose scripts exist, a Chinese line atop each folder README.

Plain text checks: no TensorFlow, no import of the scripts (the markers and the README list are
read from setup/reproduce.py's source)."""
import ast
import os
import re

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EN, ZH = 'README.md', 'README.zh-CN.md'
MAP_HEADINGS = {EN: '## Chapter map', ZH: '## 章节对照'}
FOLDER_READMES = ['alexnet/README.md', 'lstm_ptb/README.md', 'mnist_cnn/README.md',
                  'apps/README.md']
CJK = re.compile('[\u4e00-\u9fff]')
#: the README's install and run commands, in a fresh virtualenv inside the checkout
INSTALL = ('python3 -m venv .venv && . .venv/bin/activate\npip install -r requirements.txt\n'
           'python alexnet/benchmark.py\n')


def reproduce_constants():
    """BEGIN, END and README_FILES as setup/reproduce.py defines them."""
    with open(os.path.join(REPO_ROOT, 'setup', 'reproduce.py'), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], 'id', None)
            if name in ('BEGIN', 'END', 'README_FILES'):
                found[name] = ast.literal_eval(node.value)
    return found


def read(name):
    with open(os.path.join(REPO_ROOT, name), encoding='utf-8') as f:
        return f.read()


def table(text, begin, end):
    assert text.count(begin) == 1 and text.count(end) == 1, 'one pair of table markers'
    return text.split(begin, 1)[1].split(end, 1)[0]


def code_blocks(text, lang=None):
    """The fenced code blocks (optionally only ```lang ones), as text."""
    blocks = re.findall(r'^```(\w*)\n(.*?)^```', text, flags=re.S | re.M)
    return [body for kind, body in blocks if lang is None or kind == lang]


def chapter_map(text, heading):
    assert heading in text, 'no section %r' % heading
    section = text.split(heading, 1)[1]
    return section.split('\n## ', 1)[0]


def map_rows(section):
    """The chapter map's table rows, as lists of cells (header and rule left out)."""
    rows = [line for line in section.splitlines() if line.startswith('|')]
    return [[c.strip() for c in row.strip('|').split(' | ')] for row in rows[2:]]


def map_commands(section):
    """Every `python ...` inline command of the map, in order."""
    return [c for c in re.findall(r'`([^`]+)`', section) if c.startswith(('python ', 'pip '))]


def test_readme_list_and_markers_cover_both_files():
    consts = reproduce_constants()
    assert consts['README_FILES'] == [EN, ZH]
    for name in (EN, ZH):
        text = read(name)
        assert consts['BEGIN'] in text and consts['END'] in text, name


def test_both_readmes_hold_the_same_generated_table():
    consts = reproduce_constants()
    en = table(read(EN), consts['BEGIN'], consts['END'])
    zh = table(read(ZH), consts['BEGIN'], consts['END'])
    assert en.count('\n|') > 10, 'the table is empty: run python setup/reproduce.py --readme'
    assert en == zh, 'the tables differ: run python setup/reproduce.py --readme'


def test_both_readmes_hold_the_same_install_run_and_test_commands():
    en, zh = read(EN), read(ZH)
    en_bash, zh_bash = code_blocks(en, 'bash'), code_blocks(zh, 'bash')
    assert en_bash[:2] == [INSTALL, 'python -m pytest tests\n']
    assert en_bash == zh_bash

    def commands(text):
        return [line.strip() for block in code_blocks(text) for line in block.splitlines()
                if line.strip().startswith(('python ', 'pip '))]
    assert commands(en) == commands(zh)


def test_ci_installs_and_tests_as_the_readme_says():
    """.ci/run makes a fresh virtualenv, installs requirements.txt into it and runs the README's
    test command with that virtualenv's interpreter."""
    ci = read(os.path.join('.ci', 'run'))
    assert re.search(r'-m venv "\$VENV"', ci), 'no fresh virtualenv'
    assert '"$PY" -m pip install -q -r requirements.txt' in ci
    assert '"$PY" -m pytest tests' in ci
    assert 'PY="$VENV/bin/python"' in ci


def test_each_readme_links_the_other_at_its_top():
    for name, other in ((EN, ZH), (ZH, EN)):
        top = read(name).splitlines()[:5]
        assert any('](%s)' % other in line for line in top), '%s: no link to %s' % (name, other)


@pytest.mark.parametrize('name', [EN, ZH])
def test_chapter_map_commands_run_existing_scripts(name):
    section = chapter_map(read(name), MAP_HEADINGS[name])
    commands = map_commands(section)
    assert len(commands) >= 20
    scripts = [s for c in commands for s in re.findall(r'(?:^|&& )python (\S+)', c)]
    assert len(scripts) >= len(commands)
    missing = [s for s in scripts if not os.path.isfile(os.path.join(REPO_ROOT, s))]
    assert not missing, 'chapter map of %s runs scripts that do not exist: %s' % (name, missing)
    for row in map_rows(section):
        assert len(row) == 5, row
        script = re.findall(r'`([^`]+\.py)`', row[1])[0]
        assert os.path.isfile(os.path.join(REPO_ROOT, script)), script
        # "ours" points at the generated results table; a typed figure would drift from it.
        assert not re.search(r'\d', row[4]), 'a hand-typed figure in the map: %r' % row[4]


def test_both_chapter_maps_give_the_same_commands_and_scripts():
    en = chapter_map(read(EN), MAP_HEADINGS[EN])
    zh = chapter_map(read(ZH), MAP_HEADINGS[ZH])
    assert map_commands(en) == map_commands(zh)
    assert [row[1] for row in map_rows(en)] == [row[1].replace('、', ', ') for row in map_rows(zh)]


@pytest.mark.parametrize('name', FOLDER_READMES)
def test_folder_readmes_open_with_a_chinese_line(name):
    head = read(name).splitlines()[:3]
    assert head[0].startswith('# ')
    assert any(CJK.search(line) for line in head), '%s: no Chinese summary at its top' % name
