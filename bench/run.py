#!/usr/bin/env python3
"""imgresize benchmark driver: the engine against its peers, side by side, in one run on one core.

    python3 bench/run.py            full run -> bench/report.md, bench/chart.svg, bench/out/results.json
    python3 bench/run.py --quick    smoke test: one image, 3 runs -> bench/out/report-quick.md (< 60 s)

Run bench/setup.sh first. See bench/README.md for the contenders, the worker protocol and how to read the report.
"""
from __future__ import annotations

import argparse
import atexit
import datetime
import glob
import http.server
import json
import math
import os
import platform
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import renditions as renditions_bench  # noqa: E402  (bench/renditions.py: the renditions workload)
ROOT = BENCH.parent
RELEASE = ROOT / "target" / "x86_64-unknown-linux-gnu" / "release"
TOOLS = Path(os.environ.get("IMGRESIZE_BENCH_TOOLS", ROOT / ".tools" / "bench"))
WORKERS = BENCH / "workers"
PNG_SOURCE = "olympus-e-p3-4032x3024.jpg"  # the 12 MP photo the lossless PNG input is made from
QUICK_IMAGE = PNG_SOURCE


# ----------------------------------------------------------------------------------------------- bootstrap
def ensure_driver_python() -> None:
    """The driver needs Pillow (reference images, the PNG input): run under the bench's Pillow venv."""
    venv = TOOLS / "venv-pillow"
    py = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    if not py.exists():
        sys.exit(f"bench: {py.relative_to(ROOT) if py.is_relative_to(ROOT) else py} not found: run bench/setup.sh first")
    if os.environ.get("IMGRESIZE_BENCH_REEXEC"):
        sys.exit("bench: could not re-execute under the Pillow venv")
    os.environ["IMGRESIZE_BENCH_REEXEC"] = "1"
    os.execv(str(py), [str(py), str(Path(__file__).resolve())] + sys.argv[1:])


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def rel(p: Path) -> str:
    """A path for humans and for the report: relative to the repo root, never a machine path."""
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return Path(p).name


# ----------------------------------------------------------------------------------------------- processes
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


def spawn(argv, **kw) -> subprocess.Popen:
    """Start a process in its own process group and remember it, so that every one is killed on exit."""
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    with _LIVE_LOCK:
        _LIVE.add(p)
    return p


def kill(p: subprocess.Popen) -> None:
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    with _LIVE_LOCK:
        _LIVE.discard(p)


def kill_all() -> None:
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        kill(p)


def _on_signal(signum, _frame):
    kill_all()
    raise KeyboardInterrupt(f"signal {signum}")


class WorkerError(Exception):
    pass


