#!/usr/bin/python3
"""Run bench_softmax, take medians of repetitions, print one markdown table and draw one chart.

Usage (from the repo root; benchmarks/run.sh builds the binary and calls this):
  /usr/bin/python3 benchmarks/report.py [--quick | --full | --smoke] [--bin PATH] [--out DIR]
                                        [--from-json FILE] [--benchmark_* flags for the binary]
Modes:
  --quick  (default) every shape, median of 3 repetitions of >= 0.1 s each: ~2 minutes here
  --full   every shape, median of 21 repetitions of >= 0.1 s each: ~14 minutes here
  (every mode runs the repetitions of all cases in random order: --benchmark_enable_random_interleaving)
  --smoke  one shape and one threads shape, minimal time (CI): proves the binary, the tables and
           the chart still work
Writes OUT/results.json (the binary's raw JSON, all repetitions), OUT/results.md (the table, then
the "Threads" table: Options::threads = 1 vs 2 by the wall clock) and OUT/results.png (the chart);
OUT defaults to benchmarks/results/ (smoke: a temp dir).
--from-json redraws the table and chart from an earlier results.json without running anything.

Needs Debian's python3-matplotlib, which belongs to /usr/bin/python3 (not to a pyenv python3).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = os.path.join(ROOT, "build", "bench", "benchmarks", "bench_softmax")

# (repetitions, --benchmark_min_time in seconds, --benchmark_filter)
MODES = {
    "quick": (3, 0.1, None),
    # 11 x 0.2 s rather than 5 x 0.5 s: on this shared host the "auto" column (the same code
    # as avx512) differed from avx512 by a median 2.1% (> 10% in 3 of 26 cases) against
    # 7.1% (12 of 26) in the run before it (session 11, two full runs back to back).
    # 21 x 0.1 s rather than 11 x 0.2 s: 1.3% (1 of 26) against 4.4% (5) and 4.3% (8) in
    # the two runs before it (session 12, Zen 5 host). Slowdowns here come in bursts that
    # hit some repetitions and not others; more of them keep the median off the bursts.
    "full": (21, 0.1, None),
    "smoke": (2, 0.01, "/4x4096$|^softmax_threads/auto/64x32000/"),
}
ISAS = ["scalar", "avx2", "avx512", "neon"]
COLUMNS = ISAS + ["auto", "naive", "onednn", "memcpy"]  # value columns, in this order
TITLES = {"onednn": "oneDNN"}
OPS = ["softmax", "log_softmax"]
NOT_AVAILABLE = "not available on this CPU"
NOISY = 0.10  # flag medians whose repetitions' coefficient of variation exceeds 10%
THREADS = "softmax_threads"  # softmax_threads/<impl>/<shape>/t<N>/...: Options::threads = N
THREAD_IMPLS = ["auto", "avx512", "avx2", "traffic"]


def cpu_model():
    """'model name' from /proc/cpuinfo, plus family/model numbers (VMs often hide the exact name)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, val = line.partition(":")
                info.setdefault(key.strip(), val.strip())
    except OSError:
        pass
    name = info.get("model name") or info.get("Model") or info.get("Hardware") or "unknown CPU"
    if "cpu family" in info and "model" in info:
        name += f" (family {info['cpu family']}, model {info['model']})"
    return name


def run_binary(binary, mode, extra_args, json_path):
    reps, min_time, filt = MODES[mode]
    cmd = [binary, f"--benchmark_repetitions={reps}", f"--benchmark_min_time={min_time}",
           f"--benchmark_out={json_path}", "--benchmark_out_format=json"]
    # Repetitions of all cases in random order, so that every case of a shape (ISAs,
    # oneDNN, memcpy, 1 or 2 threads) samples the same stretches of a noisy host:
    # one after the other, an early case and a late one can meet different hosts.
    cmd.append("--benchmark_enable_random_interleaving=true")
    if filt:
        cmd.append(f"--benchmark_filter={filt}")
    cmd += extra_args
    env = dict(os.environ, OMP_NUM_THREADS="1")  # oneDNN: one thread (the binary also sets it)
    env.pop("SIMDSOFTMAX_ISA", None)  # "auto" must mean the library's own choice
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, env=env, check=True)
    with open(json_path) as f:
        data = json.load(f)
    ctx = data["context"]
    # Keep the committed JSON free of this machine's paths and name.
    ctx["executable"] = os.path.relpath(os.path.abspath(binary), ROOT)
    ctx.pop("host_name", None)
    ctx["cpu_model"] = cpu_model()
    ctx["report_mode"] = f"{mode}: median of {reps} repetitions, each >= {min_time} s, in random order across cases"
    with open(json_path, "w") as f:
        json.dump(data, f, indent=1)
    return data


