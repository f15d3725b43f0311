"""The renditions workload of `make bench` (called by run.py, in the same run as the other sections).

Three renditions (320 cover-square, 640 inside, 1280 inside), each JPEG + WebP at quality 82, from the
8-12 MP photos:

- imgresize: `render` from one decode (`bench-worker` op "renditions"), one thread, pinned to one core;
  and the same with two threads on two cores (the multi-vCPU figure: a function with more than 1,769 MB);
- sharp: one `sharp(buf).rotate()` and a `clone()` pipeline per output, all awaited together, on one core
  with concurrency(1) and one libuv thread (sharp's recommended way to make several outputs);
- Pillow-SIMD: one `open` + `draft` for the largest output, EXIF orientation, then `resize` (inside) or
  `ImageOps.fit` (cover) with LANCZOS per rendition, saved as JPEG and WebP.

Target (issue: renditions): imgresize ≤ 0.6× sharp's time, single-threaded.

Also: `cover` with content-aware gravity against sharp's `attention` on the photos, both 320×320, composed
into one picture (bench/attention.jpg) a person can judge, with the times.
"""
from __future__ import annotations

import os
import statistics
from pathlib import Path

WORKLOAD = [
    {"name": "square", "size": 320, "fit": "cover", "formats": ["jpeg", "webp"]},
    {"name": "medium", "size": 640, "formats": ["jpeg", "webp"]},
    {"name": "large", "size": 1280, "formats": ["jpeg", "webp"]},
]
ATTENTION = [{"name": "attention", "size": 320, "fit": "cover", "gravity": "attention", "formats": ["jpeg"]}]
TARGET_RATIO = 0.6
PEERS = ("imgresize", "sharp", "pillow-simd")


def _median_ms(worker, image_id, renditions, runs, timeout, threads=None):
    request = {"op": "renditions", "id": image_id, "renditions": renditions, "quality": 82}
    if threads:
        request["threads"] = threads
    times, outputs = [], None
    for i in range(runs + 1):  # one warm-up
        reply = worker.request(request, timeout)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", "failed"))
        if i:
            times.append(reply["ms"])
        outputs = reply["outputs"]
    return statistics.median(times), outputs


