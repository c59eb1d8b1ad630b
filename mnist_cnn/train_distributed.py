"""MNIST CNN trained by a cluster: parameter servers hold the variables, workers compute.

The model is the one of mnist_cnn/train.py (two 5x5 convolution + max-pool
layers, 1024-unit fully connected layer with dropout, softmax; Adam 1e-4,
batches of 50).  Training uses TensorFlow's own distributed runtime with
between-graph replication: every process runs this script with the same
--ps_hosts/--worker_hosts and its own --job_name/--task_index;
tf.train.replica_device_setter puts the variables on the parameter servers
(ps) and each worker builds its own copy of the graph, reads its own batches
and sends its gradients to the ps.

* async (default): each worker applies its gradients as soon as they are
  computed; one global step = one worker's batch.
* --sync: tf.train.SyncReplicasOptimizer averages the gradients of all
  workers (replicas_to_aggregate = number of workers) and applies them once;
  one global step = one batch from every worker.

Worker 0 is the chief: it initializes the variables (or restores them from
the latest checkpoint in --checkpoint_dir, or --restore_from), saves a
checkpoint every --save_every global steps (never of NaN weights), writes
TensorBoard summaries there every --log_every local steps, and at the end
evaluates the test accuracy and writes --json (default under
runs/mnist_cnn_distributed/).  A worker whose ps cannot be reached within
--max_wait_secs exits with status 2 naming the address.  A killed and
restarted worker rejoins at the ps's global step; a restarted chief restores
the latest checkpoint.  ps processes serve until
they are stopped (Ctrl-C).

    # one line per process (here all on one machine; see mnist_cnn/README.md)
    python mnist_cnn/train_distributed.py --ps_hosts 127.0.0.1:2222 \\
        --worker_hosts 127.0.0.1:2223,127.0.0.1:2224 --job_name ps --task_index 0
    python mnist_cnn/train_distributed.py --ps_hosts 127.0.0.1:2222 \\
        --worker_hosts 127.0.0.1:2223,127.0.0.1:2224 --job_name worker --task_index 0
    python mnist_cnn/train_distributed.py --ps_hosts 127.0.0.1:2222 \\
        --worker_hosts 127.0.0.1:2223,127.0.0.1:2224 --job_name worker --task_index 1

    # all three at once:
    python mnist_cnn/launch_local_cluster.py --steps 500 --data_dir data/mnist5k
"""
import argparse
import os
import re
import socket
import threading
import time

from tfcourse.compat import tf, announce_device, session_config
from tfcourse import checkpoints, cli, input_data

import train  # mnist_cnn/train.py: the network is defined there once

NAME = "mnist_cnn_distributed"
REPORT_TEST_ACCURACY = train.REPORT_TEST_ACCURACY  # single-process run of the report