def parse(data):
    """{(op, impl, shape): Gelem/s or error text}, the keys whose repetitions spread by more than
    NOISY (coefficient of variation), oneDNN's implementation labels and the shape classes.
    softmax_threads cases are left to parse_threads."""
    samples, errors, labels, noisy = {}, {}, set(), set()
    for b in data["benchmarks"]:
        parts = b["run_name"].split("/")
        if parts[0] == THREADS:
            continue
        key = (None, "memcpy", parts[1]) if parts[0] == "memcpy" else tuple(parts[:3])
        if b.get("error_occurred"):
            errors[key] = b["error_message"]
        elif b["run_type"] == "aggregate":
            if b["aggregate_name"] == "median":
                samples[key] = [b["items_per_second"] / 1e9]
            elif b["aggregate_name"] == "cv" and b["items_per_second"] > NOISY:
                noisy.add(key)
        elif b["run_type"] == "iteration" and b.get("repetitions", 1) == 1:
            samples[key] = [b["items_per_second"] / 1e9]  # no aggregates for a single repetition
        if key[1] == "onednn" and b.get("label"):
            labels.add(b["label"])
    values = {k: statistics.median(v) for k, v in samples.items()}
    values.update({k: e for k, e in errors.items() if k not in values})
    classes = []  # [(class name, [shape, ...])]
    for part in data["context"]["shape_classes"].split(";"):
        name, shapes = part.split("=")
        classes.append((name, shapes.split(",")))
    return values, noisy, labels, classes


def parse_threads(data):
    """{(impl, shape, threads): (Gelem/s by the wall clock, process CPU time / wall time) or error
    text} from the softmax_threads cases (medians of the repetitions), and the noisy keys."""
    values, noisy = {}, set()
    for b in data["benchmarks"]:
        parts = b["run_name"].split("/")  # softmax_threads/auto/4096x4096/t2/process_time/real_time
        if parts[0] != THREADS:
            continue
        key = (parts[1], parts[2], int(parts[3].lstrip("t")))
        if b.get("error_occurred"):
            values.setdefault(key, b["error_message"])
        elif b["run_type"] == "aggregate":
            if b["aggregate_name"] == "median":
                values[key] = (b["items_per_second"] / 1e9, b["cpu_time"] / b["real_time"])
            elif b["aggregate_name"] == "cv" and b["items_per_second"] > NOISY:
                noisy.add(key)
        elif b["run_type"] == "iteration" and b.get("repetitions", 1) == 1:
            values[key] = (b["items_per_second"] / 1e9, b["cpu_time"] / b["real_time"])
    return values, noisy


