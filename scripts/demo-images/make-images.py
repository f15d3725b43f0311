"""Regenerates the bundled demo images (see README.md): python make-images.py  (needs Pillow >= 10).

Everything is drawn here, so the files carry no third-party rights; the output is deterministic for a given
Pillow version (fixed seed)."""

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
random.seed(11)


def landscape(width, height):
    """A sky gradient, hills and a sun: smooth areas and edges, like a photo, small when compressed."""
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for y in range(height):
        t = y / height
        colour = (int(70 + 120 * t), int(130 + 90 * t), int(230 - 40 * t))
        for x in range(width):
            pixels[x, y] = colour
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.68, height * 0.12, width * 0.8, height * 0.12 + width * 0.12), fill=(255, 214, 90))
    for layer, (shade, base) in enumerate([((60, 120, 60), 0.55), ((40, 95, 45), 0.65), ((30, 70, 35), 0.78)]):
        phase = random.random() * 6.28
        points = [(0, height)]
        for x in range(0, width + 40, 40):
            y = height * base + math.sin(x / width * (3 + layer) * math.pi + phase) * height * 0.06
            points.append((x, y))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    for _ in range(60):  # trees: small detail the resize has to keep
        x, y = random.uniform(0, width), random.uniform(height * 0.7, height * 0.95)
        s = random.uniform(height * 0.02, height * 0.05)
        draw.polygon([(x, y - 2 * s), (x - s, y), (x + s, y)], fill=(20, 60 + random.randint(0, 40), 30))
    # A touch of grain, as in a real photo (also keeps the JPEG from being unrealistically small).
    noise = Image.effect_noise((width, height), 12).convert("RGB")
    return Image.blend(image, noise, 0.06).filter(ImageFilter.SMOOTH)


def main():
    # 1. A 12 MP camera-style JPEG stored sideways with EXIF Orientation 6 (rotate 90° clockwise to view):
    #    the function must turn it upright, so the output is portrait 750x1000.
    photo = landscape(4000, 3000).transpose(Image.Transpose.ROTATE_90)  # stored as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "imgresize demo"  # Make
    photo.save(HERE / "camera-orientation6-3000x4000.jpg", quality=80, exif=exif.tobytes(), optimize=True)

    # 2. A PNG with alpha: a translucent badge on transparency (output stays PNG with alpha).
    badge = Image.new("RGBA", (2400, 1600), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    for i in range(12):
        r = 700 - i * 55
        alpha = 60 + i * 15
        draw.ellipse((1200 - r, 800 - r, 1200 + r, 800 + r), fill=(30 + i * 18, 90, 200 - i * 12, alpha))
    draw.rounded_rectangle((500, 650, 1900, 950), radius=60, fill=(255, 255, 255, 200))
    badge.save(HERE / "badge-alpha-2400x1600.png", optimize=True)

    # 3. A WebP (lossy, with alpha): output stays WebP.
    web = landscape(2560, 1440).convert("RGBA")
    mask = Image.new("L", web.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, web.width, web.height), radius=200, fill=255)
    web.putalpha(mask)
    web.save(HERE / "panorama-2560x1440.webp", quality=75, method=6)

    # 4. The broken example: the first third of the JPEG (the Fail path: CORRUPT_IMAGE).
    data = (HERE / "camera-orientation6-3000x4000.jpg").read_bytes()
    (HERE / "broken" / "truncated.jpg").write_bytes(data[: len(data) // 3])


if __name__ == "__main__":
    main()