def run(args, contenders, imgs, out_dir: Path, worker_class, log) -> dict:
    """Times the workload; returns rows for the report. `worker_class(contender, core, log_dir)` is run.py's
    Worker (taskset-pinned JSON-lines process)."""
    by_key = {c.key: c for c in contenders if not c.skip}
    peers = [k for k in PEERS if k in by_key]
    photos = [i for i in imgs if i.kind == "jpeg" and i.mp >= 7]
    result = {"rows": [], "peers": peers, "errors": [], "two_cores": None, "attention": []}
    if "imgresize" not in peers or not photos:
        result["errors"].append("imgresize or the 8-12 MP photos missing: renditions not measured")
        return result
    runs = max(3, args.runs // 3)
    cores = sorted(os.sched_getaffinity(0))
    two = ",".join(str(c) for c in cores[-2:]) if len(cores) >= 2 else None
    workers = {}
    try:
        for key in peers:
            workers[key] = worker_class(by_key[key], args.core, out_dir / "logs")
        if two:
            workers["imgresize-2"] = worker_class(by_key["imgresize"], two, out_dir / "logs")
        for img in photos:
            row = {"image": img.name, "mp": img.mp, "ms": {}, "bytes": {}}
            for key, worker in workers.items():
                try:
                    worker.request({"op": "load", "id": img.name, "path": str(img.path)}, args.startup_timeout)
                    threads = 2 if key == "imgresize-2" else None
                    ms, outputs = _median_ms(worker, img.name, WORKLOAD, runs, args.timeout, threads)
                    row["ms"][key] = ms
                    row["bytes"][key] = sum(o["bytes"] for o in outputs)
                except Exception as e:  # a peer's failure is reported, the others still run
                    result["errors"].append(f"{key} on {img.name}: {e}")
            result["rows"].append(row)
            log(f"renditions {img.name}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in row["ms"].items()))
        if not args.quick:
            result["attention"] = attention_crops(args, workers, photos, out_dir)
    finally:
        for worker in workers.values():
            worker.close()
    return result


def attention_crops(args, workers, photos, out_dir: Path) -> list[dict]:
    """320×320 cover crops with content-aware gravity by imgresize and sharp, side by side in one picture."""
    crops = []
    for img in photos:
        row = {"image": img.name, "ms": {}, "files": {}}
        for key in ("imgresize", "sharp"):
            if key not in workers:
                continue
            folder = out_dir / "attention" / key / img.path.stem
            folder.mkdir(parents=True, exist_ok=True)
            reply = workers[key].request({"op": "renditions", "id": img.name, "renditions": ATTENTION,
                                          "quality": 82, "out_dir": str(folder)}, args.timeout)
            if reply.get("ok"):
                ms, _ = _median_ms(workers[key], img.name, ATTENTION, max(3, args.runs // 5), args.timeout)
                row["ms"][key] = ms
                row["files"][key] = folder / "attention.jpg"
        crops.append(row)
    sheet = Path(__file__).resolve().parent / "attention.jpg"
    try:
        from PIL import Image, ImageDraw

        cell, pad, label = 320, 8, 18
        width = pad + 3 * (cell + pad)
        height = label + len(crops) * (cell + pad) + pad
        canvas = Image.new("RGB", (width, height), (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        for col, title in enumerate(("photo (whole, fitted)", "imgresize attention", "sharp attention")):
            draw.text((pad + col * (cell + pad), 3), title, fill=(0, 0, 0))
        for r, (img, row) in enumerate(zip(photos, crops)):
            y = label + r * (cell + pad)
            with Image.open(img.path) as whole:
                from PIL import ImageOps

                whole = ImageOps.exif_transpose(whole).convert("RGB")
                whole.draft("RGB", (cell, cell))
                whole.thumbnail((cell, cell))
                canvas.paste(whole, (pad + (cell - whole.width) // 2, y + (cell - whole.height) // 2))
            for col, key in enumerate(("imgresize", "sharp"), start=1):
                path = row["files"].get(key)
                if path and Path(path).exists():
                    with Image.open(path) as crop:
                        canvas.paste(crop.convert("RGB"), (pad + col * (cell + pad), y))
        canvas.save(sheet, "JPEG", quality=80)
    except Exception as e:  # the picture is a convenience; the times stand without it
        for row in crops:
            row["error"] = f"no picture: {e}"
    for row in crops:
        row["files"] = {k: str(v) for k, v in row["files"].items()}
    return crops


def write_section(w, result) -> None:
    w("## Renditions: three sizes × JPEG + WebP from one upload\n")
    w("320 cover-square, 640 inside, 1280 inside, each JPEG and WebP at quality 82, from the 8–12 MP photos. "
      "imgresize makes them from one decode (`engine::render`); sharp from one `sharp(buf).rotate()` with a "
      "`clone()` pipeline per output, awaited together; Pillow-SIMD from one `draft`ed decode, `resize`/"
      "`ImageOps.fit` per rendition. One core each (sharp: concurrency 1, one libuv thread); "
      "`imgresize ×2` is the same engine with two threads on two cores, as a function above 1,769 MB runs it. "
      f"Target: imgresize ≤ {TARGET_RATIO}× sharp's time, single-threaded.\n")
    if not result["rows"]:
        w("Not measured: " + "; ".join(result["errors"]) + "\n")
        return
    keys = [k for k in ("imgresize", "imgresize-2", "sharp", "pillow-simd")
            if any(k in row["ms"] for row in result["rows"])]
    names = {"imgresize": "imgresize", "imgresize-2": "imgresize ×2", "sharp": "sharp",
             "pillow-simd": "Pillow-SIMD"}
    w("| photo | " + " | ".join(f"{names[k]} ms" for k in keys) + " | imgresize ÷ sharp | imgresize ÷ Pillow-SIMD "
      "| bytes (imgresize / sharp) |")
    w("|---|" + "---|" * (len(keys) + 3))
    ratios = []
    for row in result["rows"]:
        ms = row["ms"]
        ratio = ms["imgresize"] / ms["sharp"] if "imgresize" in ms and "sharp" in ms else None
        simd = ms["imgresize"] / ms["pillow-simd"] if "imgresize" in ms and "pillow-simd" in ms else None
        if ratio is not None:
            ratios.append(ratio)
        size = (f"{row['bytes']['imgresize'] / 1024:.0f} / {row['bytes']['sharp'] / 1024:.0f} KiB"
                if "sharp" in row["bytes"] and "imgresize" in row["bytes"] else "–")
        w(f"| {row['image']} ({row['mp']:.1f} MP) | " + " | ".join(
            f"{ms[k]:.0f}" if k in ms else "–" for k in keys) +
          f" | {'–' if ratio is None else f'{ratio:.2f}'} | {'–' if simd is None else f'{simd:.2f}'} | {size} |")
    if ratios:
        worst = max(ratios)
        verdict = "**met**" if worst <= TARGET_RATIO else "**not met**"
        w(f"\nimgresize ÷ sharp: median {statistics.median(ratios):.2f}, worst {worst:.2f}: target ≤ "
          f"{TARGET_RATIO} {verdict}.\n")
    if result["attention"]:
        w("### Content-aware cover crops (320×320): imgresize `gravity: attention` and sharp `attention`\n")
        w("![the photo, imgresize's crop, sharp's crop](attention.jpg)\n")
        w("| photo | imgresize ms | sharp ms |")
        w("|---|---|---|")
        for row in result["attention"]:
            cells = [f"{row['ms'][k]:.0f}" if k in row["ms"] else "–" for k in ("imgresize", "sharp")]
            w(f"| {row['image']} | {cells[0]} | {cells[1]} |")
        w("")
    if result["errors"]:
        w("Errors: " + "; ".join(result["errors"]) + "\n")
