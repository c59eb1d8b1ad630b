"""The book helpers copied into every script stay identical to tests/canonical_helpers.py.

Each benchmark script carries its own copy of the book's small helpers
(print_activations, time_tensorflow_run; VGG also conv_op, fc_op, mpool_op)
so that its model reads top to bottom on its own.  This test finds every
top-level ``def`` with one of those five names in any .py file of the
repository (outside tfcourse/ and tests/) and fails if its text differs from
the canonical one, so the copies never drift apart.

The harness plumbing (flags, FLOP counting, towers, JSON record, ...) is
shared instead, in tfcourse/benchmark.py; the last test fails if a script
defines one of those functions again instead of importing it.
"""
import ast
import difflib
import os

import pytest

from tfcourse import REPO_ROOT

CANONICAL = os.path.join(REPO_ROOT, 'tests', 'canonical_helpers.py')
SHARED = os.path.join(REPO_ROOT, 'tfcourse', 'benchmark.py')
SKIP_DIRS = {'tfcourse', 'tests', 'data', '.git', 'build', 'dist', '__pycache__'}
BENCHMARKS = ['alexnet/benchmark.py', 'vggnet/benchmark.py', 'googlenet/benchmark.py',
              'resnet/benchmark.py', 'resnet/benchmark_densenet.py']


def top_level_defs(path):
    with open(path, encoding='utf-8') as f:
        source = f.read()
    tree = ast.parse(source, filename=path)
    return {node.name: ast.get_source_segment(source, node)
            for node in tree.body if isinstance(node, ast.FunctionDef)}


CANONICAL_DEFS = top_level_defs(CANONICAL)
BOOK_HELPERS = {'print_activations', 'time_tensorflow_run', 'conv_op', 'fc_op', 'mpool_op'}
# The harness's public functions: a script calls them, it never defines them again.
HARNESS = {name for name in top_level_defs(SHARED) if not name.startswith('_')}


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
        for name, text in top_level_defs(path).items():
            if name in BOOK_HELPERS:
                found.append((os.path.relpath(path, REPO_ROOT), name, text))
    return found


def test_canonical_helpers_are_documented():
    assert set(CANONICAL_DEFS) == BOOK_HELPERS
    assert len(copies()) >= 5 * 2 + 3  # print_activations, time_tensorflow_run x 5; VGG's 3


def test_every_benchmark_has_its_own_copies():
    for relpath in BENCHMARKS:
        defs = top_level_defs(os.path.join(REPO_ROOT, relpath))
        for name in ('print_activations', 'time_tensorflow_run'):
            assert name in defs, '%s has no copy of %s' % (relpath, name)
    assert {'conv_op', 'fc_op', 'mpool_op'} <= set(
        top_level_defs(os.path.join(REPO_ROOT, 'vggnet/benchmark.py')))


@pytest.mark.parametrize('relpath, name, text', copies(),
                         ids=lambda v: v if isinstance(v, str) and '\n' not in v else '')
def test_copy_matches_canonical(relpath, name, text):
    canonical = CANONICAL_DEFS[name]
    if text != canonical:
        diff = '\n'.join(difflib.unified_diff(canonical.splitlines(), text.splitlines(),
                                              'tests/canonical_helpers.py', relpath,
                                              lineterm=''))
        pytest.fail('%s: %s differs from tests/canonical_helpers.py (edit the canonical '
                    'text and paste it into every copy):\n%s' % (relpath, name, diff))


def test_benchmark_scripts_hold_helpers_model_and_run_benchmark_last():
    """Book helpers first, then the model, then the book's run_benchmark(): the graph, the
    Session and the two visible timing calls; the script's entry point runs it."""
    for relpath in BENCHMARKS:
        path = os.path.join(REPO_ROOT, relpath)
        defs = list(top_level_defs(path))
        helpers = [d for d in defs if d in BOOK_HELPERS]
        assert defs[:len(helpers)] == helpers, '%s: put the book helpers first' % relpath
        assert defs[-1] == 'run_benchmark', relpath
        body = top_level_defs(path)['run_benchmark']
        for needed in ('with tf.Graph().as_default()', 'tf.gradients(', 'bench.session(net)',
                       "time_tensorflow_run(sess, net.forward, 'Forward'",
                       "time_tensorflow_run(sess, net.backward, 'Forward-backward'",
                       'bench.record('):
            assert needed in body.replace('\n', ' ') or needed in body, (relpath, needed)
        with open(path, encoding='utf-8') as f:
            source = f.read()
        assert source.rstrip().endswith("if __name__ == '__main__':\n    cli.run(run_benchmark)"), \
            relpath


def test_harness_is_shared_not_copied():
    assert {'add_benchmark_flags', 'build_only', 'benchmark_record',
            'count_flops', 'estimate_memory', 'check_placement'} <= HARNESS
    assert not HARNESS & set(CANONICAL_DEFS)
    for path in repo_python_files():
        again = HARNESS & set(top_level_defs(path))
        assert not again, ('%s defines %s again; import it from tfcourse.benchmark instead'
                           % (os.path.relpath(path, REPO_ROOT), ', '.join(sorted(again))))
