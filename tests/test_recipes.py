"""The documents' recipes, each trained a few steps on the real 5000-digit MNIST subset.

``alexnet/train_lrn.py`` (blog part 3's AlexNet with LRN; report 003's Adadelta recipe),
``resnet/train_official.py`` (report 003's official ResNet), ``mnist_cnn/baseline.py`` (the
PKU lecture's CBAPD baseline) and ``mnist_cnn/lenet_original.py`` (the weekly notes' LeNet):
per script a short run and a ``--restore`` that continues it; the loss falls, the accuracy
beats chance, the JSON, curves, checkpoints, weights export and SavedModel are written.  The
recipes' own figures (the first 256 test digits, the tests after each epoch, the best checkpoint,
weights.txt with its values) are checked where the script has them.  Bad input is one
line with exit status 2.  The two bigger nets run under ``-m slow``.
"""
import json
import os
import re

import numpy as np
import pytest

#: script -> (run name, a short run's flags on mnist5k, steps of the --restore run after it)
RUNS = {
    # 36 steps of 100 are one epoch: its test, and the best checkpoint
    'mnist_cnn/baseline.py': ('baseline', ['--steps', 40, '--batch_size', 100,
                                           '--eval_every', 20], 50),
    # sigmoids after average pooling start slowly: about 100 steps at 3e-3 before it learns
    'mnist_cnn/lenet_original.py': ('lenet_original', ['--steps', 100, '--eval_every', 50,
                                                       '--log_every', 25,
                                                       '--learning_rate', 3e-3], 200),
    # 36 steps of 100 are one epoch of the 3600 digits: the epoch line and its 256-digit test
    'alexnet/train_lrn.py': ('alexnet_lrn', ['--steps', 36, '--batch_size', 100,
                                             '--eval_every', 18, '--log_every', 12], 40),
    # 29 steps of 128 are one epoch: the per-epoch test
    'resnet/train_official.py': ('resnet_official', ['--resnet_size', 8, '--steps', 29,
                                                     '--log_every', 10], 33),
}
SLOW = {'alexnet/train_lrn.py', 'resnet/train_official.py'}
PARAMS = [pytest.param(s, marks=pytest.mark.slow) if s in SLOW else s for s in sorted(RUNS)]


def args_for(script, data_dir, tmp, steps=None):
    _, flags, _ = RUNS[script]
    flags = list(flags)
    if steps is not None:
        flags[flags.index('--steps') + 1] = steps
    return ['--dataset', 'mnist5k', '--data_dir', data_dir, '--checkpoint_dir', tmp / 'ckpt',
            '--json', tmp / 'result.json', '--plot', tmp / 'curves.png'] + flags


@pytest.fixture(scope='module', params=PARAMS)
def runs(request, run_script, fetch, tmp_path_factory):
    """A short run, then ``--restore`` with a few more steps into the same folder."""
    script = request.param
    tmp = tmp_path_factory.mktemp(RUNS[script][0])
    first = run_script(script, *args_for(script, fetch('mnist5k'), tmp))
    record = json.loads((tmp / 'result.json').read_text())
    png = (tmp / 'curves.png').stat().st_size
    again = run_script(script, *args_for(script, fetch('mnist5k'), tmp, RUNS[script][2]),
                       '--restore')
    resumed = json.loads((tmp / 'result.json').read_text())
    return script, tmp, first, record, png, again, resumed


def test_a_short_run_learns_real_digits(runs):
    script, tmp, first, record, png, _, resumed = runs
    name, flags, _ = RUNS[script]
    steps = flags[flags.index('--steps') + 1]
    train = record['history']['train']
    assert record['model'] == name and record['dataset'] == 'mnist5k'
    assert record['steps'] == steps and record['test_examples'] == 1000
    assert train[0]['step'] == 1 and train[-1]['step'] == steps
    # after the restored run: the loss has fallen, the accuracy beats chance (0.1)
    assert resumed['test_loss'] < 0.8 * train[0]['loss']
    assert resumed['test_accuracy'] > 0.2
    assert 'steps/s' in first.stdout and 'test accuracy' in first.stdout
    assert png > 10000
    assert any(n.startswith('model.ckpt-%d.' % steps) for n in os.listdir(str(tmp / 'ckpt')))
    assert (tmp / 'ckpt' / 'export' / str(steps) / 'saved_model.pb').exists()   # TF Serving
    weights = np.load(str(tmp / 'ckpt' / 'weights.npz'))
    trainable = sum(weights[n].size for n in weights.files if 'moving_' not in n)
    assert trainable == record['parameters'] > 1000


