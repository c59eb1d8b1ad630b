"""The grader's own measurements, each run in a separate sandboxed process of grader code.

    python setup/grading/measure.py classifier --export DIR --dataset NAME --data_dir D
    python setup/grading/measure.py perplexity --export DIR --data_dir D
    python setup/grading/measure.py timing --graph DIR --reference DIR --num_batches N

* ``classifier``: loads the submission's SavedModel (``serving_default``, see
  ``tfcourse/serving.py``) and computes its accuracy on the grader's copy of
  the data set's test images (``tfcourse.image_data`` of the grader's tree),
  fed as the signature's ``images`` asks: uint8 or float in [0, 1], in its
  shape ([N, 784], [N, 28, 28, 1] ...).
* ``perplexity``: loads the PTB export and reads the grader's ``ptb.test.txt``
  word by word, carrying the LSTM state from each output to the input of the
  same name; perplexity = exp(mean cross-entropy of the next word).
* ``timing``: imports the graphs ``capture.py`` kept of the submission and of
  the reference tree, initialises their variables, finds the forward and the
  forward-backward fetch of each (the one without and the one with gradient
  ops), counts their parameters and FLOPs per run (of the ops each fetch
  needs, not of the whole graph), and times both with one loop, their runs
  interleaved so that the machine's load falls on both alike.

The result is the last line, ``RESULT <token> <json>``: the token comes from
the grader (environment ``GRADE_TOKEN``), so no line the model's own ops print
can pass for it.
"""
import argparse
import json
import math
import os
import sys
import time

GRADIENT_OPS = ("Grad", "Backprop")  # op types of a backward pass contain one of these


def _tf():
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    tf.logging.set_verbosity(tf.logging.ERROR)
    return tf


def _config(tf):
    return tf.ConfigProto(intra_op_parallelism_threads=0, inter_op_parallelism_threads=0)


def result(values):
    token = os.environ.get("GRADE_TOKEN", "")
    sys.stdout.flush()
    print("RESULT %s %s" % (token, json.dumps(values)), flush=True)


# ---------------------------------------------------------------- exports

def load_export(tf, sess, export):
    """(inputs, outputs, version folder) of the export's newest version; a one-line
    SystemExit naming what is wrong otherwise."""
    versions = []
    if os.path.isdir(export):
        versions = sorted((int(n) for n in os.listdir(export) if n.isdigit()
                           and os.path.exists(os.path.join(export, n, "saved_model.pb"))))
    if not versions:
        raise SystemExit("no SavedModel: %s has no <version>/saved_model.pb" % export)
    folder = os.path.join(export, str(versions[-1]))
    try:
        meta = tf.saved_model.loader.load(sess, ["serve"], folder)
    except Exception as exc:  # noqa: BLE001 -- any failure to load is the verdict
        raise SystemExit("the SavedModel in %s does not load (%s)"
                         % (folder, str(exc).strip().splitlines()[0][:200]))
    if "serving_default" not in meta.signature_def:
        raise SystemExit("the SavedModel in %s has no serving_default signature" % folder)
    signature = meta.signature_def["serving_default"]
    graph = sess.graph
    inputs = {k: graph.get_tensor_by_name(v.name) for k, v in signature.inputs.items()}
    outputs = {k: graph.get_tensor_by_name(v.name) for k, v in signature.outputs.items()}
    return inputs, outputs, folder


def _test_images(dataset, data_dir):
    """The grader's test images (uint8, NHWC) and labels of an image data set."""
    from tfcourse import image_data

    data = image_data.load(dataset, data_dir)
    return data.test_images, data.test_labels


def classifier(args):
    tf = _tf()
    import numpy as np

    images, labels = _test_images(args.dataset, args.data_dir)
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    with tf.Graph().as_default(), tf.Session(config=_config(tf)) as sess:
        inputs, outputs, folder = load_export(tf, sess, args.export)
        if "images" not in inputs:
            raise SystemExit("the signature takes %s, not images" % ", ".join(sorted(inputs)))
        if "logits" not in outputs and "classes" not in outputs:
            raise SystemExit("the signature returns %s: neither logits nor classes"
                             % ", ".join(sorted(outputs)))
        x = inputs["images"]
        shape = x.get_shape()
        dims = shape.as_list()[1:] if shape.ndims else None
        feed = images.astype(np.float32) / 255.0 if x.dtype.is_floating else images
        if dims and all(d is not None for d in dims):
            feed = feed.reshape([-1] + dims)
        fetch = outputs.get("classes")
        if fetch is None:
            fetch = outputs["logits"]
        correct = 0
        for start in range(0, len(feed), args.batch_size):
            got = sess.run(fetch, {x: feed[start:start + args.batch_size].astype(
                x.dtype.as_numpy_dtype)})
            if got.ndim > 1:
                got = got.argmax(-1)
            correct += int((got.reshape(-1) == labels[start:start + args.batch_size]).sum())
    result({"value": correct / float(len(labels)), "examples": int(len(labels)),
            "export": folder, "what": "accuracy on %d test images of %s (%s)"
            % (len(labels), args.dataset, args.data_dir)})


