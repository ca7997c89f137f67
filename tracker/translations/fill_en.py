"""English is the source language: fill the en catalogue's empty entries with their msgid.

Run by `make extract-messages`, so that the en catalogue stays complete."""
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent / "en" / "LC_MESSAGES" / "messages.po"


def main() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    with PO.open("wb") as f:
        write_po(f, catalog, width=0)


if __name__ == "__main__":
    main()
