"""Load a train script's SavedModel export (tfcourse/serving.py) the way TF Serving does."""
import os

from tfcourse import serving


def serve(export_dir, fetch=None, **feeds):
    """Run the newest version under ``export_dir`` on ``feeds`` ({input name: array});
    returns ({output name: array}, the version folder)."""
    from tfcourse.compat import tf

    version = serving.latest_version(str(export_dir))
    assert version, "no <version>/saved_model.pb under %s" % export_dir
    assert os.path.isdir(os.path.join(version, "variables"))
    with tf.Graph().as_default(), tf.Session() as sess:
        inputs, outputs = serving.load(sess, version)
        wanted = {k: v for k, v in outputs.items() if fetch is None or k in fetch}
        got = sess.run(wanted, {inputs[k]: v for k, v in feeds.items()})
    return got, version