def build_threads_table(data, values, noisy):
    """The "Threads" section: a row per shape and ISA, Gelem/s per thread count, the speedups over
    one thread and how many threads were busy. Empty when no softmax_threads case ran."""
    if not values:
        return ""
    ctx = data["context"]
    order = ctx.get("thread_shapes", "").split(",")
    shapes = sorted({k[1] for k in values}, key=lambda s: (order.index(s) if s in order else len(order), s))
    counts = sorted({k[2] for k in values})
    more = [n for n in counts if n > 1]
    hdr = (["shape", "isa"] + [f"t{n} Gelem/s" for n in counts] + [f"t{n} ÷ t1" for n in more]
           + [f"CPU ÷ wall, t{n}" for n in counts])
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(hdr) - 2)) + "|"]
    skipped = {}
    for shape in shapes:
        for impl in THREAD_IMPLS:
            cells = [values.get((impl, shape, n)) for n in counts]
            if all(c is None for c in cells):
                continue
            errors = [c for c in cells if isinstance(c, str)]
            if errors and any(NOT_AVAILABLE in e for e in errors):
                continue  # an ISA this CPU lacks: no row
            for e in dict.fromkeys(errors):
                skipped.setdefault(e, []).append(f"{impl}/{shape}")
            gelem = {n: c[0] for n, c in zip(counts, cells) if isinstance(c, tuple)}
            busy = {n: c[1] for n, c in zip(counts, cells) if isinstance(c, tuple)}
            row = [shape, impl]
            for n, c in zip(counts, cells):
                row.append(fmt(gelem[n]) + ("*" if (impl, shape, n) in noisy else "") if n in gelem
                           else ("skipped" if c else "–"))
            row += [fmt(ratio(gelem.get(n), gelem.get(1))) for n in more]
            row += [fmt(busy.get(n), 1) for n in counts]
            lines.append("| " + " | ".join(row) + " |")
    head = [
        "### Threads",
        "",
        "`Options::threads` = N (`tN`), softmax through the public API, same run and repetitions as above.",
        "Gelem/s here come from the wall clock, not CPU time: the other threads' work does not show in",
        "the calling thread's CPU time. `tN ÷ t1`: speedup of N threads over one, from the medians.",
        "`CPU ÷ wall`: the whole process's CPU time over wall time at N threads: about N when N",
        "threads ran the whole time (waiting at a barrier counts too), below N when other processes",
        "took the cores. Speedups need idle cores: see the load average above.",
        "`traffic`: not softmax but the bytes the library moves for that shape (x read, twice for",
        "rows of 2^22 floats and more; y streamed), with no arithmetic, split across N threads the",
        "same way: its `tN ÷ t1` is how much more memory bandwidth N threads get here, the ceiling",
        "of a speedup once the data is past the caches.",
        "",
    ]
    notes = [f"{', '.join(names)}: {why}" for why, names in skipped.items()]
    tail = ["", "Skipped: " + "; ".join(notes)] if notes else []
    return "\n".join(head + lines + tail) + "\n"


def threads_summary(values):
    """'4096x4096 1.93×, ...': auto's speedup at the largest thread count, for the chart."""
    counts = sorted({k[2] for k in values if k[0] == "auto"})
    if len(counts) < 2 or counts[0] != 1:
        return ""
    n, parts = counts[-1], []
    for shape in dict.fromkeys(k[1] for k in values if k[0] == "auto"):
        a, b = values.get(("auto", shape, n)), values.get(("auto", shape, 1))
        if isinstance(a, tuple) and isinstance(b, tuple) and b[0] > 0:
            parts.append(f"{shape} {a[0] / b[0]:.2f}×")
    return f"Options::threads = {n} vs 1 (auto, wall clock): " + ", ".join(parts) if parts else ""


def get(values, op, impl, shape):
    v = values.get((None if impl == "memcpy" else op, impl, shape))
    return v if isinstance(v, float) else None