def parse_hosts(flag, value):
    """'host1:2222,host2:2222' -> ['host1:2222', 'host2:2222'], or a UserError naming the fix."""
    if not value or not value.strip():
        raise cli.UserError("%s is required: comma-separated host:port list, e.g. %s "
                            "10.0.0.1:2222,10.0.0.2:2222" % (flag, flag))
    hosts = [h.strip() for h in value.split(",")]
    for host in hosts:
        match = re.match(r"^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):(\d+)$", host)
        if not match or not 0 < int(match.group(2)) < 65536:
            raise cli.UserError("%s: %r is not host:port (e.g. 10.0.0.1:2222, port 1-65535)"
                                % (flag, host))
    return hosts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cluster = parser.add_argument_group("cluster (the same on every process, except the task)")
    cluster.add_argument("--ps_hosts", default="",
                         help="comma-separated host:port of the parameter servers")
    cluster.add_argument("--worker_hosts", default="",
                         help="comma-separated host:port of the workers (the first is the chief)")
    cluster.add_argument("--job_name", default=None, help="ps or worker: this process's job")
    cluster.add_argument("--task_index", type=int, default=0,
                         help="index of this process in its job's host list")
    cluster.add_argument("--sync", action="store_true",
                         help="synchronous updates (SyncReplicasOptimizer) instead of async")
    cli.add_data_dir(parser, "mnist", help="directory with the four MNIST IDX files (on every "
                                           "worker)")
    parser.add_argument("--steps", type=int, default=20000, help="last global step")
    parser.add_argument("--batch_size", type=int, default=50, help="batch size per worker")
    parser.add_argument("--learning_rate", type=cli.finite_float, default=1e-4)
    parser.add_argument("--keep_prob", type=cli.finite_float, default=0.5,
                        help="dropout keep probability")
    parser.add_argument("--seed", type=int, default=0,
                        help="graph seed of the chief; worker i shuffles with seed + i")
    parser.add_argument("--log_every", type=int, default=100,
                        help="print progress (the chief: and summaries) every this many local "
                             "steps")
    parser.add_argument("--save_every", type=int, default=500,
                        help="the chief saves a checkpoint every this many global steps")
    parser.add_argument("--checkpoint_dir", default=cli.run_dir(NAME),
                        help="the chief's checkpoints and TensorBoard summaries; training always "
                             "resumes from the latest checkpoint there")
    checkpoints.add_restore_from_flag(parser)
    parser.add_argument("--max_wait_secs", type=int, default=600,
                        help="how long a process waits for its ps and for the chief to "
                             "initialize the model")
    cli.add_output_flags(parser, NAME, plot=False)
    args = parser.parse_args(argv)

    if args.job_name not in ("ps", "worker"):
        raise cli.UserError("--job_name must be ps or worker, got %r" % args.job_name)
    args.ps_list = parse_hosts("--ps_hosts", args.ps_hosts)
    args.worker_list = parse_hosts("--worker_hosts", args.worker_hosts)
    everyone = args.ps_list + args.worker_list
    duplicates = sorted(set(h for h in everyone if everyone.count(h) > 1))
    if duplicates:
        raise cli.UserError("%s is listed twice in --ps_hosts/--worker_hosts; every process "
                            "needs its own host:port" % duplicates[0])
    hosts = args.ps_list if args.job_name == "ps" else args.worker_list
    if not 0 <= args.task_index < len(hosts):
        what = "ps" if args.job_name == "ps" else "worker" if len(hosts) == 1 else "workers"
        raise cli.UserError("--task_index %d is out of range: --%s_hosts lists %d %s "
                            "(task indices 0..%d)" % (args.task_index, args.job_name, len(hosts),
                                                      what, len(hosts) - 1))
    for name in ("steps", "batch_size", "learning_rate", "log_every", "save_every",
                 "max_wait_secs"):
        cli.check_positive("--" + name, getattr(args, name))
    if not 0.0 < args.keep_prob <= 1.0:
        raise cli.UserError("--keep_prob must be in (0, 1], got %g" % args.keep_prob)
    if args.job_name == "worker" and args.task_index == 0:  # the chief writes
        cli.check_outputs(args, "--json", folders=("--checkpoint_dir",))
    return args


# ---------------------------------------------------------------- the model
def build_model(learning_rate, sync=False, num_workers=1):
    """The network of mnist_cnn/train.py with an Adam step that can average the workers'."""
    model = train.build_network()
    # MonitoredTrainingSession and StopAtStepHook find it in the GLOBAL_STEP collection
    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(learning_rate)
    if sync:
        # gradients of all workers are averaged, then applied once per global step
        optimizer = tf.train.SyncReplicasOptimizer(optimizer, replicas_to_aggregate=num_workers,
                                                   total_num_replicas=num_workers)
    model["train_step"] = optimizer.minimize(model["loss"], global_step=global_step)
    # run by each worker when it stops: a worker still waiting for a sync token
    # after the last step (the others have stopped) gets one and stops too.
    # (The chief's queue runner closes the token queue when it stops, which
    # releases the others as well; then there is nothing left to do.)
    model["release_tokens"] = optimizer.get_init_tokens_op(num_workers) if sync else tf.no_op()
    tf.summary.scalar("train/loss", model["loss"])
    tf.summary.scalar("train/accuracy", model["accuracy"])
    tf.summary.scalar("train/learning_rate", tf.constant(learning_rate))
    model.update(global_step=global_step, optimizer=optimizer,
                 summaries=tf.summary.merge_all(), weights_finite=checkpoints.weights_finite())
    return model


