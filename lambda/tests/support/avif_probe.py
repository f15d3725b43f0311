"""Reads AVIF files with Pillow's own libavif (not rav1e, not anything the engine links), for
lambda/tests/avif.rs.

Reads a JSON list of paths from stdin and prints one JSON object per path: {"ok": true, "format",
"mode", "width", "height", "alpha": [min, max] or null, "corners": the RGBA of the four corner pixels,
"icc": whether a profile is embedded} or {"ok": false, "error"} when the file does not decode.
"""

import json
import sys

from PIL import Image, features


def probe(path):
    try:
        image = Image.open(path)
        image.load()
    except Exception as error:  # any failure to read is the answer, not a crash of the probe
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    rgba = image.convert("RGBA")
    w, h = image.size
    corners = [list(rgba.getpixel(xy)) for xy in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1))]
    return {
        "ok": True,
        "format": image.format,
        "mode": image.mode,
        "width": w,
        "height": h,
        "alpha": list(image.getchannel("A").getextrema()) if "A" in image.getbands() else None,
        "corners": corners,
        "icc": bool(image.info.get("icc_profile")),
    }


if __name__ == "__main__":
    if not features.check("avif"):
        sys.exit("this Pillow cannot read AVIF (Pillow >= 11.3 with libavif is needed)")
    for path in json.load(sys.stdin):
        print(json.dumps(probe(path)))
