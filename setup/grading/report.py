"""The gradebook, one REPORT.md per submission and the class overview.

* ``gradebook.csv``: one row per submission: its id, verdict, total and
  maximum, then for every item of the assignment three columns (figure,
  points, verdict), then the verdict of every script.
* ``submissions/<id>/REPORT.md``: what was handed in, how it was isolated
  (user, network, folders, limits), each script's run (verdict, time, peak
  memory, the log's last lines), each item (figure, points, why), what it
  wrote outside its folder, the machine.
* ``overview.md`` and ``overview.html``: the class at a glance, the score
  distribution (``scores.png``) and the similar pairs (:mod:`similarity`).
"""
import csv
import html
import io
import os
import statistics

from tfcourse import cli


def _duration(seconds):
    seconds = int(round(seconds or 0))
    return "%d:%02d:%02d" % (seconds // 3600, seconds % 3600 // 60, seconds % 60)


def gradebook_rows(results, assignment):
    header = ["submission", "verdict", "total", "max"]
    for item in assignment.items:
        header += ["%s: figure" % item.label, "%s: points" % item.label,
                   "%s: verdict" % item.label]
    header += ["%s: run" % s.name for s in assignment.scripts]
    rows = [header]
    for res in results:
        row = [res["id"], res["verdict"], "%g" % res["total"], "%g" % res["max_total"]]
        by_label = {i["label"]: i for i in res["items"]}
        for item in assignment.items:
            got = by_label.get(item.label)
            row += ([got["shown"], "%g" % got["points"], got["verdict"]] if got
                    else ["—", "0", "not run"])
        for spec in assignment.scripts:
            run = res["scripts"].get(spec.name)
            row.append(run["verdict"] if run else "not run")
        rows.append(row)
    return rows


def write_gradebook(path, results, assignment):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(gradebook_rows(results, assignment))
    cli.write_text(path, buffer.getvalue())
    return path


def _path(path):
    """A path as the reports show it: relative inside the working folder, else absolute."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def submission_report(res, assignment, machine):
    lines = ["# %s: %s" % (res["id"], assignment.title), "",
             "* verdict: **%s**; points: **%g / %g**" % (res["verdict"], res["total"],
                                                        res["max_total"]),
             "* handed in: %s (%s)" % (res["source"], {
                 "copy": "a whole copy of the layout", "files": "only the assignment's files, "
                 "laid over a clean copy of the reference tree"}.get(res.get("kind"),
                                                                      res.get("kind"))),
             "* assignment: `%s`, %s tier; graded %s in %s" % (
                 _path(assignment.path), res["tier"], res["started"],
                 _duration(res.get("seconds")))]
    if res.get("tfcourse_from"):
        lines.append("* its scripts import `tfcourse` from: `%s`" % res["tfcourse_from"])
    for note in res.get("notes", []):
        lines.append("* note: %s" % note)
    iso = res.get("isolation") or {}
    lim = res.get("limits") or {}
    lines += ["", "## Isolation and limits", "",
              "* user: %s" % iso.get("user", "?"),
              "* network: %s" % iso.get("network", "?"),
              "* folders: %s" % iso.get("folders", "?"),
              "* limits per command: wall time as each script says below; memory %.1f GiB "
              "(resident, all its processes); %s processes and threads; output %d MB; "
              "files up to %d MB" % (lim.get("memory", 0) / 2 ** 30, lim.get("threads", "?"),
                                     lim.get("output", 0) >> 20, lim.get("file_size", 0) >> 20)]
    leaks = res.get("leaks") or []
    lines.append("* written outside its folder: %s" % (
        "nothing" if not leaks else "%s (kept in the sandbox, not on the machine)"
        % ", ".join("`%s`" % p for p in leaks)))
    lines += ["", "## Items", "", "| item | figure | points | verdict | why |",
              "|---|---|---|---|---|"]
    for item in res["items"]:
        shown = item["shown"]
        if item.get("self_reported") is not None and item["measure"] != "self_reported":
            shown += " (its own JSON said %s, self-reported)" % _md(item["self_reported"])
        lines.append("| %s | %s | %g / %g | %s | %s |" % (
            _md(item["label"]), _md(shown), item["points"], item["max_points"],
            item["verdict"], _md(item.get("reason", ""))))
    lines += ["", "## Runs", "", "| script | verdict | wall time | peak memory | why |",
              "|---|---|---|---|---|"]
    for name, run in res["scripts"].items():
        lines.append("| `%s` | %s | %s | %.2f GB | %s |" % (
            run.get("what", name), run["verdict"], _duration(run["seconds"]),
            run["peak_memory"] / 1e9, _md(run["reason"])))
    for name, run in res["scripts"].items():
        lines += ["", "### %s: last lines of its log" % name, "",
                  "`%s`" % os.path.relpath(run["log"], os.path.dirname(run["log"]) + "/../.."),
                  "", "```"] + [line[:300] for line in run["tail"]] + ["```"]
    lines += ["", "## Machine", "", "* " + machine_line(machine)]
    return "\n".join(lines) + "\n"


def machine():
    """What the reports say of the grading machine (no TensorFlow import: the version from
    the installed distribution)."""
    import platform
    from importlib import metadata

    from tfcourse.machine import cpu_info, cpu_label, vector_units

    try:
        tf_version = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        tf_version = None
    info = cpu_info()
    return {"cpu": cpu_label(info["model"], vector_units(info)),
            "cores": os.cpu_count(), "tensorflow": tf_version,
            "python": platform.python_version(), "load_average": list(os.getloadavg())}


def machine_line(machine):
    return "%s; %d cores; TensorFlow %s; Python %s; load average %s" % (
        machine.get("cpu"), machine.get("cores") or 0, machine.get("tensorflow"),
        machine.get("python"), " ".join("%.2f" % x for x in machine.get("load_average", [])))


def plot_scores(path, results, assignment):
    plt = cli.pyplot()
    totals = [r["total"] for r in results]
    possible = sum(i.points for i in assignment.items) or 1
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    bins = [possible * i / 10.0 for i in range(11)]
    ax.hist(totals, bins=bins, color="C0", edgecolor="white")
    for value, label in ((statistics.median(totals), "median") if totals else (None, None),):
        if value is not None:
            ax.axvline(value, color="C3", ls="--", lw=1, label="%s %.1f" % (label, value))
            ax.legend(loc="upper center")
    ax.set_xlim(0, possible)
    ax.set_xlabel("points (of %g)" % possible)
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("%s: %d submissions, %s tier" % (assignment.title, len(results),
                                                  assignment.tier), fontsize=10)
    fig.tight_layout()
    cli.save_figure(fig, path)
    return path


def overview(out_dir, results, assignment, machine, similar, wall_seconds, options_line):
    """overview.md and overview.html (with scores.png); returns the Markdown path."""
    png = plot_scores(os.path.join(out_dir, "scores.png"), results, assignment)
    totals = [r["total"] for r in results]
    possible = sum(i.points for i in assignment.items)
    lines = ["# Grading: %s" % assignment.title, "",
             "* assignment `%s`, %s tier; %d submissions; wall time %s" % (
                 _path(assignment.path), assignment.tier, len(results),
                 _duration(wall_seconds)),
             "* %s" % options_line,
             "* machine: %s" % machine_line(machine)]
    if totals:
        lines.append("* points (of %g): median %.1f, mean %.1f, lowest %.1f, highest %.1f"
                     % (possible, statistics.median(totals), statistics.mean(totals),
                        min(totals), max(totals)))
    lines += ["", "![score distribution](scores.png)", "",
              "| submission | verdict | points | report |", "|---|---|---|---|"]
    for res in results:
        lines.append("| %s | %s | %g / %g | [REPORT.md](submissions/%s/REPORT.md) |" % (
            res["id"], res["verdict"], res["total"], res["max_total"], res["id"]))
    lines += ["", "## Similar submissions", "",
              "A hint for the grader, never a penalty: pairs whose handed-in code is a "
              "near-copy after names, strings and layout are normalised and the reference "
              "tree's own code is left out (k-gram winnowing, as MOSS).", ""]
    if similar:
        lines += ["| pair | similarity | shared regions |", "|---|---|---|"]
        for pair in similar:
            regions = "; ".join("%s %s ~ %s %s" % (r["a_file"], r["a_lines"], r["b_file"],
                                                   r["b_lines"]) for r in pair["regions"][:4])
            lines.append("| %s ~ %s | %.0f %% | %s |" % (pair["a"], pair["b"],
                                                         100 * pair["similarity"], regions))
    else:
        lines.append("No pair above the threshold.")
    md = os.path.join(out_dir, "overview.md")
    cli.write_text(md, "\n".join(lines) + "\n")
    cli.write_text(os.path.join(out_dir, "overview.html"), _html(lines, png))
    return md


def _html(lines, png):
    """The Markdown overview as a plain HTML page (tables, list items, the picture)."""
    out = ["<!doctype html><meta charset='utf-8'><title>grading overview</title>",
           "<style>body{font-family:sans-serif;max-width:60em}td,th{border:1px solid #ccc;"
           "padding:2px 6px}table{border-collapse:collapse}</style>"]
    table = False
    for line in lines:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if set(line) <= set("|-"):
                continue
            if not table:
                out.append("<table>")
                table = True
            cells = [html.escape(c) for c in cells]
            cells = [c.replace("[REPORT.md](submissions/", "<a href='submissions/").replace(
                "/REPORT.md)", "/REPORT.md'>REPORT.md</a>") for c in cells]
            out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in cells))
            continue
        if table:
            out.append("</table>")
            table = False
        if line.startswith("# "):
            out.append("<h1>%s</h1>" % html.escape(line[2:]))
        elif line.startswith("## "):
            out.append("<h2>%s</h2>" % html.escape(line[3:]))
        elif line.startswith("* "):
            out.append("<li>%s</li>" % html.escape(line[2:]))
        elif line.startswith("!["):
            out.append("<img src='%s' alt='score distribution'>" % os.path.basename(png))
        elif line:
            out.append("<p>%s</p>" % html.escape(line))
    if table:
        out.append("</table>")
    return "\n".join(out) + "\n"