# ---------------------------------------------------------------- the cluster
def start_server(cluster, args):
    """This process's gRPC server (it listens on the port of its host:port on all interfaces)."""
    address = cluster.task_address(args.job_name, args.task_index)
    try:
        return tf.train.Server(cluster, job_name=args.job_name, task_index=args.task_index)
    except (tf.errors.UnknownError, tf.errors.InvalidArgumentError) as exc:
        raise cli.UserError("cannot start the %s %d server on %s (%s); is the port in use by "
                            "another process? pick a free port in --%s_hosts (the launcher: "
                            "--ports)" % (args.job_name, args.task_index, address,
                                          exc.message.splitlines()[0], args.job_name))


def wait_for_ps(ps_hosts, name, max_wait_secs):
    """Return once every ps accepts connections; else exit 2 naming the one that does not.

    (TensorFlow itself would wait for an unreachable ps forever.)
    """
    deadline = time.time() + max_wait_secs
    for address in ps_hosts:
        host, port = address.rsplit(":", 1)
        while True:
            try:
                socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise cli.UserError("%s: the ps at %s is unreachable (no answer within "
                                        "--max_wait_secs %d s); start it, or check --ps_hosts"
                                        % (name, address, max_wait_secs))
                time.sleep(0.5)


def wait_for_chief(server, config, name, max_wait_secs):
    """Return once the chief has initialized (or restored) the variables on the ps.

    A non-chief MonitoredTrainingSession checks this only every 30 seconds;
    polling every second lets a (re)started worker join without that delay.
    """
    not_ready = tf.report_uninitialized_variables(tf.global_variables())
    deadline = time.time() + max_wait_secs
    poll = tf.RunOptions(timeout_in_ms=5000)
    with tf.Session(server.target, config=config) as sess:
        while True:
            try:
                if len(sess.run(not_ready, options=poll)) == 0:
                    return
            except (tf.errors.UnavailableError, tf.errors.AbortedError,
                    tf.errors.DeadlineExceededError):
                pass  # a ps is not up (yet)
            if time.time() > deadline:
                raise cli.UserError("%s: the chief (worker 0) did not initialize the model "
                                    "within %d s; start it, or raise --max_wait_secs"
                                    % (name, max_wait_secs))
            time.sleep(1.0)


def quiet_cancelled_threads():
    """With --sync, closing the chief's session cancels its token queue runner thread.

    That is the normal end of training; without this hook the thread prints a
    CancelledError traceback.  Any other exception in a thread is printed.
    """
    default_hook = getattr(threading, "excepthook", None)
    if default_hook is None:  # Python < 3.8
        return

    def hook(exc):
        if not issubclass(exc.exc_type, tf.errors.CancelledError):
            default_hook(exc)

    threading.excepthook = hook


