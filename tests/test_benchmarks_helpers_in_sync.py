"""The benchmark helpers copied into every script stay identical to tfcourse/canonical_helpers.py.

Each benchmark script carries its own copy of print_activations,
time_tensorflow_run, conv_op, ... so that it reads top to bottom on its own.
This test finds every top-level ``def`` named like one of the book's helpers
(print_activations, time_tensorflow_run, conv_op, fc_op, mpool_op,
average_gradients) in any .py file of the repository (outside tfcourse/ and
tests/), plus every other canonical helper in the files that carry a
time_tensorflow_run (the benchmark scripts; names such as count_parameters
are too common to claim repository-wide), and fails if its text differs from
the canonical one, so the copies never drift apart.
"""
import ast
import difflib
import os

import pytest

from tfcourse import REPO_ROOT

CANONICAL = os.path.join(REPO_ROOT, 'tfcourse', 'canonical_helpers.py')
SKIP_DIRS = {'tfcourse', 'tests', 'data', '.git', 'build', 'dist', '__pycache__'}
BENCHMARKS = ['alexnet/benchmark.py', 'vggnet/benchmark.py', 'googlenet/benchmark.py',
              'resnet/benchmark.py']


def top_level_defs(path):
    with open(path, encoding='utf-8') as f:
        source = f.read()
    tree = ast.parse(source, filename=path)
    return {node.name: ast.get_source_segment(source, node)
            for node in tree.body if isinstance(node, ast.FunctionDef)}


CANONICAL_DEFS = top_level_defs(CANONICAL)
BOOK_HELPERS = {'print_activations', 'time_tensorflow_run', 'conv_op', 'fc_op', 'mpool_op',
                'average_gradients'}


def repo_python_files():
    for root, dirs, files in os.walk(REPO_ROOT):
        rel = os.path.relpath(root, REPO_ROOT)
        top = rel.split(os.sep)[0]
        dirs[:] = [d for d in dirs if not d.startswith('.') and d not in SKIP_DIRS
                   and not d.endswith('.egg-info')]
        if top in SKIP_DIRS:
            continue
        for name in files:
            if name.endswith('.py'):
                yield os.path.join(root, name)


def copies():
    found = []
    for path in repo_python_files():
        defs = top_level_defs(path)
        claimed = CANONICAL_DEFS if 'time_tensorflow_run' in defs else BOOK_HELPERS
        for name, text in defs.items():
            if name in claimed:
                found.append((os.path.relpath(path, REPO_ROOT), name, text))
    return found


def test_canonical_helpers_are_documented():
    assert set(CANONICAL_DEFS) >= BOOK_HELPERS
    assert len(copies()) >= 4 * len(CANONICAL_DEFS) - 3 * 3  # conv_op/fc_op/mpool_op: VGG only


def test_every_benchmark_has_its_own_copies():
    for relpath in BENCHMARKS:
        defs = top_level_defs(os.path.join(REPO_ROOT, relpath))
        for name in ('print_activations', 'time_tensorflow_run', 'average_gradients'):
            assert name in defs, '%s has no copy of %s' % (relpath, name)
    assert {'conv_op', 'fc_op', 'mpool_op'} <= set(
        top_level_defs(os.path.join(REPO_ROOT, 'vggnet/benchmark.py')))


@pytest.mark.parametrize('relpath, name, text', copies(),
                         ids=lambda v: v if isinstance(v, str) and '\n' not in v else '')
def test_copy_matches_canonical(relpath, name, text):
    canonical = CANONICAL_DEFS[name]
    if text != canonical:
        diff = '\n'.join(difflib.unified_diff(canonical.splitlines(), text.splitlines(),
                                              'tfcourse/canonical_helpers.py', relpath,
                                              lineterm=''))
        pytest.fail('%s: %s differs from tfcourse/canonical_helpers.py (edit the canonical '
                    'text and paste it into every copy):\n%s' % (relpath, name, diff))