def perplexity(args):
    tf = _tf()
    import numpy as np

    words = _ptb_test_ids(args.data_dir)
    if args.limit:
        words = words[:args.limit + 1]
    with tf.Graph().as_default(), tf.Session(config=_config(tf)) as sess:
        inputs, outputs, folder = load_export(tf, sess, args.export)
        if "word_ids" not in inputs or "logits" not in outputs:
            raise SystemExit("the signature takes %s and returns %s; a PTB export takes "
                             "word_ids and the state, returns logits and the state"
                             % (", ".join(sorted(inputs)), ", ".join(sorted(outputs))))
        states = sorted(k for k in inputs if k != "word_ids")
        missing = [k for k in states if k not in outputs]
        if missing:
            raise SystemExit("state %s goes in but does not come out" % ", ".join(missing))
        state = {k: np.zeros([d or 1 for d in inputs[k].get_shape().as_list()],
                             inputs[k].dtype.as_numpy_dtype) for k in states}
        fetches = dict((k, outputs[k]) for k in states)
        fetches["logits"] = outputs["logits"]
        shape = [d or 1 for d in inputs["word_ids"].get_shape().as_list()]
        total = 0.0
        for i in range(len(words) - 1):
            feed = {inputs[k]: v for k, v in state.items()}
            feed[inputs["word_ids"]] = np.full(shape, words[i], np.int32)
            got = sess.run(fetches, feed)
            logits = got.pop("logits").reshape(-1).astype(np.float64)
            top = logits.max()
            total += top + math.log(np.exp(logits - top).sum()) - logits[words[i + 1]]
            state = got
    n = len(words) - 1
    result({"value": math.exp(total / n), "examples": n, "export": folder,
            "what": "perplexity over %d test words of %s, state carried over"
            % (n, args.data_dir)})


def _ptb_test_ids(data_dir):
    """Word ids of ptb.test.txt, with the vocabulary of ptb.train.txt (the reader's)."""
    import importlib.util

    from tfcourse import REPO_ROOT

    spec = importlib.util.spec_from_file_location(
        "grader_ptb_reader", os.path.join(REPO_ROOT, "lstm_ptb", "reader.py"))
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    _, _, test, _ = reader.ptb_raw_data(data_dir)
    return list(test)


# ---------------------------------------------------------------- captured graphs

def _closure(graph, names):
    """Every op the fetches named need (data and control inputs)."""
    todo = [graph.as_graph_element(n, allow_tensor=True, allow_operation=True) for n in names]
    todo = [t.op if hasattr(t, "op") and not hasattr(t, "node_def") else t for t in todo]
    seen, ops = set(), []
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        ops.append(op)
        todo.extend(t.op for t in op.inputs)
        todo.extend(op.control_inputs)
    return ops


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def flops_of(ops):
    """2 x the multiply-adds of the convolutions and matrix products among ``ops`` (a run,
    forward and backward ops alike; None when a shape is unknown)."""
    flops = 0
    for op in ops:
        try:
            if op.type in ("Conv2D", "DepthwiseConv2dNative"):
                kh, kw, n_in = op.inputs[1].get_shape().as_list()[:3]
                flops += 2 * _numel(op.outputs[0].get_shape().as_list()) * kh * kw * (
                    n_in if op.type == "Conv2D" else 1)
            elif op.type in ("Conv2DBackpropInput", "Conv2DBackpropFilter"):
                kh, kw, n_in, n_out = [int(d) for d in _filter_shape(op)]
                grad = op.inputs[2].get_shape().as_list()
                flops += 2 * _numel(grad) * kh * kw * n_in
            elif op.type == "MatMul":
                a = op.inputs[0].get_shape().as_list()
                m, k = (a[1], a[0]) if op.get_attr("transpose_a") else (a[0], a[1])
                flops += 2 * m * k * op.outputs[0].get_shape().as_list()[1]
        except (TypeError, ValueError, IndexError):
            return None
    return flops


def _filter_shape(op):
    if op.type == "Conv2DBackpropFilter":
        return op.outputs[0].get_shape().as_list()
    return op.inputs[1].get_shape().as_list()


