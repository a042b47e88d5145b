"""``amplifier kit build OUT``: the supporters' share kit, written as a static site."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from amplifier.check import load
from amplifier.cli.common import CommandError, closest
from amplifier.kit import KitError, build_kit

Clock = Callable[[], datetime]


def cmd_kit_build(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    settings, library = load(args.config, args.posts)
    names = sorted(settings.campaigns)
    chosen = list(dict.fromkeys(args.campaign or names))
    for name in chosen:
        if name not in settings.campaigns:
            raise CommandError(
                f"no campaign {name!r} in the config{closest(name, names)} "
                f"Campaigns: {', '.join(names) or 'none'}"
            )
    seed = str(args.seed) if args.seed is not None else settings.seed
    try:
        built = build_kit(
            settings,
            library,
            Path(args.out),
            campaigns=chosen,
            seed=seed,
            today=clock().date(),
            base_url=args.base_url,
            posts=Path(args.posts) if args.posts else None,
        )
    except KitError as error:
        raise CommandError(str(error), code=1) from None
    for page in built.pages:
        refused = sum(len(card.refused) for card in page.cards)
        note = f", {refused} network(s) left without a button (amplifier check says why)"
        print(
            f"{page.campaign} [{page.language}]: {len(page.cards)} posts"
            + (note if refused else ""),
            file=out,
        )
    print(f"kit written to {built.out}/ ({len(built.files)} pages); open index.html", file=out)
    return 0
