"""Text on a chosen colour is black or white by WCAG contrast: at least 4.5:1 on the colours the demo and
defaults use, where a brightness rule of thumb put white on orange at 3.1:1."""

import pytest

from isms.foundation.colours import readable_ink


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colour", ["#ef6c00", "#2e7d32", "#f9a825", "#c62828", "#6a1b9a", "#ffffff", "#000000"])
def test_the_ink_chosen_reads_at_aa(colour):
    ink = readable_ink(colour)
    assert contrast(ink.replace("#000", "#000000").replace("#fff", "#ffffff"), colour) >= 4.5


def test_orange_takes_black_text():
    assert readable_ink("#ef6c00") == "#000"