def parameters_of(ops):
    """Scalars in the variables the ops read."""
    total = 0
    for op in ops:
        if op.type in ("VariableV2", "VarHandleOp", "Variable"):
            shape = op.get_attr("shape")
            dims = [d.size for d in shape.dim] if hasattr(shape, "dim") else shape
            if any(d is None or d < 0 for d in dims):
                continue
            if _trainable_like(op):
                total += _numel(dims)
    return total


def _trainable_like(op):
    trainable = op.graph.get_collection("trainable_variables")
    names = {v.op.name for v in trainable}
    return op.name in names if names else True


def load_capture(tf, folder):
    """[(graph, session, {'forward': entry, 'forward_backward': entry})] of a capture."""
    import numpy as np

    with open(os.path.join(folder, "fetches.json")) as f:
        fetches = json.load(f)
    timed = [e for e in fetches if e["runs"] >= 2] or fetches
    graphs = {}
    for entry in timed:
        if entry["graph"] in graphs:
            continue
        graph = tf.Graph()
        with graph.as_default():
            tf.train.import_meta_graph(os.path.join(folder, "graph-%d.meta" % entry["graph"]),
                                       clear_devices=True)
            init = tf.group(tf.global_variables_initializer(),
                            tf.local_variables_initializer())
        sess = tf.Session(graph=graph, config=_config(tf))
        sess.run(init)
        graphs[entry["graph"]] = (graph, sess)
    passes = {}
    for entry in sorted(timed, key=lambda e: -e["runs"]):
        graph, sess = graphs[entry["graph"]]
        ops = _closure(graph, entry["fetches"])
        if not any(op.type in ("Conv2D", "MatMul", "DepthwiseConv2dNative") for op in ops):
            continue  # an initializer or a counter: not a pass of the network
        backward = any(any(word in op.type for word in GRADIENT_OPS) for op in ops)
        kind = "forward_backward" if backward else "forward"
        if kind in passes:
            continue
        feed = {}
        if entry.get("feed_file"):
            arrays = np.load(os.path.join(folder, entry["feed_file"]))
            feed = {graph.get_tensor_by_name(k): arrays[k] for k in arrays.files}
        forward_ops = [op for op in ops if not any(w in op.type for w in GRADIENT_OPS)
                       and "gradients" not in op.name.split("/")]
        passes[kind] = {"graph": graph, "sess": sess, "fetches": entry["fetches"],
                        "feed": feed, "runs_in_script": entry["runs"],
                        "flops": flops_of(ops), "parameters": parameters_of(forward_ops),
                        "ops": len(ops)}
    return passes


def timing(args):
    tf = _tf()
    sides = {"submission": load_capture(tf, args.graph),
             "reference": load_capture(tf, args.reference)}
    out = {}
    for side, passes in sides.items():
        out[side] = {kind: {k: p[k] for k in ("flops", "parameters", "ops", "fetches",
                                                "runs_in_script")}
                     for kind, p in passes.items()}
    for kind in ("forward", "forward_backward"):
        pair = [sides["submission"].get(kind), sides["reference"].get(kind)]
        if None in pair:
            continue
        times = [[], []]
        for _ in range(args.num_warmup):
            for p in pair:
                p["sess"].run(p["fetches"], p["feed"])
        for round_ in range(args.num_batches):
            for i in ((0, 1) if round_ % 2 == 0 else (1, 0)):  # neither always goes first
                start = time.time()
                pair[i]["sess"].run(pair[i]["fetches"], pair[i]["feed"])
                times[i].append(time.time() - start)
        for side, t in zip(("submission", "reference"), times):
            mean = sum(t) / len(t)
            sd = math.sqrt(max(sum(x * x for x in t) / len(t) - mean * mean, 0.0))
            out[side][kind].update(mean_sec_per_batch=mean, sd_sec_per_batch=sd)
    out["num_batches"], out["num_warmup"] = args.num_batches, args.num_warmup
    result(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("classifier")
    p.add_argument("--export", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data_dir", required=True)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--batch_size", type=int, default=500)
    p = sub.add_parser("perplexity")
    p.add_argument("--export", required=True)
    p.add_argument("--data_dir", required=True)
    p.add_argument("--limit", type=int, default=0)
    p = sub.add_parser("timing")
    p.add_argument("--graph", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--num_batches", type=int, default=10)
    p.add_argument("--num_warmup", type=int, default=2)
    args = parser.parse_args(argv)
    {"classifier": classifier, "perplexity": perplexity, "timing": timing}[args.what](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