def fmt(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def build_table(data, values, noisy, labels, classes):
    ctx = data["context"]
    ran = {k for k in values}
    shapes = {s for _, ss in classes for s in ss if any(k[2] == s for k in ran)}
    # A column shows up if anything in it ran (an ISA this CPU lacks has no column).
    cols = [c for c in COLUMNS if any(isinstance(v, float) for k, v in values.items() if k[1] == c)]
    isas = [c for c in ISAS if c in cols]
    ratio_cols = []  # (header, numerator column, denominator column)
    simd = [i for i in isas if i != "scalar"]
    for ref, num in (("scalar", simd), ("naive", isas), ("onednn", simd), ("memcpy", simd)):
        if ref in cols:
            ratio_cols += [(f"{i} ÷ {TITLES.get(ref, ref)}", i, ref) for i in num]

    hdr = ["set", "shape", "op"] + [TITLES.get(c, c) for c in cols] + [h for h, _, _ in ratio_cols]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(hdr) - 3)) + "|"]
    notes = {}  # benchmark name -> why it was skipped
    for cls, class_shapes in classes:
        first = True
        for shape in class_shapes:
            if shape not in shapes:
                continue
            for op in OPS:
                row = [f"**{cls}**" if first else "", shape, op]
                first = False
                for c in cols:
                    v = values.get((None if c == "memcpy" else op, c, shape))
                    if isinstance(v, str):
                        notes["/".join(k for k in (None if c == "memcpy" else op, c, shape) if k)] = v
                    mark = "*" if (None if c == "memcpy" else op, c, shape) in noisy else ""
                    row.append(fmt(v) + mark if isinstance(v, float) else ("skipped" if v else "–"))
                for _, num, den in ratio_cols:
                    row.append(fmt(ratio(get(values, op, num, shape), get(values, op, den, shape))))
                lines.append("| " + " | ".join(row) + " |")

    missing = [c for c in ISAS if c not in cols]
    onednn = ctx.get("onednn", "not built in")
    if "onednn" in cols:
        onednn = f"{onednn}, implementation picked: {', '.join(sorted(labels)) or 'unknown'}"
    llc = int(ctx.get("llc_bytes", 0))
    head = [
        f"## simdsoftmax benchmark: {ctx.get('cpu_model', cpu_model())}",
        "",
        f"- {ctx.get('report_date', '')}, {ctx.get('compiler', '?')}, single thread (but the Threads table), {ctx.get('report_mode', '?')}",
        f"- ISAs run: {', '.join(isas)}; auto (dispatched) = {ctx.get('simdsoftmax_auto', '?')}"
        + (f"; not available on this CPU: {', '.join(missing)}" if missing else ""),
        f"- oneDNN: {onednn}",
        f"- Largest cache reported: {llc / 2**20:.0f} MiB; 'beyond-llc' is sized past it",
        f"- Command: `{ctx.get('report_command', 'benchmarks/run.sh')}`; load average at start: "
        + ", ".join(f"{x:.2f}" for x in ctx.get("load_avg", [])),
        "",
        "Gelem/s = 10^9 row elements per second, from CPU time (higher is better; 8 bytes move per",
        "element). `naive` is a plain three-pass std::exp loop; `memcpy` copies the same bytes (the",
        "memory floor). `a ÷ b` columns are speed ratios (> 1: a is faster). `*`: the repetitions",
        f"spread by more than {NOISY:.0%} (coefficient of variation), so that median is less sure.",
        "",
    ]
    notes = [f"{name}: {why}" for name, why in notes.items() if NOT_AVAILABLE not in why]
    tail = ["", "Skipped: " + "; ".join(notes)] if notes else []
    if len(lines) == 2:  # e.g. --benchmark_filter=threads: only the Threads table ran
        head, lines = head[:-6], []
    return "\n".join(head + lines + tail) + "\n"


