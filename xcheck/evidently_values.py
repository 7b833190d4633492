"""Evidently's drift statistics for the data sets in an ``.npz`` file, as JSON on stdout.

Runs in the cross-check's own virtual environment (``make xcheck``), never in the
project's: Evidently pins versions of its dependencies that the project does not use.
Each data set is a pair ``NAME.ref`` / ``NAME.cur`` of numeric samples.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from evidently.legacy.calculations.stattests.ks_stattest import _ks_stat_test
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.calculations.stattests.utils import get_binned_data
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import _wasserstein_distance_norm
from evidently.legacy.core import ColumnType


def main(path: str) -> None:
    data = np.load(path)
    out = {}
    num = ColumnType.Numerical
    for name in sorted({key.rsplit(".", 1)[0] for key in data.files}):
        ref, cur = pd.Series(data[name + ".ref"]), pd.Series(data[name + ".cur"])
        ref_p, cur_p = get_binned_data(ref, cur, num, 0, False)
        out[name] = {
            "bins": np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges").tolist(),
            "binned": [ref_p.tolist(), cur_p.tolist()],
            "psi": float(_psi(ref, cur, num, 0.1)[0]),
            "js_base2": float(_jensenshannon(ref, cur, num, 0.1, base=2)[0]),
            "ks_pvalue": float(_ks_stat_test(ref, cur, num, 0.05)[0]),
            "wasserstein_norm": float(_wasserstein_distance_norm(ref, cur, num, 0.1)[0]),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