def main(argv=None):
    args = parse_args(argv)
    cluster = tf.train.ClusterSpec({"ps": args.ps_list, "worker": args.worker_list})
    name = "%s %d" % (args.job_name, args.task_index)

    if args.job_name == "ps":
        server = start_server(cluster, args)
        print("%s: serving the variables on %s; stop it with Ctrl-C when the workers are done"
              % (name, args.ps_list[args.task_index]), flush=True)
        server.join()  # never returns
        return 0

    num_workers = len(args.worker_list)
    is_chief = args.task_index == 0
    mnist = input_data.read_data_sets(args.data_dir, one_hot=True,
                                      seed=args.seed + args.task_index)
    if args.batch_size > mnist.train.num_examples:
        raise cli.UserError("--batch_size %d is larger than the %d training images in %s"
                            % (args.batch_size, mnist.train.num_examples, args.data_dir))
    server = start_server(cluster, args)
    print("%s%s: %s training on %d examples of %s, cluster %d ps + %d workers"
          % (name, " (chief)" if is_chief else "", "sync" if args.sync else "async",
             mnist.train.num_examples, args.data_dir, len(args.ps_list), num_workers), flush=True)
    device = announce_device()

    tf.set_random_seed(args.seed + args.task_index)
    # variables go round-robin onto the ps tasks' CPUs, every other op stays on this worker
    # (on its GPU when it has one); with --sync the gradient accumulators, which have no
    # GPU kernel, are made next to the variables, so they too are on a ps CPU on purpose
    with tf.device(tf.train.replica_device_setter(
            ps_device="/job:ps/cpu:0",
            worker_device="/job:worker/task:%d" % args.task_index, cluster=cluster)):
        model = build_model(args.learning_rate, sync=args.sync, num_workers=num_workers)

    # talk only to the ps and to ourselves: a worker never waits for the other workers
    config = session_config()
    config.device_filters.extend(["/job:ps", "/job:worker/task:%d" % args.task_index])
    wait_for_ps(args.ps_list, name, args.max_wait_secs)
    if is_chief:
        prepare_restore(args, name)
    else:
        wait_for_chief(server, config, name, args.max_wait_secs)

    start_step, step, local_step, train_seconds, history = train_loop(
        args, model, mnist, server, config, name, is_chief, num_workers)
    if args.sync:
        with tf.Session(server.target, config=config) as sess:
            try:
                sess.run(model["release_tokens"])
            except (tf.errors.CancelledError, tf.errors.OutOfRangeError):
                pass  # the chief has closed the token queue already
    print("%s: done, %d local steps in %.1f s (%.1f local steps/s), last global step seen %d"
          % (name, local_step, train_seconds, local_step / max(train_seconds, 1e-9), step),
          flush=True)
    if not is_chief:
        return 0

    # the chief evaluates the trained variables, which still live on the ps
    with tf.Session(server.target, config=config) as sess:
        final_step = int(sess.run(model["global_step"]))
        validation_accuracy = train.evaluate(sess, model, mnist.validation)
        test_accuracy = train.evaluate(sess, model, mnist.test)
    print("%s: global step %d, validation accuracy %g" % (name, final_step, validation_accuracy))
    print("%s: test accuracy %g" % (name, test_accuracy), flush=True)
    if args.json:
        cli.write_json(args.json, result_record(
            args, mnist, start_step, final_step, local_step, train_seconds, validation_accuracy,
            test_accuracy, device, history))
        cli.wrote(args.json)
    return 0


def prepare_restore(args, name):
    """The chief: check the checkpoint it will restore (or point it at --restore_from)."""
    if args.restore_from:
        checkpoints.latest_intact(args.checkpoint_dir, args.restore_from)
        tf.train.update_checkpoint_state(args.checkpoint_dir, args.restore_from)
    latest = (checkpoints.latest_intact(args.checkpoint_dir)
              if checkpoints.checkpoint_paths(args.checkpoint_dir) else None)
    print("%s: %s" % (name, "restoring %s" % latest if latest else
                      "initializing the variables (no checkpoint in %s)" % args.checkpoint_dir),
          flush=True)


