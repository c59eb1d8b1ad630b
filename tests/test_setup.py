"""setup/: the install check and the two basic graph-mode examples."""
import json
import re

import pytest


def test_check_install_reports_devices_and_hello_world(run_script):
    out = run_script("setup/check_install.py").stdout
    assert "TensorFlow 2." in out or "TensorFlow 1.15" in out
    assert "no GPU, running on the CPU" in out or "GPU: " in out
    assert "matmul 64x64 on /device:CPU:0: ok" in out
    assert "Hello, TensorFlow!" in out
    assert "a + b = 5, a * b = 6" in out
    assert out.strip().endswith("installation OK")


def test_linear_regression_reaches_the_least_squares_fit(run_script, tmp_path):
    out = run_script("setup/linear_regression.py", "--json", tmp_path / "lr.json",
                     "--plot", tmp_path / "lr.png").stdout
    assert "Optimization Finished!" in out
    result = json.loads((tmp_path / "lr.json").read_text())
    # gradient descent gets within 1 % of the optimal cost and close to the closed-form line
    assert result["cost"] <= result["least_squares_cost"] * 1.01
    assert result["W"] == pytest.approx(result["least_squares_W"], abs=0.01)
    assert (tmp_path / "lr.png").stat().st_size > 10000


def test_softmax_regression_on_real_digits(run_script, fetch, tmp_path):
    out = run_script("setup/softmax_regression.py", "--data_dir", fetch("mnist5k"),
                     "--steps", 300, "--json", tmp_path / "s.json").stdout
    accuracy = json.loads((tmp_path / "s.json").read_text())["test_accuracy"]
    assert "test accuracy" in out
    assert accuracy > 0.82  # 300 steps on 3600 digits; ~92 % on full MNIST with 1000 steps


def test_softmax_regression_blog_recipe_learns(run_script, fetch, tmp_path):
    """Blog part 1's recipe (--epochs, rate 0.01, batch 100): whole epochs, a falling cost."""
    out = run_script("setup/softmax_regression.py", "--data_dir", fetch("mnist5k"),
                     "--epochs", 3, "--learning_rate", 0.01,
                     "--json", tmp_path / "s.json").stdout
    result = json.loads((tmp_path / "s.json").read_text())
    costs = [float(c) for c in re.findall(r"^Epoch: \d{4} cost= ([\d.]+)$", out, flags=re.M)]
    assert len(costs) == 3 and costs[0] > costs[1] > costs[2]
    assert result["epochs"] == 3 and result["batch_size"] == 100
    assert result["steps"] == 3 * (result["train_examples"] // 100)   # 3 x 36 on 3600 digits
    assert result["test_accuracy"] > 0.7  # 79.9 % measured; chance is 10 %


def test_bad_flag_value_is_one_line(run_script):
    proc = run_script("setup/linear_regression.py", "--epochs", "0", check=False)
    assert proc.returncode == 2
    assert "--epochs must be a positive number" in proc.stderr
    assert "Traceback" not in proc.stderr