def test_restore_continues_the_run(runs):
    script, _, _, first, _, again, resumed = runs
    steps, more = first['steps'], RUNS[script][2]
    assert 'restored' in again.stdout and '(step %d)' % steps in again.stdout
    assert resumed['steps'] == more and resumed['steps_this_run'] == more - steps
    logged = [h['step'] for h in resumed['history']['train']]
    assert logged[:len(first['history']['train'])] == [h['step'] for h in
                                                       first['history']['train']]
    assert logged[-1] == more and sorted(set(logged)) == logged


def test_the_recipes_own_outputs(runs):
    """What each document's recipe records beside the common record."""
    script, tmp, first, record, _, _, resumed = runs
    if script == 'alexnet/train_lrn.py':
        # blog part 3's test of mnist.test.images[:256]; report 003's epoch line
        assert 0 <= record['test_accuracy_first256'] <= 1
        assert (256 * record['test_accuracy_first256']) % 1 == 0
        assert record['train_examples'] == 3600 and record['validation_examples'] == 400
        assert record['by_epoch']['1']['step'] == 36
        assert '第 0 轮的熵损失:' in first.stdout and '命中率:' in first.stdout
        assert record['optimizer'] == 'adam' and record['document_figure'] is None
        assert list(resumed['by_epoch']) == ['1']                # kept by the restore
    elif script == 'resnet/train_official.py':
        assert record['by_epoch']['1']['step'] == 29 and record['resnet_size'] == 8
        assert '1epoch 测试精度 :' in first.stdout
        assert record['lr_drop_steps'][0] == int(3600 / 128 * 91)
        rates = [h['learning_rate'] for h in record['history']['train']]
        assert rates == pytest.approx([0.1] * len(rates))        # 0.1 * 128 / 128
    elif script == 'mnist_cnn/baseline.py':
        best = os.listdir(str(tmp / 'ckpt' / 'best'))
        assert any(n.startswith('Baseline.ckpt') for n in best)  # save_best_only
        text = (tmp / 'ckpt' / 'weights.txt').read_text()
        assert 'c1/weights' in text and '5x5x1x6' in text and '[[[[' in text   # the values
        assert record['fc'] == 128 and record['target_test_accuracy'] is None
    else:
        assert record['activation'] == 'sigmoid' and record['train_examples'] == 3600


def test_flags_a_recipe_has_no_use_for_are_hidden():
    from tfcourse import training

    parser = training.parser('A recipe.', 'recipe', fixed=('width', 'dtype', 'loss_scale'))
    shown = parser.format_help()
    assert not re.search('--(width|dtype|loss_scale)', shown) and '--batch_size' in shown
    assert parser.fixed == {'width': 1.0, 'dtype': 'float32', 'loss_scale': 'dynamic'}


def test_bad_input_is_one_line(run_script, fetch, tmp_path):
    proc = run_script('alexnet/train_lrn.py', '--dataset', 'mnist5k', '--data_dir',
                      fetch('mnist5k'), '--width', '0.5', '--checkpoint_dir', tmp_path,
                      check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert '--width is not a setting of this script' in proc.stderr


@pytest.mark.parametrize('script, args, message', [
    ('alexnet/train_lrn.py', ['--keep_prob', '1.5'], '--keep_prob must be in (0, 1]'),
    ('alexnet/train_lrn.py', ['--dtype', 'bfloat16'], '--dtype is not a setting'),
    ('resnet/train_official.py', ['--resnet_size', '10'], 'must be 6n + 2'),
    ('resnet/train_official.py', ['--lr_drops', '0.5'], '--lr_drops is not a setting'),
    ('mnist_cnn/baseline.py', ['--dataset', 'cifar10', '--data_dir', '/nonexistent/cifar10'],
     'get_data.py cifar10'),
    ('mnist_cnn/lenet_original.py', ['--weight_decay', '0.1'], '--weight_decay is not a'),
])
def test_bad_input_in_process(load_script, fetch, tmp_path, script, args, message):
    """The same checks, raised before anything trains (``cli.run`` prints them in one line,
    exit 2, as the test above shows)."""
    from tfcourse import cli
    from tfcourse.compat import tf

    module = load_script(script, 'recipe_' + os.path.basename(script)[:-3])
    with tf.Graph().as_default(), pytest.raises(cli.UserError, match=re.escape(message)):
        module.main(['--dataset', 'mnist5k', '--data_dir', fetch('mnist5k'), '--steps', '1',
                     '--checkpoint_dir', str(tmp_path), '--json', '', '--plot', '']
                    + args)
