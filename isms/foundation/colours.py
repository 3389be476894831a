"""Text on a colour a person chose (a risk level, an incident severity): black or white, whichever reads."""


def readable_ink(colour: str) -> str:
    """ "#000" or "#fff" for text on `colour` ("#rrggbb"), whichever contrasts more by WCAG 2.1's relative luminance
    (a brightness rule of thumb put white on orange at 3.1:1, under the 4.5:1 that AA asks of text)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#fff"