def train_loop(args, model, mnist, server, config, name, is_chief, num_workers):
    """Train until the global step reaches --steps; returns the counters and the history."""
    fix = "lower --learning_rate (now %g)" % args.learning_rate
    hooks = [tf.train.StopAtStepHook(last_step=args.steps)]
    if args.sync:
        hooks.append(model["optimizer"].make_session_run_hook(is_chief))
        quiet_cancelled_threads()
    scaffold = tf.train.Scaffold()
    saver_hook = tf.train.CheckpointSaverHook(
        args.checkpoint_dir, save_steps=args.save_every, scaffold=scaffold,
        listeners=[checkpoints.FiniteWeightsListener(model["weights_finite"], fix)])
    history, local_step = [], 0
    with tf.train.MonitoredTrainingSession(
            master=server.target, is_chief=is_chief, checkpoint_dir=args.checkpoint_dir,
            scaffold=scaffold, save_checkpoint_steps=None, save_checkpoint_secs=None,
            save_summaries_steps=None, save_summaries_secs=None, log_step_count_steps=0,
            hooks=hooks, chief_only_hooks=[saver_hook], config=config,
            max_wait_secs=args.max_wait_secs, stop_grace_period_secs=5) as sess:
        start_step = step = int(sess.run(model["global_step"]))
        print("%s: starting at global step %d" % (name, start_step), flush=True)
        if start_step >= args.steps:
            print("%s: the model is already at global step %d >= --steps %d; nothing to train "
                  "(raise --steps, or use a new --checkpoint_dir)" % (name, start_step, args.steps))
        writer = tf.summary.FileWriterCache.get(args.checkpoint_dir) if is_chief else None
        progress = cli.Progress(total=args.steps, unit="global steps", initial=start_step,
                                prefix="%s: global " % name)
        while not sess.should_stop():
            batch = mnist.train.next_batch(args.batch_size)
            log = (local_step + 1) % args.log_every == 0
            fetches = [model["train_step"], model["global_step"], model["loss"],
                       model["accuracy"]] + ([model["summaries"]] if log and writer else [])
            values = sess.run(fetches, feed_dict={model["x"]: batch[0], model["y_"]: batch[1],
                                                  model["keep_prob"]: args.keep_prob})
            step, loss, acc = int(values[1]), float(values[2]), float(values[3])
            checkpoints.check_finite(loss, step, fix)
            local_step += 1
            if log:
                if writer:
                    writer.add_summary(values[4], step)
                progress.update(step, local_step=local_step, loss=loss, batch_accuracy=acc)
                history.append({"global_step": step, "local_step": local_step,
                                "loss": loss, "batch_accuracy": acc})
        if writer:
            writer.flush()
        train_seconds = progress.elapsed()
    return start_step, step, local_step, train_seconds, history


def result_record(args, mnist, start_step, final_step, local_step, train_seconds,
                  validation_accuracy, test_accuracy, device, history):
    """The chief's JSON record of a run."""
    num_workers = len(args.worker_list)
    global_steps_per_second = (final_step - start_step) / train_seconds if train_seconds else None
    images_per_step = args.batch_size * (num_workers if args.sync else 1)
    return {
        "model": NAME,
        "mode": "sync" if args.sync else "async",
        "ps_hosts": args.ps_list,
        "worker_hosts": args.worker_list,
        "data_dir": os.path.abspath(args.data_dir),
        "train_examples": mnist.train.num_examples,
        "test_examples": mnist.test.num_examples,
        "steps": args.steps,
        "start_global_step": start_step,
        "final_global_step": final_step,
        "chief_local_steps": local_step,
        "batch_size_per_worker": args.batch_size,
        "images_per_global_step": images_per_step,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "test_accuracy": test_accuracy,
        "validation_accuracy": validation_accuracy,
        "report_test_accuracy": REPORT_TEST_ACCURACY,
        "train_seconds_this_run": round(train_seconds, 1),
        "global_steps_per_second": round(global_steps_per_second, 2)
        if global_steps_per_second else None,
        "images_per_second": round(global_steps_per_second * images_per_step, 1)
        if global_steps_per_second else None,
        "device": device,
        "tf_version": tf.__version__,
        "chief_history": history,
    }


if __name__ == "__main__":
    cli.run(main)
