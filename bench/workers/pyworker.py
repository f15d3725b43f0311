#!/usr/bin/env python3
"""Benchmark worker for the Python contenders (see bench/README.md for the protocol).

    pyworker.py --recipe NAME                      serve JSON lines on stdin/stdout
    pyworker.py --recipe NAME --once IN OUT [--size 1000] [--quality 82]
                                                   one image, for the peak-RSS measurement of a fresh process

Recipes (each turns the input bytes into output JPEG bytes, in memory):
    pillow-tutorial   Image.open -> resize((w, h), LANCZOS) -> save(quality=82): the seed's / AWS tutorials' way
    pillow-thumbnail  Image.open -> thumbnail((size, size)) (its defaults: BICUBIC, reducing_gap=2.0) -> save
    pillow-simd-draft Image.open -> draft('RGB', (w, h)) (largest DCT scale still covering the box) -> LANCZOS
    pillow-simd-engine-scale  the same, drafting to the DCT scale imgresize decodes at (the largest n/8 whose
                      long edge still covers --margin x the box: SHRINK_ON_LOAD_MARGIN) -> LANCZOS
    pyvips            pyvips.Image.thumbnail_buffer(size, height=size, size='down') -> jpegsave_buffer
    floor-turbojpeg   libjpeg-turbo (TurboJPEG API, via PyTurboJPEG): decode at the smallest M/8 scale that
                      still covers the box, then encode that (no resampling); JPEG input only
"""
import argparse
import io
import json
import math
import os
import sys
import time

# Keep every library single-threaded (the driver also pins the process to one core).
os.environ.setdefault("VIPS_CONCURRENCY", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def fit(w, h, size):
    """Fit inside size x size keeping the aspect ratio; never upscale. Same rounding as the engine."""
    if w <= size and h <= size:
        return w, h
    if w >= h:
        return size, max(1, round(h * size / w))
    return max(1, round(w * size / h)), size


# EXIF orientation -> Pillow transpose method (what ImageOps.exif_transpose does), applied to the small result.
def _orient(im, orientation):
    from PIL import Image

    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return im.transpose(method) if method is not None else im


def _rgb(im):
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def _save(im, quality):
    buf = io.BytesIO()
    # No exif=/icc_profile= arguments: Pillow writes no metadata unless asked to.
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), im.width, im.height


