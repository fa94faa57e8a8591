"""Words the wizard says things in: distro names, their articles, sizes in one unit style.

The core's answer-file messages speak of keys (`mirror:`) and sizes as a file
writes them (600M); the wizard's fields say the same in an operator's words.
This module does not import Textual.
"""

from __future__ import annotations

import re

from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.sizes import SizeError, human, parse_size

#: Distro names as their makers write them (the rest are capitalised).
_DISTRO_NAMES = {"centos": "CentOS", "opensuse": "openSUSE"}
#: A size as an answer file writes it (1.3G, 600M), to be said as "1.3 GB", "600.0 MB".
_SIZE_WORD = re.compile(r"(?<![\w./-])(\d+(?:\.\d+)?[KMGT])(?![\w/-]|\.\w)")


def distro_name(distro: str) -> str:
    """A recipe's `distro:` word as people write it: ubuntu -> Ubuntu, centos -> CentOS."""
    return _DISTRO_NAMES.get(distro, distro[:1].upper() + distro[1:])


def a_distro(distro: str) -> str:
    """The distro's name with its article: "an Ubuntu", "a Debian"."""
    name = distro_name(distro)
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def sizes_in_words(text: str) -> str:
    """Sizes written as in an answer file (1.3G, 600M) said in the wizard's one unit style ("1.3 GB")."""

    def said(match: re.Match[str]) -> str:
        try:
            return human(parse_size(match.group(1)))
        except SizeError:
            return match.group(1)

    return _SIZE_WORD.sub(said, text)


def mirror_missing_message(recipe: Recipe) -> str:
    """Why the Mirror field must be filled for `recipe`, in the operator's words."""
    which = a_distro(recipe.distro)
    if recipe.default_mirror == "apt-sources":
        return f"no apt source on this workstation serves {distro_name(recipe.distro)}: give the URL of {which} mirror (http://…, https://… or file:///…)"
    return f"{recipe.name} has no mirror of its own: give the URL of {which} mirror (http://…, https://… or file:///…)"


#: What each metadata option is called on screen (its answer-file key is the dim hint); others are named from their key.
OPTION_TITLES = {
    "url": "Metadata service URL",
    "ssh_key": "SSH key for",
    "ephemeral0": "Mount the ephemeral disk",
    "swap": "Use swap",
    "user_data": "Run the user-data",
    "hostname": "Set the hostname",
    "grow_root": "Grow the root filesystem",
    "udev_xvd": "sd* names for xvd* disks",
    "udev_vd": "sd* names for vd* disks",
}


def option_title(name: str) -> str:
    """The words a metadata option is shown with ("ssh_key" -> "SSH key for")."""
    return OPTION_TITLES.get(name, name.replace("_", " ").capitalize())


#: A modify flag as the command line writes it, and what the Changes step calls the same thing.
_FLAG_WORDS = {"--grow": "growing to ", "--run": "the script ", "--version": "", "--output": ""}


def flags_in_words(text: str) -> str:
    """A modify problem said with the Changes step's words rather than the command line's flags."""
    text = re.sub(r"--grow (\S+): (?='\1')", "", text)  # "--grow abc: 'abc' is not a size" names it twice
    text = re.sub(r"--run (.+): no such script", r"no script at \1", text)
    text = text.replace("leave out --grow", "leave the field empty").replace("in --add or in --remove", "in one list")
    for flag, words in _FLAG_WORDS.items():
        text = re.sub(rf"(?<![\w-]){flag} ", words, text)
    return text