class Worker:
    """A long-lived contender process speaking the JSON-lines protocol, pinned to one core."""

    def __init__(self, contender: "Contender", core: int, log_dir: Path):
        self.c = contender
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr = open(log_dir / f"{contender.key}.stderr.log", "ab")
        self.proc = spawn(
            ["taskset", "-c", str(core)] + contender.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=contender.cwd,
            env=contender.env,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def request(self, obj: dict, timeout: float) -> dict:
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise WorkerError(f"cannot write to worker: {e} (exit code {self.proc.poll()})")
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerError(f"no reply within {timeout:g} s")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                raise WorkerError(f"no reply within {timeout:g} s")
            if line is None:
                try:
                    rc = self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    rc = None
                raise WorkerError(f"worker exited (code {rc}); see bench/out/logs/{self.c.key}.stderr.log")
            try:
                reply = json.loads(line)
            except ValueError:
                reply = None
            if isinstance(reply, dict) and "ok" in reply:
                return reply
            self.stderr.write(b"[bench] ignored non-protocol stdout line: " + line)  # e.g. a stray log line

    def close(self, graceful=True):
        if graceful and self.proc.poll() is None:
            try:
                self.request({"op": "quit"}, timeout=5)
                self.proc.wait(timeout=5)
            except (WorkerError, subprocess.TimeoutExpired):
                pass
        kill(self.proc)
        self.stderr.close()


# ----------------------------------------------------------------------------------------------- contenders
class Contender:
    def __init__(self, key, label, what, argv, oneshot, env=None, cwd=None, version=None, skip=None, extra=None):
        self.key, self.label, self.what = key, label, what
        self.extra = extra or {}  # fields added to every "run" request (imgresize's "color")
        self.argv, self.oneshot = argv, oneshot  # oneshot(in, out, size, quality) -> argv
        self.env = env
        self.cwd = cwd
        self.version_argv = version
        self.skip = skip  # reason it cannot run, or None
        self.version = "?"


def base_env() -> dict:
    env = dict(os.environ)
    env.pop("IMGRESIZE_BENCH_REEXEC", None)
    # one thread everywhere; the process is also pinned to one core with taskset
    env.update(VIPS_CONCURRENCY="1", UV_THREADPOOL_SIZE="1", OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def shrink_on_load_margin() -> float:
    """The engine's SHRINK_ON_LOAD_MARGIN, read from its one source, so the equal-scale Pillow-SIMD follows it."""
    src = (ROOT / "lambda" / "src" / "engine" / "decode" / "jpeg.rs").read_text()
    m = re.search(r"pub const SHRINK_ON_LOAD_MARGIN: f64 = ([0-9.]+);", src)
    if not m:
        sys.exit("bench: SHRINK_ON_LOAD_MARGIN not found in lambda/src/engine/decode/jpeg.rs")
    return float(m.group(1))


def make_contenders(args) -> list[Contender]:
    env = base_env()
    margin = shrink_on_load_margin()
    py = lambda venv: str(TOOLS / f"venv-{venv}" / "bin" / "python")  # noqa: E731
    pyw = str(WORKERS / "pyworker.py")

    def pyc(key, label, what, venv, recipe, version_code, extra_argv=()):
        exe = py(venv)
        recipe_argv = [exe, pyw, "--recipe", recipe, *extra_argv]
        return Contender(
            key, label, what,
            recipe_argv,
            lambda i, o, s, q: recipe_argv + ["--once", i, o, "--size", str(s), "--quality", str(q)],
            env=env, version=[exe, "-c", version_code],
            skip=None if Path(exe).exists() else f"venv-{venv} missing (run bench/setup.sh)",
        )

    pil_version = "import PIL, PIL.features as f; print(f'Pillow {PIL.__version__}, libjpeg-turbo {f.version(\"libjpeg_turbo\")}')"
    simd_version = ("import PIL, PIL.features as f; print(f'Pillow-SIMD {PIL.__version__}, libjpeg-turbo "
                    "{f.version(\"libjpeg_turbo\")}')")
    vips_version = ("import pyvips as v; print(f'pyvips {v.__version__} ({\"API\" if v.API_mode else \"ABI\"} mode), "
                    "libvips {v.version(0)}.{v.version(1)}.{v.version(2)}')")
    turbo_version = "import turbojpeg as t; print(f'PyTurboJPEG {t.__version__}')"

    rust_bin = Path(args.imgresize_bin)
    rust = Contender(
        "imgresize", "imgresize", "this project: `imgresize bench-worker` (Rust engine, in process)",
        [str(rust_bin), "bench-worker"],
        lambda i, o, s, q: [str(rust_bin), "resize", "--size", str(s), "--quality", str(q), i, o],
        env=env, version=[str(rust_bin), "--version"],
        skip=None if os.access(rust_bin, os.X_OK) else f"{rel(rust_bin)} not built (scripts/build.sh x86_64)",
    )
    node_dir = TOOLS / "node"
    sharp_js = str(WORKERS / "sharp_worker.js")
    sharp = Contender(
        "sharp", "sharp", "sharp (npm, own libvips + mozjpeg): "
        "`.rotate().resize(1000, 1000, {fit: 'inside', withoutEnlargement: true}).jpeg({quality: 82})`, concurrency(1), cache(false)",
        ["node", sharp_js],
        lambda i, o, s, q: ["node", sharp_js, "--once", i, o, "--size", str(s), "--quality", str(q)],
        env=env, cwd=str(node_dir),
        version=["node", "-e", "const s=require('sharp');console.log(`sharp ${s.versions.sharp}, libvips "
                               "${s.versions.vips}, mozjpeg ${s.versions.mozjpeg}`)"],
        skip=None if (node_dir / "node_modules" / "sharp").is_dir() and shutil.which("node")
        else "sharp not installed (run bench/setup.sh)",
    )
    all_ = [
        rust,
        pyc("pillow", "Pillow (tutorial)", "Pillow the AWS-tutorial way: `Image.open` → `resize((w, h), LANCZOS)` → "
            "`save(quality=82)` (the seed's code; ignores EXIF orientation)", "pillow", "pillow-tutorial", pil_version),
        pyc("pillow-thumbnail", "Pillow thumbnail()", "Pillow `thumbnail((1000, 1000))` with its defaults (JPEG draft "
            "to ≥ 2× the box, BICUBIC, reducing_gap=2.0), EXIF orientation applied", "pillow", "pillow-thumbnail",
            pil_version),
        pyc("pillow-simd", "Pillow-SIMD + draft", "Pillow-SIMD (AVX2 build): `draft('RGB', (w, h))` to the largest DCT "
            "scale (1/2, 1/4, 1/8) still covering the box, then `resize(LANCZOS)`, EXIF orientation applied (kept as a "
            "reference: that scale is cheaper and its DSSIM worse than imgresize's)",
            "pillow-simd", "pillow-simd-draft", simd_version),
        pyc("pillow-simd-eq", "Pillow-SIMD + draft at imgresize's scale", "Pillow-SIMD (AVX2 build): `draft` to the DCT "
            f"scale imgresize decodes at (the largest 1/2, 1/4, 1/8 whose long edge still covers {margin:g}× the box: "
            "`SHRINK_ON_LOAD_MARGIN`, read from lambda/src/engine/decode/jpeg.rs), then `resize(LANCZOS)`, EXIF "
            "orientation applied: the same quality budget as imgresize", "pillow-simd", "pillow-simd-engine-scale",
            simd_version, ("--margin", str(margin))),
        pyc("pyvips", "pyvips thumbnail", "pyvips `Image.thumbnail_buffer(data, 1000, height=1000, size='down')` → "
            "`jpegsave_buffer(Q=82, strip)` on Debian's libvips, cache off, VIPS_CONCURRENCY=1", "pyvips", "pyvips",
            vips_version),
        sharp,
        pyc("floor", "floor (libjpeg-turbo)", "the floor: libjpeg-turbo's TurboJPEG API via PyTurboJPEG, in process: "
            "decode at the smallest M/8 scale whose result covers the box, encode that at q82 4:2:0 (no resampling, "
            "no orientation; JPEG input only)", "turbo", "floor-turbojpeg", turbo_version),
    ]
    if args.only:
        keep = set(args.only.split(","))
        unknown = keep - {c.key for c in all_}
        if unknown:
            sys.exit(f"bench: unknown contender(s) {sorted(unknown)}; known: {[c.key for c in all_]}")
        all_ = [c for c in all_ if c.key in keep]
    return all_


def probe_versions(contenders):
    for c in contenders:
        if c.skip or not c.version_argv:
            continue
        p = None
        try:
            p = spawn(c.version_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=c.cwd, env=c.env)
            so, se = p.communicate(timeout=15)
            out = (so.decode(errors="replace").strip() or se.decode(errors="replace").strip()).splitlines()
            c.version = out[0] if p.returncode == 0 and out else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            c.version = "unknown"
        finally:
            if p:
                kill(p)
    dpkg = deb_version("libturbojpeg0")
    for c in contenders:
        if c.key == "floor" and dpkg:
            c.version += f", libturbojpeg {dpkg} (Debian)"


def deb_version(pkg):
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


# ----------------------------------------------------------------------------------------------- images
class Img:
    def __init__(self, path: Path, kind: str, source: str | None = None):
        self.path, self.kind = path, kind  # kind: "jpeg" (photos/) or "png"
        self.name = path.name
        self.source = source  # for the PNG: the photo it was made from
        from PIL import Image

        with Image.open(path) as im:
            self.w, self.h = im.size
            self.orientation = im.getexif().get(0x0112, 1) or 1
        self.mp = self.w * self.h / 1e6
        self.bytes = path.stat().st_size


def corpus_dir(args) -> Path:
    c = args.corpus or os.environ.get("IMGRESIZE_CORPUS") or str(ROOT.parent / "shared" / "corpus")
    p = Path(c)
    if not (p / "photos").is_dir():
        if args.quick:
            # The smoke test in `make test` must skip, not fail, where ../shared is not beside the repo.
            print(f"bench: SKIPPED: no corpus at {c!r} (photos/ missing): set IMGRESIZE_CORPUS or --corpus")
            sys.exit(0)
        sys.exit(f"bench: no corpus at {c!r} (photos/ missing): set IMGRESIZE_CORPUS or --corpus")
    return p


def make_png(src: Path, out_dir: Path) -> Path:
    """The lossless PNG input, made once from the 12 MP photo with Pillow (no metadata), cached."""
    from PIL import Image

    dst = out_dir / "inputs" / (src.stem + "-lossless.png")
    if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    log(f"making {rel(dst)} from {src.name} (once)")
    with Image.open(src) as im:
        tmp = dst.with_suffix(".tmp")
        im.convert("RGB").save(tmp, "PNG")
    tmp.replace(dst)
    return dst


def pick_images(args, corpus: Path, out_dir: Path) -> list[Img]:
    photos = sorted(p for p in (corpus / "photos").iterdir() if p.is_file())
    src = corpus / "photos" / PNG_SOURCE
    if args.quick:
        photos = [src]
    imgs = [Img(p, "jpeg") for p in photos]
    if not args.quick and src.exists():
        imgs.append(Img(make_png(src, out_dir), "png", source=src.name))
    if args.images:
        pats = args.images.split(",")
        imgs = [i for i in imgs if any(pat in i.name for pat in pats)]
    if not imgs:
        sys.exit("bench: no images selected")
    return imgs


def fit(w, h, size):
    if w <= size and h <= size:
        return w, h
    if w >= h:
        return size, max(1, round(h * size / w))
    return max(1, round(w * size / h)), size


# ----------------------------------------------------------------------------------------------- statistics
def stats(xs: list[float]) -> dict | None:
    if not xs:
        return None
    s = sorted(xs)
    n = len(s)
    med = statistics.median(s)
    if n >= 2:
        q1, _, q3 = statistics.quantiles(s, n=4, method="inclusive")
    else:
        q1 = q3 = s[0]
    # ~95 % distribution-free confidence interval of the median (order statistics): the "noise" of the median
    lo = max(0, math.floor((n - 1.96 * math.sqrt(n)) / 2))
    hi = min(n - 1, math.ceil(1 + (n + 1.96 * math.sqrt(n)) / 2) - 1)
    return {"n": n, "median": med, "q1": q1, "q3": q3, "iqr": q3 - q1, "min": s[0], "max": s[-1],
            "ci_lo": s[lo], "ci_hi": s[hi], "noise": (s[hi] - s[lo]) / 2}


def compare(a: dict, b: dict, k: float = 1.0) -> tuple[str, float, float]:
    """Is median(a) <= k * median(b)? A difference under the combined noise of both medians is a tie."""
    d = a["median"] - k * b["median"]
    noise = math.hypot(a["noise"], k * b["noise"])
    ratio = a["median"] / b["median"] if b["median"] else float("inf")
    if abs(d) <= noise:
        return "tie (within noise)", ratio, noise / b["median"] if b["median"] else 0
    return ("met" if d < 0 else "not met"), ratio, noise / b["median"] if b["median"] else 0


# ----------------------------------------------------------------------------------------------- timing
def time_contenders(args, contenders, imgs, out_dir) -> dict:
    """Interleaved, rotated runs: per image, each round runs every contender once, the order rotating."""
    res = {c.key: {} for c in contenders}
    live = [c for c in contenders if not c.skip]
    workers: dict[str, Worker] = {}
    respawns = {c.key: 0 for c in live}
    log_dir = out_dir / "logs"

    def get(c):
        if c.key not in workers:
            workers[c.key] = Worker(c, args.core, log_dir)
        return workers[c.key]

    def drop(c, why):
        w = workers.pop(c.key, None)
        if w:
            w.close(graceful=False)  # it timed out or died: no polite quit
        respawns[c.key] += 1
        log(f"  {c.key}: {why}")

    try:
        for img in imgs:
            cells = {}
            active = []
            for c in live:
                if respawns[c.key] > 3:
                    res[c.key][img.name] = {"error": "worker failed repeatedly; skipped"}
                    continue
                cell = cells[c.key] = {"samples": []}
                res[c.key][img.name] = cell
                try:
                    r = get(c).request({"op": "load", "id": img.name, "path": str(img.path)}, args.startup_timeout)
                    if not r.get("ok"):
                        cell["error"] = f"load: {r.get('error')}"
                        continue
                    active.append(c)
                except WorkerError as e:
                    cell["error"] = f"load: {e}"
                    drop(c, f"load failed: {e}")
            outdir = out_dir / "outputs"
            for rnd in range(1 + args.runs):  # round 0 is the warm-up, not recorded
                k = rnd % len(active) if active else 0
                for c in active[k:] + active[:k]:
                    cell = cells[c.key]
                    if "error" in cell:
                        continue
                    req = {"op": "run", "id": img.name, "size": args.size, "quality": args.quality, "out": None,
                           **c.extra}
                    if rnd == 0:
                        (outdir / c.key).mkdir(parents=True, exist_ok=True)
                        ext = "avif" if c.extra.get("format") == "avif" else "jpg"
                        req["out"] = str(outdir / c.key / f"{Path(img.name).stem}.{ext}")
                    try:
                        r = workers[c.key].request(req, args.timeout)
                    except WorkerError as e:
                        cell["error"] = str(e)
                        drop(c, f"{img.name}: {e}")
                        continue
                    if not r.get("ok"):
                        cell["error"] = str(r.get("error"))
                        continue
                    if rnd == 0:
                        cell.update(out=req["out"], bytes=r.get("bytes"), width=r.get("width"), height=r.get("height"),
                                    warmup_ms=r.get("ms"))
                    else:
                        cell["samples"].append(float(r["ms"]))
            line = []
            for c in live:
                cell = res[c.key].get(img.name, {})
                st = stats(cell.get("samples", []))
                cell["stats"] = st
                line.append(f"{c.key} {st['median']:.1f}" if st else f"{c.key} –")
            log(f"{img.name}: " + ", ".join(line) + " (median ms)")
    finally:
        for w in list(workers.values()):
            w.close()
    return res


# ----------------------------------------------------------------------------------------------- colour
COLOUR_INPUTS = ["prophoto-rgb.jpg", "adobe-rgb.png", "wide-gamut-rgb.webp", "cmyk-default-profile.jpg",
                 "srgb-tagged.jpg"]


def colour_judge():
    """The colour tests' judge (LittleCMS through Pillow's ImageCms), loaded from its one file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("colour_judge", ROOT / "lambda/tests/support/colour_judge.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def colour_step(args, contenders, corpus: Path, out_dir: Path) -> dict | None:
    """What the colour step costs and what it buys: imgresize with COLOR=srgb (converts) and COLOR=keep (no
    conversion) side by side with sharp (converts to sRGB by default) and the tutorial's Pillow (drops the profile)
    on ../shared/corpus/colour, each output's colours judged against the LittleCMS reference."""
    folder = corpus / "colour"
    if not folder.is_dir():
        log("colour: SKIPPED (no colour/ in the corpus)")
        return None
    by_key = {c.key: c for c in contenders}
    chosen = []
    if "imgresize" in by_key:
        rust = by_key["imgresize"]
        chosen.append(rust)
        keep = Contender("imgresize-keep", "imgresize keep", "imgresize with `color: keep`", rust.argv, rust.oneshot,
                         env=rust.env, version=rust.version_argv, skip=rust.skip, extra={"color": "keep"})
        keep.version = rust.version
        chosen.append(keep)
    chosen += [by_key[k] for k in ("sharp", "pillow") if k in by_key]
    imgs = [Img(folder / name, "colour") for name in COLOUR_INPUTS if (folder / name).is_file()]
    if not chosen or not imgs:
        return None
    log(f"colour: {len(imgs)} image(s) × {len(chosen)} contender(s)")
    res = time_contenders(args, chosen, imgs, out_dir / "colour")
    judge = colour_judge()
    for c in chosen:
        for img in imgs:
            cell = res[c.key].get(img.name, {})
            if cell.get("out"):
                stem = img.name.rsplit(".", 1)[0]
                verdict = judge.judge({"output": cell["out"], "reference": str(folder / f"{stem}.srgb-reference.png")})
                cell["colour_mean"], cell["colour_p95"] = verdict["mean"], verdict["p95"]
    return {"contenders": chosen, "imgs": imgs, "res": res}


def write_colour_section(w, colour):
    w("## Colour step\n")
    if not colour:
        w("Not measured (no `colour/` in the corpus, or no contender to run).\n")
        return
    cons, imgs, res = colour["contenders"], colour["imgs"], colour["res"]
    w("The colour corpus (1200×900, each with its profile embedded) fitted into the same box. imgresize's colour step "
      "is the difference between `color: srgb` (the default: convert to sRGB, no profile) and `color: keep` (embed "
      "the profile, convert nothing; CMYK is converted either way). Colour error: mean absolute difference of "
      "40×30 block means from the LittleCMS sRGB reference, each output seen through its own profile "
      "(`lambda/tests/support/colour_judge.py`; the tests require ≤ 1.5).\n")
    w("| image | " + " | ".join(f"{c.label} ms" for c in cons) + " | colour step ms | "
      + " | ".join(f"{c.label} colour error" for c in cons) + " |")
    w("|---|" + "---:|" * (2 * len(cons) + 1))
    for img in imgs:
        cells = [res[c.key].get(img.name, {}) for c in cons]
        times = [fmt_ms(cell.get("stats")) if cell.get("stats") else "n/a" for cell in cells]
        medians = {c.key: cell["stats"]["median"] for c, cell in zip(cons, cells) if cell.get("stats")}
        step = (f"{medians['imgresize'] - medians['imgresize-keep']:+.1f}"
                if {"imgresize", "imgresize-keep"} <= medians.keys() else "n/a")
        errors = [f"{cell['colour_mean']:.2f}" if cell.get("colour_mean") is not None else "n/a" for cell in cells]
        w(f"| {img.name} | " + " | ".join(times) + f" | {step} | " + " | ".join(errors) + " |")
    w("")


# ----------------------------------------------------------------------------------------------- AVIF
AVIF_MP = (8.0, 12.5)  # the 8–12 MP photos
# imgresize's AVIF at the default request quality and, for the matched-DSSIM comparison, at these too: its bytes
# and time at sharp's DSSIM are interpolated between the two points that bracket it.
AVIF_CURVE_QUALITIES = (76, 88)


def avif_step(args, contenders, imgs, out_dir: Path) -> dict | None:
    """One AVIF fitted into the box from each 8–12 MP photo: imgresize (rav1e through ravif, the request's
    default quality and speed chosen by its time budget) against sharp's `.avif()` with its defaults (libaom,
    quality 50, effort 4), timed, sized and scored like the JPEG task."""
    by_key = {c.key: c for c in contenders if not c.skip}
    photos = [i for i in imgs if i.kind == "jpeg" and AVIF_MP[0] <= i.mp <= AVIF_MP[1]]
    if "imgresize" not in by_key or "sharp" not in by_key or not photos:
        log("AVIF: SKIPPED (needs imgresize, sharp and an 8–12 MP photo)")
        return None
    rust, sharp = by_key["imgresize"], by_key["sharp"]
    qualities = [args.quality] + ([] if args.quick else [q for q in AVIF_CURVE_QUALITIES if q != args.quality])
    chosen = []
    for q in qualities:
        key = "imgresize-avif" if q == args.quality else f"imgresize-avif-q{q}"
        c = Contender(key, f"imgresize AVIF q{q}", f"imgresize `format: avif`, `quality: {q}`", rust.argv,
                      rust.oneshot, env=rust.env, version=rust.version_argv, extra={"format": "avif", "quality": q})
        c.version, c.quality = rust.version, q
        chosen.append(c)
    c = Contender("sharp-avif", "sharp AVIF (defaults)", "sharp `.avif()` with its defaults: quality 50, effort 4",
                  sharp.argv, sharp.oneshot, env=sharp.env, cwd=sharp.cwd, version=sharp.version_argv,
                  extra={"format": "avif"})
    c.version, c.quality = sharp.version, None
    chosen.append(c)
    sub = argparse.Namespace(**vars(args))
    sub.runs = args.avif_runs
    log(f"AVIF: {len(photos)} photo(s) × {len(chosen)} contender(s), 1 warm-up + {sub.runs} runs")
    res = time_contenders(sub, chosen, photos, out_dir / "avif")
    score_quality(sub, chosen, photos, res, out_dir)
    matched = {img.name: match_avif(res, chosen, img) for img in photos}
    return {"contenders": chosen, "imgs": photos, "res": res, "matched": matched, "runs": sub.runs}


def match_avif(res, chosen, img) -> dict | None:
    """imgresize's bytes and time at sharp's DSSIM: log-bytes and time interpolated linearly in DSSIM between the
    two imgresize points that bracket it; None outside the measured range."""
    s = res["sharp-avif"].get(img.name, {})
    if s.get("dssim") is None or not s.get("stats"):
        return None
    pts = sorted((res[c.key][img.name]["dssim"], res[c.key][img.name]["bytes"], res[c.key][img.name]["stats"]["median"],
                  c.quality) for c in chosen if c.key != "sharp-avif"
                 and res[c.key].get(img.name, {}).get("dssim") is not None and res[c.key][img.name].get("stats"))
    target = s["dssim"]
    for (d0, b0, t0, q0), (d1, b1, t1, q1) in zip(pts, pts[1:]):
        if d0 <= target <= d1 and d1 > d0:
            f = (target - d0) / (d1 - d0)
            return {"dssim": target, "bytes": math.exp(math.log(b0) + f * (math.log(b1) - math.log(b0))),
                    "ms": t0 + f * (t1 - t0), "between": (q0, q1), "sharp_bytes": s["bytes"],
                    "sharp_ms": s["stats"]["median"], "sharp_noise": s["stats"]["noise"]}
    return None


def avif_targets(avif) -> list[dict]:
    T = []
    t = "AVIF 1000 px: no slower than sharp at ≤ bytes for equal DSSIM"
    if not avif:
        return [{"target": t, "image": "all", "status": "n/a", "detail": "not measured"}]
    for img in avif["imgs"]:
        m = avif["matched"].get(img.name)
        me = avif["res"]["imgresize-avif"].get(img.name, {})
        sh = avif["res"]["sharp-avif"].get(img.name, {})
        if m is None:
            d = (f"sharp's DSSIM {sh['dssim']:.5f} outside imgresize's measured range" if sh.get("dssim") is not None
                 else "missing measurement")
            T.append({"target": t, "image": img.name, "status": "n/a", "detail": d})
            continue
        bytes_ok = m["bytes"] <= m["sharp_bytes"]
        slack = m["sharp_noise"]
        time_ok = m["ms"] <= m["sharp_ms"] + slack
        status = "met" if bytes_ok and time_ok else "not met"
        default = ""
        if me.get("stats") and sh.get("stats"):
            default = (f"; at the default quality: {me['stats']['median'] / sh['stats']['median']:.2f}× the time, "
                       f"{me['bytes'] / sh['bytes']:.2f}× the bytes, DSSIM {me['dssim']:.5f} vs {sh['dssim']:.5f}")
        T.append({"target": t, "image": img.name, "status": status,
                  "detail": f"at sharp's DSSIM {m['dssim']:.5f}: {m['ms'] / m['sharp_ms']:.2f}× the time, "
                            f"{m['bytes'] / m['sharp_bytes']:.2f}× the bytes{default}"})
    return T


def write_avif_section(w, avif):
    w("## AVIF: one 1000 px AVIF from each 8–12 MP photo\n")
    if not avif:
        w("Not measured (needs imgresize, sharp and an 8–12 MP photo).\n")
        return
    cons, imgs, res = avif["contenders"], avif["imgs"], avif["res"]
    w(f"1 warm-up + {avif['runs']} timed runs per photo and contender, interleaved, one core. imgresize: rav1e 0.8 "
      "through ravif (speed chosen from the pixel count by `AVIF_TIME_BUDGET_MS`, see "
      "`lambda/src/engine/encode/avif.rs`), 10-bit 4:4:4; sharp: libaom through libheif, its defaults (quality 50, "
      "effort 4, 4:4:4). DSSIM against the same Lanczos3 reference as the JPEG task. *Matched* interpolates "
      "imgresize's bytes and time (log-bytes, linearly in DSSIM) between the two request qualities whose DSSIM "
      "brackets sharp's.\n")
    w("| photo | contender | median ms | bytes | DSSIM | ms ÷ sharp | bytes ÷ sharp |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for img in imgs:
        sh = res["sharp-avif"].get(img.name, {})
        for c in cons:
            cell = res[c.key].get(img.name, {})
            st = cell.get("stats")
            if not st:
                w(f"| {img.name} | {c.label} | n/a: {str(cell.get('error', '–'))[:100]} | | | | |")
                continue
            ds = f"{cell['dssim']:.5f}" if cell.get("dssim") is not None else "n/a"
            rt = f"{st['median'] / sh['stats']['median']:.2f}" if sh.get("stats") else "–"
            rb = f"{cell['bytes'] / sh['bytes']:.2f}" if sh.get("bytes") and cell.get("bytes") else "–"
            w(f"| {img.name} | {c.label} | {fmt_ms(st)} | {cell.get('bytes', '–')} | {ds} | {rt} | {rb} |")
        m = avif["matched"].get(img.name)
        if m:
            w(f"| {img.name} | imgresize, matched to sharp's DSSIM (between q{m['between'][0]} and q{m['between'][1]}) | "
              f"{m['ms']:.1f} | {m['bytes']:.0f} | {m['dssim']:.5f} | {m['ms'] / m['sharp_ms']:.2f} | "
              f"{m['bytes'] / m['sharp_bytes']:.2f} |")
    w("")


# ----------------------------------------------------------------------------------------------- quality
class Dssim:
    def __init__(self, args, out_dir):
        cands = [args.dssim] if args.dssim else [str(TOOLS / "cargo" / "bin" / "dssim"), shutil.which("dssim")]
        self.bin = next((c for c in cands if c and os.access(c, os.X_OK)), None)
        self.out_dir = out_dir
        self._full = {}
        self.version = None
        if self.bin:
            stamp = TOOLS / "stamps" / "dssim"
            self.version = f"dssim {stamp.read_text().strip()}" if stamp.exists() else "dssim"

    def _full_decode(self, img: Img, upright: bool):
        from PIL import Image, ImageOps

        key = (img.name, upright)
        if key not in self._full:
            self._full.clear()  # keep one full-size decode in memory at a time
            im = Image.open(img.path)
            im.load()
            if upright:
                im = ImageOps.exif_transpose(im)
            self._full[key] = im.convert("RGB")
        return self._full[key]

    def reference(self, img: Img, w: int, h: int) -> tuple[Path, bool]:
        """Full-size decode, resized once with Pillow's Lanczos3 to exactly (w, h); upright when that fits."""
        # 90° orientations swap the dimensions: an output in the stored orientation (a contender that ignores
        # EXIF) is compared with a reference in the stored orientation, and flagged "not upright" in the report.
        upright = True
        if img.orientation in (5, 6, 7, 8):
            upright = abs(w / h - img.h / img.w) <= abs(w / h - img.w / img.h)
        p = self.out_dir / "ref" / f"{Path(img.name).stem}.{'upright' if upright else 'raw'}.{w}x{h}.png"
        if not p.exists():
            from PIL import Image

            p.parent.mkdir(parents=True, exist_ok=True)
            im = self._full_decode(img, upright)
            if im.size != (w, h):
                im = im.resize((w, h), Image.Resampling.LANCZOS)
            im.save(p.with_suffix(".tmp"), "PNG", compress_level=1)
            p.with_suffix(".tmp").replace(p)
        return p, upright

    def score(self, img: Img, out: Path, w: int, h: int) -> tuple[float | None, bool, str | None]:
        from PIL import Image

        ref, upright = self.reference(img, w, h)
        if not self.bin:
            return None, upright, "dssim not installed"
        png = out.with_suffix(".png")
        with Image.open(out) as im:
            im.convert("RGB").save(png, "PNG", compress_level=1)
        try:
            r = subprocess.run([self.bin, str(ref), str(png)], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return None, upright, "dssim timed out"
        m = re.match(r"\s*([0-9.eE+-]+)", r.stdout)
        if r.returncode != 0 or not m:
            return None, upright, f"dssim failed: {(r.stderr or r.stdout).strip()[:200]}"
        return float(m.group(1)), upright, None


def score_quality(args, contenders, imgs, res, out_dir):
    d = Dssim(args, out_dir)
    if not d.bin:
        log("dssim CLI not found (bench/setup.sh installs it): DSSIM reported as n/a")
    for img in imgs:
        for c in contenders:
            cell = res[c.key].get(img.name)
            if not cell or "out" not in cell or not cell.get("width"):
                continue
            try:
                v, upright, err = d.score(img, Path(cell["out"]), cell["width"], cell["height"])
            except Exception as e:  # a bad output file is a result, not a crash of the bench
                v, upright, err = None, None, f"{type(e).__name__}: {e}"
            cell["dssim"], cell["dssim_error"] = v, err
            cell["upright"] = upright if img.orientation != 1 else None
    return d


# ----------------------------------------------------------------------------------------------- peak RSS
def measure_rss(args, contenders, imgs, res, out_dir):
    """Peak RSS (KB from /usr/bin/time -f %M) of a fresh process doing one image."""
    if not os.access("/usr/bin/time", os.X_OK):
        log("/usr/bin/time missing: peak RSS n/a")
        return
    tmp = out_dir / "rss"
    tmp.mkdir(parents=True, exist_ok=True)
    for img in imgs:
        for c in contenders:
            if c.skip:
                continue
            cell = res[c.key].setdefault(img.name, {})
            outp = tmp / f"{c.key}-{Path(img.name).stem}.jpg"
            tfile = tmp / f"{c.key}.time"
            argv = ["/usr/bin/time", "-f", "%M", "-o", str(tfile), "taskset", "-c", str(args.core)] + c.oneshot(
                str(img.path), str(outp), args.size, args.quality)
            try:
                p = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=c.cwd, env=c.env)
                _, err = p.communicate(timeout=args.timeout)
                kill(p)
                if p.returncode != 0:
                    cell["rss_error"] = f"exit {p.returncode}: {err.decode(errors='replace').strip()[-200:]}"
                    continue
                cell["rss_mb"] = int(tfile.read_text().split()[-1]) / 1024
            except subprocess.TimeoutExpired:
                kill(p)
                cell["rss_error"] = "timed out"
            except (OSError, ValueError, IndexError) as e:
                cell["rss_error"] = str(e)


# ----------------------------------------------------------------------------------------------- cold start
class FakeRuntime:
    """Just enough of the Lambda runtime API to time exec -> first `GET .../invocation/next`."""

    EVENT = {"bucket": "bench-bucket", "key": "", "size": 1000}  # rejected as INVALID_REQUEST: no S3 needed

    def __init__(self):
        rt = self
        self.reset()

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _reply(self, code, body=b"", headers=()):
                try:
                    self.send_response(code)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the trial ended and the process was killed: nobody is listening
                    self.close_connection = True

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    now = time.perf_counter()
                    with rt.lock:
                        rt.nexts += 1
                        first = rt.nexts == 1
                    if first:
                        rt.t_next = now
                        rt.got_next.set()
                        body = json.dumps(rt.EVENT).encode()
                        self._reply(200, body, [
                            ("Content-Type", "application/json"),
                            ("Lambda-Runtime-Aws-Request-Id", "bench-0001"),
                            ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                            ("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:us-east-1:000000000000:function:imgresize"),
                            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                        ])
                    else:  # hold the next poll until the trial ends
                        rt.stop.wait(10)
                        self._reply(500, b'{"errorMessage":"bench over"}')
                else:
                    self._reply(404)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                now = time.perf_counter()
                if "/invocation/" in self.path and (self.path.endswith("/response") or self.path.endswith("/error")):
                    rt.t_resp, rt.resp_kind, rt.resp_body = now, self.path.rsplit("/", 1)[-1], body[:500]
                    rt.got_resp.set()
                elif self.path.endswith("/init/error"):
                    rt.t_resp, rt.resp_kind, rt.resp_body = now, "init/error", body[:500]
                    rt.got_resp.set()
                self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # Each trial kills the binary mid-poll: a reset connection is expected, not news.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        self.lock = threading.Lock()
        self.nexts = 0
        self.t_next = self.t_resp = None
        self.resp_kind = self.resp_body = None
        self.got_next, self.got_resp = threading.Event(), threading.Event()
        self.stop = threading.Event()

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def find_lambda_bin(args) -> Path | None:
    if args.lambda_bin:
        return Path(args.lambda_bin)
    for name in ("imgresize-lambda", "bootstrap"):
        p = RELEASE / name
        if os.access(p, os.X_OK):
            return p
    machine = {"x86_64": 62, "aarch64": 183, "arm64": 183}.get(platform.machine())
    for p in sorted(glob.glob(str(ROOT / "target" / "lambda" / "**" / "bootstrap"), recursive=True)):
        try:
            with open(p, "rb") as f:
                head = f.read(20)
            if head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == machine:
                return Path(p)
        except OSError:
            pass
    return None


def cold_start(args, contenders, out_dir) -> dict:
    out = {"trials": args.cold_runs, "rows": [], "lambda_bin": None, "notes": []}
    core = str(args.core)
    env = base_env()
    series = []  # (key, label, argv, cwd, env, mode)
    series.append(("spawn", "`taskset … /bin/true` (spawn overhead, in every row)", ["/bin/true"], None, env, "exit"))
    lb = find_lambda_bin(args)
    rt = None
    if lb and os.access(lb, os.X_OK):
        out["lambda_bin"] = rel(lb)
        rt = FakeRuntime()
        lenv = dict(env)
        lenv.update(
            AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{rt.port}", DEST_BUCKET="x", AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
            AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AWS_SESSION_TOKEN="bench",
            AWS_LAMBDA_FUNCTION_NAME="imgresize", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
            AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="bench",
            AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/imgresize", AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=str(out_dir / "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(out_dir / "no-aws-creds"),
            _HANDLER="bootstrap",
        )
        series.append(("lambda", f"`{rel(lb)}` exec → first `GET /runtime/invocation/next`", [str(lb)], None, lenv,
                       "lambda"))
    else:
        out["notes"].append("Lambda binary not found (build it, or pass --lambda-bin): its cold start was skipped.")
        log("cold start: Lambda binary not found, skipped (pass --lambda-bin)")
    by_key = {c.key: c for c in contenders}
    pil = TOOLS / "venv-pillow" / "bin" / "python"
    if pil.exists():
        series.append(("python", "`python -c 'import PIL.Image'` (exec → exit)", [str(pil), "-c", "import PIL.Image"],
                       None, env, "exit"))
    sh = by_key.get("sharp")
    if (TOOLS / "node" / "node_modules" / "sharp").is_dir() and shutil.which("node"):
        series.append(("node", "`node -e \"require('sharp')\"` (exec → exit)", ["node", "-e", "require('sharp')"],
                       str(TOOLS / "node"), sh.env if sh else env, "exit"))
    times = {s[0]: [] for s in series}
    errors = []
    extra = {"lambda_resp": [], "lambda_resp_kind": None, "lambda_resp_body": None}
    log_f = open(out_dir / "logs" / "lambda-cold.log", "ab")
    try:
        for trial in range(1 + args.cold_runs):  # trial 0 warms the page cache
            k = trial % len(series)
            for key, _label, argv, cwd, senv, mode in series[k:] + series[:k]:
                if mode == "exit":
                    t0 = time.perf_counter()
                    p = spawn(["taskset", "-c", core] + argv, cwd=cwd, env=senv,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    try:
                        rc = p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        rc = "timeout"
                    dt = (time.perf_counter() - t0) * 1000
                    kill(p)
                    if rc == 0 and trial > 0:
                        times[key].append(dt)
                    elif rc != 0 and len(errors) < 10:
                        errors.append(f"{key}: exit code {rc}")
                else:
                    rt.reset()
                    t0 = time.perf_counter()
                    p = spawn(["taskset", "-c", core] + argv, cwd=cwd, env=senv, stdout=log_f, stderr=log_f)
                    ok = rt.got_next.wait(10)
                    if ok:
                        if trial > 0:
                            times[key].append((rt.t_next - t0) * 1000)
                        if rt.got_resp.wait(10) and trial > 0:
                            extra["lambda_resp"].append((rt.t_resp - t0) * 1000)
                            extra["lambda_resp_kind"], extra["lambda_resp_body"] = rt.resp_kind, rt.resp_body
                    else:
                        errors.append(
                            f"Lambda binary: no runtime request within 10 s (exit code {p.poll()}); see bench/out/logs/lambda-cold.log")
                    rt.stop.set()
                    kill(p)
                    if not ok and len(errors) >= 2:  # do not repeat a hopeless trial 20 times
                        series = [s for s in series if s[0] != "lambda"]
                        break
    finally:
        log_f.close()
        if rt:
            rt.close()
    labels = {s[0]: s[1] for s in series}
    labels.setdefault("lambda", "Lambda binary")
    for key, xs in times.items():
        out["rows"].append({"key": key, "label": labels.get(key, key), "stats": stats(xs)})
    if extra["lambda_resp"]:
        out["rows"].append({"key": "lambda_resp", "label": "Lambda binary exec → first response posted "
                            f"(`{extra['lambda_resp_kind']}` to an INVALID_REQUEST event)",
                            "stats": stats(extra["lambda_resp"])})
        out["lambda_resp_body"] = (extra["lambda_resp_body"] or b"").decode(errors="replace")
    out["errors"] = errors
    return out


def zip_sizes() -> list[tuple[str, int]]:
    zs = sorted(glob.glob(str(ROOT / "target" / "lambda" / "**" / "bootstrap.zip"), recursive=True))
    return [(rel(Path(z)), os.path.getsize(z)) for z in zs]


# ----------------------------------------------------------------------------------------------- machine
def machine_info(args) -> dict:
    def sh(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""

    model = next((l.split(":", 1)[1].strip() for l in sh(["lscpu"]).splitlines() if l.startswith("Model name")), "?")
    osname = "?"
    try:
        osname = next(l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if
                      l.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    mem = "?"
    try:
        kb = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    flags = sh(["lscpu"])
    simd = [f for f in ("avx512f", "avx2", "sse4_1", "neon", "asimd") if re.search(rf"\b{f}\b", flags)]
    return {"cpu": model, "cores": os.cpu_count(), "arch": platform.machine(), "kernel": platform.release(),
            "os": osname, "memory": mem, "simd": simd, "core": args.core, "load_start": os.getloadavg(),
            "python": platform.python_version(), "node": sh(["node", "--version"]).strip() or "n/a",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


# ----------------------------------------------------------------------------------------------- targets
LARGE_MP = 4.0  # "large JPEGs" for the floor target: ≥ 4 MP


def evaluate_targets(args, contenders, imgs, res, cold) -> list[dict]:
    T = []
    have = {c.key for c in contenders if not c.skip}

    def cell(key, img):
        return res.get(key, {}).get(img.name, {})

    def add(target, img, status, detail=""):
        T.append({"target": target, "image": img, "status": status, "detail": detail})

    if "imgresize" not in have:
        why = next((c.skip for c in contenders if c.key == "imgresize"), "not selected")
        for t in ("speed ≤ 0.75× sharp on every photo", "faster than Pillow-SIMD at equal or better DSSIM on every photo",
                  "DSSIM ≤ sharp's on every photo", "bytes ≤ 1.05× sharp's on every photo",
                  f"≤ 1.25× the floor on large JPEGs (≥ {LARGE_MP:g} MP)", "PNG 12 MP ≤ 0.75× sharp",
                  "peak RSS ≤ 0.5× sharp's", "exec → first runtime request ≤ 10 ms"):
            add(t, "all", "n/a", f"imgresize skipped: {why}")
        return T

    for img in imgs:
        me = cell("imgresize", img)
        ms = me.get("stats")
        sharp = cell("sharp", img)
        if img.kind == "jpeg":
            other = cell("sharp", img).get("stats")
            if ms and other:
                st, ratio, noise = compare(ms, other, 0.75)
                add("speed ≤ 0.75× sharp", img.name, st, f"{ratio:.2f}× (noise ±{noise:.2f})")
            else:
                add("speed ≤ 0.75× sharp", img.name, "n/a", "missing measurement")
            # Against Pillow-SIMD drafting to the scale this engine decodes at: the same quality budget. (Its
            # aggressive draft, to the smallest scale covering the box, is cheaper and worse: a reference only.)
            t = "faster than Pillow-SIMD at equal or better DSSIM"
            peer = cell("pillow-simd-eq", img)
            other, a, b = peer.get("stats"), me.get("dssim"), peer.get("dssim")
            if not (ms and other):
                add(t, img.name, "n/a", "missing measurement")
            elif a is not None and b is not None and a > b + max(0.05 * b, 1e-5):
                add(t, img.name, "not met", f"DSSIM {a:.5f} worse than its {b:.5f}")
            else:
                st, ratio, noise = compare(ms, other, 1.0)
                dssim = f"; DSSIM {a:.5f} vs {b:.5f}" if a is not None and b is not None else "; DSSIM n/a"
                add(t, img.name, st, f"{ratio:.2f}× (noise ±{noise:.2f}){dssim}")
            a, b = me.get("dssim"), sharp.get("dssim")
            if a is not None and b is not None:
                tol = max(0.05 * b, 1e-5)  # DSSIM is deterministic; ±5 % of sharp's counts as the same quality
                st = "met" if a <= b - tol else ("tie (within noise)" if abs(a - b) <= tol else "not met")
                add("DSSIM ≤ sharp's", img.name, st, f"{a:.5f} vs {b:.5f}")
            else:
                add("DSSIM ≤ sharp's", img.name, "n/a", "dssim not available")
            a, b = me.get("bytes"), sharp.get("bytes")
            if a and b:
                add("bytes ≤ 1.05× sharp's", img.name, "met" if a <= 1.05 * b else "not met", f"{a / b:.3f}×")
            else:
                add("bytes ≤ 1.05× sharp's", img.name, "n/a", "missing")
            if img.mp >= LARGE_MP:
                fl = cell("floor", img).get("stats")
                if ms and fl:
                    st, ratio, noise = compare(ms, fl, 1.25)
                    add(f"≤ 1.25× the floor (≥ {LARGE_MP:g} MP)", img.name, st, f"{ratio:.2f}× (noise ±{noise:.2f})")
                else:
                    add(f"≤ 1.25× the floor (≥ {LARGE_MP:g} MP)", img.name, "n/a", "missing measurement")
        else:
            other = sharp.get("stats")
            if ms and other:
                st, ratio, noise = compare(ms, other, 0.75)
                add("PNG 12 MP ≤ 0.75× sharp", img.name, st, f"{ratio:.2f}× (noise ±{noise:.2f})")
            else:
                add("PNG 12 MP ≤ 0.75× sharp", img.name, "n/a", "missing measurement")
        a, b = me.get("rss_mb"), sharp.get("rss_mb")
        if a and b:
            add("peak RSS ≤ 0.5× sharp's", img.name, "met" if a <= 0.5 * b else "not met",
                f"{a:.0f} MB vs {b:.0f} MB ({a / b:.2f}×)")
        else:
            add("peak RSS ≤ 0.5× sharp's", img.name, "n/a", "missing measurement")
    row = next((r for r in cold.get("rows", []) if r["key"] == "lambda"), None)
    if row and row["stats"]:
        s = row["stats"]
        d = s["median"] - 10
        st = "tie (within noise)" if abs(d) <= s["noise"] else ("met" if d < 0 else "not met")
        add("exec → first runtime request ≤ 10 ms", "–", st, f"{s['median']:.1f} ms (noise ±{s['noise']:.1f})")
    else:
        add("exec → first runtime request ≤ 10 ms", "–", "n/a", "; ".join(cold.get("notes", []) + cold.get("errors", []))
            or "not measured")
    return T


# ----------------------------------------------------------------------------------------------- report
def fmt_ms(st):
    return f"{st['median']:.1f}" if st else "–"


def ratio_cell(a, b):
    if not a or not b:
        return "–"
    st, ratio, _ = compare(a, b, 1.0)
    return f"{ratio:.2f}" + (" (tie)" if st.startswith("tie") else "")


def write_report(path, args, machine, contenders, imgs, res, cold, zips, targets, dssim_version, elapsed,
                 colour=None, avif=None, rend=None):
    live = [c for c in contenders if not c.skip]
    L = []
    w = L.append
    title = "quick smoke run (not a measurement)" if args.quick else "results"
    w(f"# imgresize benchmark: {title}\n")
    w(f"Generated by `python3 bench/run.py{' --quick' if args.quick else ''}` on {machine['date']} in {elapsed:.0f} s. "
      "Regenerate it with the same command; see `bench/README.md` for how to read it.\n")
    w("## Machine and versions\n")
    w(f"- CPU: {machine['cpu']} ({machine['arch']}, {machine['cores']} cores, SIMD: {', '.join(machine['simd']) or '?'}); "
      f"memory {machine['memory']}; {machine['os']}; kernel {machine['kernel']}")
    w(f"- Every contender pinned to core {machine['core']} (`taskset -c {machine['core']}`), one thread; "
      f"load average at start {machine['load_start'][0]:.2f}, at end {machine['load_end'][0]:.2f} "
      "(anything above ~0 means other work shared the machine: read the noise columns)")
    w(f"- Task: fit inside {args.size}×{args.size} (never upscale), JPEG quality {args.quality}, metadata stripped; "
      f"input bytes in memory, output to memory; 1 warm-up + {args.runs} timed runs per image, contenders "
      "interleaved and rotated (A B C …, B C … A, …); time measured inside each worker around exactly that work")
    w(f"- Python {machine['python']} (driver), Node {machine['node']}, "
      f"DSSIM: {dssim_version or 'n/a (dssim CLI not installed)'}")
    w("")
    w("| contender | version | what it does |")
    w("|---|---|---|")
    for c in contenders:
        ver = c.version if not c.skip else f"**skipped**: {c.skip}"
        w(f"| {c.label} | {ver} | {c.what} |")
    w("")

    # targets
    w("## Targets (issue: benchmark against the peers)\n")
    w("A difference smaller than the noise (the combined ~95 % confidence half-widths of the two medians) is a "
      "*tie*. DSSIM counts as tied within ±5 % of sharp's. Why the targets not met are not met (with the "
      "profiles and the experiments behind the engine's settings): [`bench/FINDINGS.md`](FINDINGS.md).\n")
    w("| target | image | status | measured |")
    w("|---|---|---|---|")
    for t in targets:
        mark = {"met": "✅ met", "not met": "❌ not met"}.get(t["status"], t["status"])
        w(f"| {t['target']} | {t['image']} | {mark} | {t['detail']} |")
    w("")

    # summary matrix
    w("## Median time per image (ms, lower is better)\n")
    w("| image | MP | " + " | ".join(c.label for c in live) + " |")
    w("|---|---:|" + "---:|" * len(live))
    for img in imgs:
        cells = []
        for c in live:
            cell = res[c.key].get(img.name, {})
            cells.append(fmt_ms(cell.get("stats")) if cell.get("stats") else ("n/a" if "error" in cell else "–"))
        w(f"| {img.name} | {img.mp:.1f} | " + " | ".join(cells) + " |")
    w("")

    # ratios
    peers = [c for c in live if c.key != "imgresize"]
    if any(c.key == "imgresize" for c in live):
        w("## Ratio imgresize ÷ peer (median time; < 1 means imgresize is faster)\n")
        w("| image | " + " | ".join(c.label for c in peers) + " |")
        w("|---|" + "---:|" * len(peers))
        for img in imgs:
            me = res["imgresize"].get(img.name, {}).get("stats")
            w(f"| {img.name} | " + " | ".join(ratio_cell(me, res[c.key].get(img.name, {}).get("stats"))
                                                for c in peers) + " |")
        w("")
    else:
        w("## Ratio imgresize ÷ peer\n")
        w("Not available: imgresize was skipped (" + next(c.skip for c in contenders if c.key == "imgresize") + ").\n")
    if any(c.key == "floor" for c in live):
        w("## Ratio to the floor (median time ÷ floor's; 1.00 = as fast as decode-at-DCT-scale + encode)\n")
        others = [c for c in live if c.key != "floor"]
        w("| image | " + " | ".join(c.label for c in others) + " |")
        w("|---|" + "---:|" * len(others))
        for img in imgs:
            fl = res["floor"].get(img.name, {}).get("stats")
            if not fl:
                continue
            w(f"| {img.name} | " + " | ".join(ratio_cell(res[c.key].get(img.name, {}).get("stats"), fl)
                                                for c in others) + " |")
        w("")

    # per image detail
    w("## Per image\n")
    w("median and IQR in ms over the timed runs; noise = ~95 % confidence half-width of the median; output "
      "bytes and size from the warm-up run; DSSIM against the Lanczos3 reference (0 = identical, lower is better); "
      "peak RSS of a fresh process doing that one image (`/usr/bin/time -f %M`, includes the interpreter).\n")
    for img in imgs:
        src = f", made losslessly from {img.source}" if img.source else ""
        orient = f", EXIF orientation {img.orientation}" if img.orientation != 1 else ""
        w(f"### {img.name} ({img.w}×{img.h}, {img.mp:.1f} MP, {img.bytes / 1024:.0f} KiB{orient}{src})\n")
        w("| contender | median | IQR | noise | × floor | output | bytes | DSSIM | peak RSS MB |")
        w("|---|---:|---:|---:|---:|---|---:|---:|---:|")
        fl = res.get("floor", {}).get(img.name, {}).get("stats")
        for c in live:
            cell = res[c.key].get(img.name, {})
            st = cell.get("stats")
            if "error" in cell and not st:
                err = cell["error"].replace("|", "/")[:120]
                if c.key == "floor" and img.kind != "jpeg":
                    err = "JPEG input only"
                w(f"| {c.label} | n/a: {err} | | | | | | | {fmt_rss(cell)} |")
                continue
            dims = f"{cell.get('width')}×{cell.get('height')}" if cell.get("width") else "–"
            if cell.get("upright") is False:
                dims += " (not upright)"
            ds = f"{cell['dssim']:.5f}" if cell.get("dssim") is not None else "n/a"
            w(f"| {c.label} | {fmt_ms(st)} | {st['iqr']:.1f} | ±{st['noise']:.1f} | "
              f"{(st['median'] / fl['median']) if fl else float('nan'):.2f} | {dims} | {cell.get('bytes', '–')} | "
              f"{ds} | {fmt_rss(cell)} |".replace("nan", "–"))
        w("")

    write_colour_section(w, colour)
    write_avif_section(w, avif)
    if rend is not None:
        renditions_bench.write_section(w, rend)

    # cold start
    w("## Cold start (ms, wall clock from `exec`)\n")
    w(f"{cold['trials']} trials each, interleaved, after one untimed trial; each process pinned with taskset. "
      "The Lambda binary runs against a fake runtime API on 127.0.0.1 (env: AWS_LAMBDA_RUNTIME_API, DEST_BUCKET=x, "
      "AWS_REGION=us-east-1, dummy credentials); it is killed after its first response.\n")
    w("| what | median | IQR | noise |")
    w("|---|---:|---:|---:|")
    for r in cold["rows"]:
        s = r["stats"]
        w(f"| {r['label']} | {fmt_ms(s)} | {s['iqr']:.1f} | ±{s['noise']:.1f} |" if s else f"| {r['label']} | n/a | | |")
    for n in cold.get("notes", []) + cold.get("errors", []):
        w(f"\n- {n}")
    if cold.get("lambda_resp_body"):
        w(f"\nFirst response body: `{cold['lambda_resp_body'][:300]}`")
    w("")
    write_load_section(w)
    w("## Lambda zip size\n")
    if zips:
        for z, n in zips:
            w(f"- `{z}`: {n / 1024 / 1024:.2f} MiB ({n} bytes)")
    else:
        w("- no `target/lambda/**/bootstrap.zip` found (build the zips first): n/a")
    w("")

    # noise
    noises = [cell["stats"]["noise"] / cell["stats"]["median"] for c in live for cell in res[c.key].values()
              if cell.get("stats") and cell["stats"]["median"]]
    w("## Noise\n")
    if noises:
        w(f"Relative noise of the medians (confidence half-width ÷ median) over all {len(noises)} cells: median "
          f"{statistics.median(noises) * 100:.1f} %, worst {max(noises) * 100:.1f} %. Differences below that are ties. "
          f"Load average went from {machine['load_start'][0]:.2f} to {machine['load_end'][0]:.2f} during the run.")
    errs = [(c.key, n, cell["error"]) for c in live for n, cell in res[c.key].items() if cell.get("error")
            and not (c.key == "floor" and "JPEG-only" in cell["error"])]
    if errs:
        w("\n## Errors\n")
        for k, n, e in errs:
            w(f"- {k} on {n}: {e}")
    w("\nRaw samples: `bench/out/results.json`" + (" (quick: `bench/out/results-quick.json`)." if args.quick else "."))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(L) + "\n")


def latest_load_report() -> Path | None:
    """The load test's report with the most requests (`make load` writes load-1000.json)."""
    found = []
    for path in (BENCH / "out").glob("load-*.json"):
        try:
            found.append((int(path.stem.split("-", 1)[1]), path.stat().st_mtime, path))
        except ValueError:
            continue
    return max(found)[2] if found else None


def write_load_section(w):
    """Throughput and latency of the real function under load: measured by tests/tests/load.rs, not here
    (it needs the emulator), so the figures come from its newest report and say when they were taken."""
    w("## Load: the real bootstrap under the runtime emulator\n")
    path = latest_load_report()
    if path is None:
        w("Not measured on this machine yet: `make load` (1000 requests) writes `bench/out/load-1000.json`, which the "
          "next `make bench` reports here.\n")
        return
    try:
        d = json.loads(path.read_text())
        lat, secs = d["latency_ms"], d["seconds"]
        when = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        w(f"From `{rel(path)}` ({when}, `{d.get('test', 'tests/tests/load.rs')}`): {d['mode']}; "
          f"concurrency {d['concurrency']} on {d['cores']} cores, fit inside {d['size']} px. The client, the runtime "
          "emulators and the S3 emulator share the same cores, so these are lower bounds for Lambda.\n")
        w("| requests | ok | errors | objects | images/s | images/s per core | p50 ms | p90 ms | p99 ms | max ms | "
          "peak RSS per invocation |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        peak = max((p.get("peak_rss_mb_max") or 0 for p in d.get("processes", [])), default=0)
        w(f"| {d['requests']} | {d['ok']} | {d['errors']} | {d['objects']} | {d['throughput_images_per_s']:.1f} | "
          f"{d['throughput_images_per_s_per_core']:.1f} | {lat['p50']:.0f} | {lat['p90']:.0f} | {lat['p99']:.0f} | "
          f"{lat['max']:.0f} | ≤ {peak:.1f} MB |")
        w(f"\nWall clock: upload {secs['upload']:.0f} s, run {secs['run']:.1f} s, verify {secs['verify']:.0f} s. "
          "Latency is the client's invocation round trip (GetObject + resize + PutObject on the emulator).\n")
    except (OSError, KeyError, TypeError, ValueError) as e:
        w(f"`{rel(path)}` could not be read ({e}); rerun `make load`.\n")


def fmt_rss(cell):
    if cell.get("rss_mb") is not None:
        return f"{cell['rss_mb']:.0f}"
    return "n/a" if cell.get("rss_error") else "–"


# ----------------------------------------------------------------------------------------------- chart
COLORS = {"imgresize": "#d62728", "pillow": "#9467bd", "pillow-thumbnail": "#c5b0d5", "pillow-simd": "#aec7e8",
          "pillow-simd-eq": "#1f77b4",
          "pyvips": "#2ca02c", "sharp": "#ff7f0e", "floor": "#7f7f7f"}


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_chart(path, args, machine, contenders, imgs, res):
    """Hand-written SVG: one panel per image, one bar per contender (median, whisker = IQR), own scale."""
    live = [c for c in contenders if not c.skip]
    W, left, right, bar, gap, head = 900, 190, 170, 16, 4, 26
    plot_w = W - left - right
    panels = []
    y = 58
    for img in imgs:
        rows = [(c, res[c.key].get(img.name, {}).get("stats")) for c in live]
        top = max((s["q3"] for _, s in rows if s), default=1) or 1
        h = head + len(rows) * (bar + gap) + 10
        g = [f'<text x="10" y="{y + 16}" font-weight="bold">{esc(img.name)} '
             f'<tspan font-weight="normal" fill="#555">({img.w}×{img.h}, {img.mp:.1f} MP)</tspan></text>']
        yy = y + head
        fl = next((s for c, s in rows if c.key == "floor" and s), None)
        if fl:  # dashed line: the floor
            fx = left + fl["median"] / top * plot_w
            g.append(f'<line x1="{fx:.1f}" x2="{fx:.1f}" y1="{yy - 4}" y2="{yy + len(rows) * (bar + gap)}" '
                     'stroke="#444" stroke-dasharray="3,3"/>')
        for c, s in rows:
            g.append(f'<text x="{left - 8}" y="{yy + bar - 4}" text-anchor="end">{esc(c.label)}</text>')
            if s:
                bw = max(1.0, s["median"] / top * plot_w)
                stroke = ' stroke="#000" stroke-width="1.5"' if c.key == "imgresize" else ""
                g.append(f'<rect x="{left}" y="{yy}" width="{bw:.1f}" height="{bar}" '
                         f'fill="{COLORS.get(c.key, "#999")}"{stroke}/>')
                x1, x2 = left + s["q1"] / top * plot_w, left + s["q3"] / top * plot_w
                g.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{yy + bar / 2}" y2="{yy + bar / 2}" stroke="#000"/>')
                xf = f" · {s['median'] / fl['median']:.2f}× floor" if fl and c.key != "floor" else ""
                g.append(f'<text x="{max(bw, x2 - left) + left + 6:.1f}" y="{yy + bar - 4}">{s["median"]:.1f} ms{xf}</text>')
            else:
                g.append(f'<text x="{left + 4}" y="{yy + bar - 4}" fill="#888">n/a</text>')
            yy += bar + gap
        panels.append("\n".join(g))
        y += h
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y + 10}" viewBox="0 0 {W} {y + 10}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{y + 10}" fill="#fff"/>',
           f'<text x="10" y="22" font-size="16" font-weight="bold">Resize to fit {args.size}×{args.size}, JPEG '
           f'q{args.quality}, one core: median ms per image (lower is better)</text>',
           f'<text x="10" y="42" fill="#555">{esc(machine["cpu"])}, core {machine["core"]}; whisker = IQR; dashed = floor; each '
           f'panel has its own scale; {args.runs} runs{" (quick smoke run)" if args.quick else ""}; '
           f'{esc(machine["date"])}</text>'] + panels + ["</svg>"]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(svg) + "\n")


# ----------------------------------------------------------------------------------------------- main
def main():
    ensure_driver_python()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke test: one image (the 12 MP photo), 3 runs")
    ap.add_argument("--runs", type=int, help="timed runs per image and contender (default 15; --quick: 3)")
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--quality", type=int, default=82)
    ap.add_argument("--core", type=int, help="CPU to pin every contender to (default: the last one allowed)")
    ap.add_argument("--corpus", help="corpus folder (default $IMGRESIZE_CORPUS or ../shared/corpus from the repo)")
    ap.add_argument("--images", help="comma-separated substrings of image names to keep")
    ap.add_argument("--only", help="comma-separated contender keys (imgresize,pillow,pillow-thumbnail,pillow-simd,"
                                   "pyvips,sharp,floor)")
    # The x86_64 cargo-lambda build (scripts/build.sh): the same compiler and flags as the shipped zip.
    ap.add_argument("--imgresize-bin", default=str(RELEASE / "imgresize"))
    ap.add_argument("--lambda-bin", help="Lambda bootstrap binary for the cold start (default: looked up in target/)")
    ap.add_argument("--dssim", help="dssim CLI (default: .tools/bench/cargo/bin/dssim, then PATH)")
    ap.add_argument("--cold-runs", type=int, help="cold-start trials (default 20; --quick: 3)")
    ap.add_argument("--avif-runs", type=int, help="timed runs of the AVIF task (default 5; --quick: 1)")
    ap.add_argument("--no-avif", action="store_true", help="skip the AVIF task")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS one-shot runs")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measurements")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait for any one reply (default 60)")
    ap.add_argument("--startup-timeout", type=float, default=60, help="seconds for a worker's first reply")
    ap.add_argument("--report", help="default bench/report.md (--quick: bench/out/report-quick.md)")
    ap.add_argument("--chart", help="default bench/chart.svg (--quick: bench/out/chart-quick.svg)")
    args = ap.parse_args()
    args.runs = args.runs or (3 if args.quick else 15)
    args.cold_runs = args.cold_runs or (3 if args.quick else 20)
    args.avif_runs = args.avif_runs or (1 if args.quick else 5)
    if args.core is None:
        args.core = max(os.sched_getaffinity(0))
    out_dir = BENCH / "out"
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    for old in (out_dir / "logs").glob("*.log"):  # logs are per run
        old.unlink()
    report = Path(args.report) if args.report else (out_dir / "report-quick.md" if args.quick else BENCH / "report.md")
    chart = Path(args.chart) if args.chart else (out_dir / "chart-quick.svg" if args.quick else BENCH / "chart.svg")
    results_json = out_dir / ("results-quick.json" if args.quick else "results.json")

    for tool in ("taskset",):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found: run bench/setup.sh")
    atexit.register(kill_all)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    t_start = time.monotonic()

    corpus = corpus_dir(args)
    imgs = pick_images(args, corpus, out_dir)
    contenders = make_contenders(args)
    for c in contenders:
        if c.skip:
            log(f"SKIPPED {c.key}: {c.skip}")
    probe_versions(contenders)
    machine = machine_info(args)
    log(f"{len(imgs)} image(s) × {sum(not c.skip for c in contenders)} contender(s), 1 warm-up + {args.runs} runs, "
        f"core {args.core}")

    res = time_contenders(args, contenders, imgs, out_dir)
    log("quality: DSSIM against the Lanczos3 references")
    dssim = score_quality(args, contenders, imgs, res, out_dir)
    if not args.no_rss:
        log("peak RSS: one fresh process per contender and image")
        measure_rss(args, contenders, imgs, res, out_dir)
    colour = colour_step(args, contenders, corpus, out_dir)
    avif = None if args.no_avif else avif_step(args, contenders, imgs, out_dir)
    log("renditions: three sizes × two formats from one upload")
    rend = renditions_bench.run(args, contenders, imgs, out_dir, Worker, log)
    cold = {"trials": 0, "rows": [], "notes": ["skipped (--no-cold)"], "errors": []}
    if not args.no_cold:
        log("cold start")
        cold = cold_start(args, contenders, out_dir)
    zips = zip_sizes()
    machine["load_end"] = os.getloadavg()
    targets = evaluate_targets(args, contenders, imgs, res, cold) + ([] if args.no_avif else avif_targets(avif))
    elapsed = time.monotonic() - t_start

    write_report(report, args, machine, contenders, imgs, res, cold, zips, targets, dssim.version, elapsed, colour,
                 avif, rend)
    write_chart(chart, args, machine, contenders, imgs, res)
    results_json.write_text(json.dumps({
        "args": {k: v for k, v in vars(args).items() if k not in ("corpus",)},
        "machine": machine, "contenders": {c.key: {"label": c.label, "version": c.version, "skip": c.skip}
                                           for c in contenders},
        "images": [{"name": i.name, "w": i.w, "h": i.h, "kind": i.kind} for i in imgs],
        "results": {k: {n: {kk: vv for kk, vv in cell.items() if kk != "out"} for n, cell in v.items()}
                    for k, v in res.items()},
        "avif": None if not avif else {"results": {k: {n: {kk: vv for kk, vv in cell.items() if kk != "out"}
                                                          for n, cell in v.items()} for k, v in avif["res"].items()},
                                       "matched": avif["matched"]},
        "cold": cold, "zips": zips, "targets": targets, "renditions": rend}, indent=1, default=str))

    print_summary(contenders, imgs, res, cold, targets)
    log(f"wrote {rel(report)}, {rel(chart)}, {rel(results_json)} in {elapsed:.0f} s")
    harness_errors = [(c.key, n, cell["error"]) for c in contenders if not c.skip for n, cell in res[c.key].items()
                      if cell.get("error") and not (c.key == "floor" and "JPEG-only" in cell["error"])]
    if harness_errors:
        for k, n, e in harness_errors:
            log(f"ERROR {k} on {n}: {e}")
        return 2
    return 0


def print_summary(contenders, imgs, res, cold, targets):
    live = [c for c in contenders if not c.skip]
    have_me = any(c.key == "imgresize" for c in live)
    col = 20

    def st(key, img):
        return res[key].get(img.name, {}).get("stats")

    print("\nMedian ms per image (× floor in brackets)")
    print(f"{'image':38}" + "".join(f"{c.key:>{col}}" for c in live))
    for img in imgs:
        fl = st("floor", img) if any(c.key == "floor" for c in live) else None
        cells = []
        for c in live:
            s = st(c.key, img)
            cells.append("n/a" if not s else f"{s['median']:.1f}" + (f" ({s['median'] / fl['median']:.2f})" if fl else ""))
        print(f"{img.name[:38]:38}" + "".join(f"{x:>{col}}" for x in cells))
    if have_me:
        peers = [c for c in live if c.key != "imgresize"]
        print("\nRatio imgresize ÷ peer (median ms; < 1 = imgresize faster; (tie) = within noise)")
        print(f"{'image':38}" + "".join(f"{c.key:>{col}}" for c in peers))
        for img in imgs:
            a = st("imgresize", img)
            print(f"{img.name[:38]:38}" + "".join(f"{ratio_cell(a, st(c.key, img)):>{col}}" for c in peers))
    else:
        print("\nRatio imgresize ÷ peer: n/a, imgresize was skipped: "
              + next((c.skip for c in contenders if c.key == "imgresize"), "not selected"))
    for r in cold.get("rows", []):
        if r["stats"]:
            print(f"cold start: {r['label']}: {r['stats']['median']:.1f} ms")
    counts = {}
    for t in targets:
        counts[t["status"]] = counts.get(t["status"], 0) + 1
    print("targets: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for t in targets:
        if t["status"] not in ("met", "n/a"):
            print(f"  {t['status']:>18}  {t['target']} [{t['image']}] {t['detail']}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        kill_all()
        log("interrupted: all workers killed")
        sys.exit(130)
    finally:
        kill_all()
