"""Architecture facts of a secretkit checkout: modules, longest module, cycles,
upward imports (by the layer order in ``tests/test_architecture.py``), commands
importing commands.

    python benchmarks/architecture_facts.py [ROOT]     # default: this checkout
    python -m benchmarks.architecture_facts [ROOT]

Reads the source with ``ast``; nothing of the package is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from tests.test_architecture import facts, load_tree, unlayered_packages  # noqa: E402


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else HERE
    tree = load_tree(root)
    print("\n".join(facts(tree)))
    missing = unlayered_packages(tree)
    if missing:
        print("packages without a layer: " + ", ".join(missing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