def plot(data, values, classes, png_path, footnote=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker as ticker

    ctx = data["context"]
    cols = [c for c in COLUMNS if any(isinstance(v, float) for k, v in values.items() if k[1] == c)]
    colors = dict(zip(COLUMNS, ["tab:gray", "tab:blue", "tab:red", "tab:purple",
                                "black", "tab:brown", "tab:green", "tab:olive"]))
    panels = [(n, ss) for n, ss in classes if any(k[2] in ss for k in values)]
    widths = [max(2, len(shapes)) for _, shapes in panels]  # a panel's width follows its shape count
    fig, axes = plt.subplots(1, len(panels), figsize=(0.8 * sum(widths) + 3, 4.8), sharey=True,
                             squeeze=False, gridspec_kw={"width_ratios": widths})
    for ax, (cls, shapes) in zip(axes[0], panels):
        for c in cols:
            for op, line in (("softmax", "-"), ("log_softmax", ":")):
                pts = sorted((int(s.split("x")[1]), get(values, op, c, s)) for s in shapes)
                pts = [(x, y) for x, y in pts if y is not None]
                if not pts or (c == "memcpy" and op != "softmax"):
                    continue
                # "auto" runs the same kernel as one ISA line: crosses on top of that line.
                ax.plot(*zip(*pts), linestyle="none" if c == "auto" else line,
                        marker="x" if c == "auto" else "o", ms=5, color=colors[c],
                        label=TITLES.get(c, c) if op == "softmax" else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.set_title(cls)
        ax.set_xlabel("row length (cols)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("Gelem/s (higher is better)")
    axes[0][-1].legend(title="solid: softmax\ndotted: log_softmax", fontsize=8, title_fontsize=8,
                       loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"simdsoftmax, one thread: {ctx.get('cpu_model', cpu_model())}, {ctx.get('compiler', '?')}, "
                 f"{ctx.get('report_date', '')}", fontsize=10)
    if footnote:
        fig.text(0.01, 0.01, footnote, fontsize=8, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04 if footnote else 0, 1, 1))
    fig.savefig(png_path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    for m in MODES:
        mode.add_argument(f"--{m}", dest="mode", action="store_const", const=m)
    ap.add_argument("--bin", default=DEFAULT_BIN, help="benchmark binary (default: build/bench/benchmarks/bench_softmax)")
    ap.add_argument("--out", help="output directory (default benchmarks/results, smoke: a temp dir)")
    ap.add_argument("--from-json", help="redraw from this results.json instead of running")
    args, extra = ap.parse_known_args()
    mode = args.mode or "quick"
    bad = [a for a in extra if not a.startswith("--benchmark_")]
    if bad:
        ap.error(f"unknown arguments: {' '.join(bad)}")
    out = args.out or (tempfile.mkdtemp(prefix="simdsoftmax-bench-") if mode == "smoke"
                       else os.path.join(ROOT, "benchmarks", "results"))
    os.makedirs(out, exist_ok=True)
    json_path = os.path.join(out, "results.json")

    if args.from_json:
        with open(args.from_json) as f:
            data = json.load(f)
        if os.path.abspath(args.from_json) != os.path.abspath(json_path):
            with open(json_path, "w") as f:
                json.dump(data, f, indent=1)
    else:
        if not os.path.exists(args.bin):
            sys.exit(f"report.py: no benchmark binary at {args.bin}; build it with benchmarks/run.sh")
        data = run_binary(args.bin, mode, extra, json_path)
        ctx = data["context"]
        ctx["report_date"] = datetime.date.today().isoformat()
        flag = "" if mode == "quick" else f" --{mode}"
        ctx["report_command"] = f"benchmarks/run.sh{flag}" + "".join(" " + a for a in extra)
        with open(json_path, "w") as f:
            json.dump(data, f, indent=1)

    values, noisy, labels, classes = parse(data)
    thread_values, thread_noisy = parse_threads(data)
    charted = any(isinstance(v, float) for v in values.values())  # else only the Threads table ran
    if not charted and not any(isinstance(v, tuple) for v in thread_values.values()):
        sys.exit("report.py: no benchmark produced a number")
    table = build_table(data, values, noisy, labels, classes)
    threads_table = build_threads_table(data, thread_values, thread_noisy)
    if mode == "smoke" and not args.from_json and "| auto |" not in threads_table:
        sys.exit("report.py --smoke: no softmax_threads/auto result, so no Threads table")
    md_path, png_path = os.path.join(out, "results.md"), os.path.join(out, "results.png")
    with open(md_path, "w") as f:
        f.write(table + ("\n![Gelem/s vs row length](results.png)\n" if charted else ""))
        if threads_table:
            f.write("\n" + threads_table)
    if charted:
        plot(data, values, classes, png_path, threads_summary(thread_values))
        with open(png_path, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                sys.exit(f"report.py: {png_path} is not a PNG")
    print("\n" + table + ("\n" + threads_table if threads_table else ""))
    print(f"wrote {json_path}, {md_path}" + (f", {png_path}" if charted else " (no chart: no single-thread case ran)"))


if __name__ == "__main__":
    main()
