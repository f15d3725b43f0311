"""Judges outputs' colour with LittleCMS (Pillow's ImageCms), not with the crate the engine uses.

Reads a JSON list of {"output", "reference", "ignore_profile"} from stdin. Each output is seen
through its own ICC profile (relative colorimetric, as the references were rendered), or as sRGB
when it carries none or `ignore_profile` is set, and compared with its sRGB reference on 40x30 block
means (box filter) in 8-bit sRGB: ../shared/corpus/SOURCES.md, colour/. Prints one JSON object per
item: {"output", "profile" (its description), "icc_sha256" (of the embedded profile, or null), "mean",
"p95"}.
"""

import hashlib
import io
import json
import sys

from PIL import Image, ImageCms

BLOCKS = (40, 30)
SRGB = ImageCms.createProfile("sRGB")


def as_srgb(image, ignore_profile):
    icc = None if ignore_profile else image.info.get("icc_profile")
    if not icc:
        return image.convert("RGB"), None
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    # The profile describes the stored samples: CMYK and gray as they are, anything else as RGB.
    if image.mode == "CMYK":
        samples = image
    elif image.mode in ("L", "LA"):
        samples = image.convert("L")
    else:
        samples = image.convert("RGB")
    converted = ImageCms.profileToProfile(
        samples, profile, SRGB, outputMode="RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    return converted, ImageCms.getProfileDescription(profile).strip()


def block_means(image):
    return list(image.resize(BLOCKS, Image.Resampling.BOX).get_flattened_data())


def judge(item):
    image = Image.open(item["output"])
    image.load()
    icc = image.info.get("icc_profile")
    seen, profile = as_srgb(image, item.get("ignore_profile", False))
    reference = Image.open(item["reference"]).convert("RGB")
    differences = sorted(
        abs(a - b)
        for out, ref in zip(block_means(seen), block_means(reference))
        for a, b in zip(out, ref)
    )
    return {
        "output": item["output"],
        "profile": profile,
        "icc_sha256": hashlib.sha256(icc).hexdigest() if icc else None,
        "mean": sum(differences) / len(differences),
        "p95": differences[int(0.95 * (len(differences) - 1))],
    }


if __name__ == "__main__":
    for item in json.load(sys.stdin):
        print(json.dumps(judge(item)))