def make_recipe(name, margin=None):
    if name == "pillow-tutorial":
        from PIL import Image

        def run(data, size, quality):
            im = Image.open(io.BytesIO(data))
            w, h = fit(im.width, im.height, size)
            if (w, h) != im.size:
                im = im.resize((w, h), Image.Resampling.LANCZOS)
            return _save(_rgb(im), quality)

        return run

    if name == "pillow-thumbnail":
        from PIL import Image

        def run(data, size, quality):
            im = Image.open(io.BytesIO(data))
            orientation = im.getexif().get(0x0112, 1)
            im.thumbnail((size, size))
            return _save(_orient(_rgb(im), orientation), quality)

        return run

    if name == "pillow-simd-draft":
        from PIL import Image

        def run(data, size, quality):
            im = Image.open(io.BytesIO(data))
            orientation = im.getexif().get(0x0112, 1)
            w, h = fit(im.width, im.height, size)
            if (w, h) != im.size:
                if im.format == "JPEG":
                    # picks the largest scale 1/2, 1/4, 1/8 whose result is still >= (w, h)
                    im.draft("RGB", (w, h))
                im = _rgb(im)
                if im.size != (w, h):
                    im = im.resize((w, h), Image.Resampling.LANCZOS)
            return _save(_orient(_rgb(im), orientation), quality)

        return run

    if name == "pillow-simd-engine-scale":
        from PIL import Image

        if margin is None:
            raise SystemExit("pillow-simd-engine-scale needs --margin (the engine's SHRINK_ON_LOAD_MARGIN)")

        def engine_scale(long_edge, box):
            """imgresize's shrink_numerator (lambda/src/engine/decode/jpeg.rs): the largest reduction 8/n, n in
            1, 2, 4, whose long edge still covers margin x the box (libjpeg rounds up)."""
            target = min(math.ceil(box * margin), long_edge)
            for n in (1, 2, 4):
                if -(-long_edge * n // 8) >= target:
                    return 8 // n
            return 1

        def run(data, size, quality):
            im = Image.open(io.BytesIO(data))
            orientation = im.getexif().get(0x0112, 1)
            w, h = fit(im.width, im.height, size)
            if (w, h) != im.size:
                if im.format == "JPEG":
                    reduce = engine_scale(max(im.size), size)
                    if reduce > 1:
                        # draft picks the largest reduction r with size // request >= r: this request gives `reduce`
                        im.draft("RGB", (max(1, im.width // reduce), max(1, im.height // reduce)))
                im = _rgb(im)
                if im.size != (w, h):
                    im = im.resize((w, h), Image.Resampling.LANCZOS)
            return _save(_orient(_rgb(im), orientation), quality)

        return run

    if name == "pyvips":
        import pyvips

        pyvips.cache_set_max(0)  # no operation cache: every run really decodes
        pyvips.cache_set_max_mem(0)
        pyvips.cache_set_max_files(0)
        keep = pyvips.version(0) > 8 or (pyvips.version(0) == 8 and pyvips.version(1) >= 15)
        save_opts = {"keep": "none"} if keep else {"strip": True}

        def run(data, size, quality):
            im = pyvips.Image.thumbnail_buffer(data, size, height=size, size="down")  # auto-rotates
            out = im.jpegsave_buffer(Q=quality, **save_opts)
            return out, im.width, im.height

        return run

    if name == "floor-turbojpeg":
        import ctypes.util
        import glob

        from turbojpeg import TJPF_RGB, TJSAMP_420, TurboJPEG

        lib = ctypes.util.find_library("turbojpeg")
        if lib is None:
            found = sorted(glob.glob("/usr/lib/*-linux-gnu/libturbojpeg.so.0") + glob.glob("/usr/lib*/libturbojpeg.so.0"))
            lib = found[0] if found else None
        tj = TurboJPEG(lib) if lib else TurboJPEG()
        factors = sorted(f for f in tj.scaling_factors if f[0] <= f[1])  # M/8 scales <= 1

        def scaled(dim, f):
            return (dim * f[0] + f[1] - 1) // f[1]  # libjpeg-turbo's TJSCALED

        def run(data, size, quality):
            if data[:3] != b"\xff\xd8\xff":
                raise ValueError("the floor is JPEG-only")
            W, H, _, _ = tj.decode_header(data)
            w, h = fit(W, H, size)
            covering = [f for f in factors if scaled(W, f) >= w and scaled(H, f) >= h]
            f = min(covering, key=lambda f: f[0] / f[1])
            arr = tj.decode(data, pixel_format=TJPF_RGB, scaling_factor=f)
            out = tj.encode(arr, quality=quality, pixel_format=TJPF_RGB, jpeg_subsample=TJSAMP_420)
            return out, arr.shape[1], arr.shape[0]

        return run

    raise SystemExit(f"unknown recipe {name!r}")


def pillow_renditions(data, specs, quality, out_dir=None):
    """Every rendition from one decode, the way a Pillow(-SIMD) service would: draft the JPEG to the
    largest DCT scale still covering the largest output, apply EXIF orientation, then per rendition
    resize (inside) or ImageOps.fit (cover, centred) with LANCZOS, and save JPEG and/or WebP."""
    from PIL import Image, ImageOps

    im = Image.open(io.BytesIO(data))
    orientation = im.getexif().get(0x0112, 1)
    turned = orientation in (5, 6, 7, 8)
    W, H = (im.height, im.width) if turned else (im.width, im.height)

    def box(r):
        if r.get("size"):
            return r["size"], r["size"]
        return r.get("width") or 10**9, r.get("height") or 10**9

    def need(r):  # upright size the decode must still cover
        bw, bh = box(r)
        if r.get("fit", "inside") == "cover":
            scale = max(bw / W, bh / H)
        else:
            scale = min(bw / W, bh / H, 1.0)
        return max(1, round(W * scale)), max(1, round(H * scale))

    needs = [need(r) for r in specs]
    cover = (max(w for w, _ in needs), max(h for _, h in needs))
    if im.format == "JPEG":
        im.draft("RGB", (cover[1], cover[0]) if turned else cover)
    im = _orient(_rgb(im), orientation)
    outputs = []
    for r in specs:
        bw, bh = box(r)
        if r.get("fit", "inside") == "cover":
            small = ImageOps.fit(im, (bw, bh), Image.Resampling.LANCZOS)
        else:
            w, h = fit_box(im.width, im.height, bw, bh)
            small = im.resize((w, h), Image.Resampling.LANCZOS) if (w, h) != im.size else im
        for fmt in r.get("formats", ["jpeg"]):
            buf = io.BytesIO()
            small.save(buf, "WEBP" if fmt == "webp" else "JPEG", quality=quality)
            body = buf.getvalue()
            if out_dir:
                with open(os.path.join(out_dir, f"{r['name']}.{'jpg' if fmt == 'jpeg' else fmt}"), "wb") as f:
                    f.write(body)
            outputs.append({"name": r["name"], "format": fmt, "width": small.width, "height": small.height,
                            "bytes": len(body)})
    return outputs


def fit_box(w, h, bw, bh):
    """Fit inside bw x bh, never upscale (the engine's rounding)."""
    if w <= bw and h <= bh:
        return w, h
    if w * bh >= h * bw:
        return bw, max(1, min(bh, round(h * bw / w)))
    return max(1, min(bw, round(w * bh / h))), bh


def serve(run, out):
    images = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "quit":
                reply = {"ok": True}
                out.write(json.dumps(reply) + "\n")
                out.flush()
                return
            if op == "load":
                with open(req["path"], "rb") as f:
                    images[req["id"]] = f.read()
                reply = {"ok": True}
            elif op == "run":
                data = images[req["id"]]
                size, quality = int(req.get("size", 1000)), int(req.get("quality", 82))
                t0 = time.perf_counter_ns()
                body, w, h = run(data, size, quality)
                ms = (time.perf_counter_ns() - t0) / 1e6
                if req.get("out"):
                    with open(req["out"], "wb") as f:
                        f.write(body)
                reply = {"ok": True, "ms": ms, "bytes": len(body), "width": w, "height": h}
            elif op == "renditions":
                data = images[req["id"]]
                t0 = time.perf_counter_ns()
                outputs = pillow_renditions(data, req["renditions"], int(req.get("quality", 82)), req.get("out_dir"))
                ms = (time.perf_counter_ns() - t0) / 1e6
                reply = {"ok": True, "ms": ms, "outputs": outputs}
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as e:  # the protocol reports errors, the worker keeps serving
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--once", nargs=2, metavar=("IN", "OUT"))
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--quality", type=int, default=82)
    ap.add_argument("--margin", type=float, help="pillow-simd-engine-scale: the engine's SHRINK_ON_LOAD_MARGIN")
    args = ap.parse_args()

    # Protocol replies go to a private copy of stdout; anything else that writes to fd 1 (a C library's
    # warning) lands on stderr instead of corrupting the protocol.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    run = make_recipe(args.recipe, args.margin)
    if args.once:
        with open(args.once[0], "rb") as f:
            data = f.read()
        body, w, h = run(data, args.size, args.quality)
        with open(args.once[1], "wb") as f:
            f.write(body)
        out.write(json.dumps({"ok": True, "bytes": len(body), "width": w, "height": h}) + "\n")
        return
    serve(run, out)


if __name__ == "__main__":
    main()
