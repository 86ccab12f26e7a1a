"""Write the scoring fixture (run from the repository root): a tie-free log-normal matrix and gene sets
of 2, 4, 10 and 40 genes (one with half its genes absent from the matrix)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(2024)
genes = [f"G{i:03d}" for i in range(300)]
x = pd.DataFrame(
    rng.lognormal(2, 1, size=(300, 12)).round(8),
    index=pd.Index(genes, name="gene"),
    columns=[f"s{i:02d}" for i in range(12)],
)
assert not x.apply(lambda c: c.duplicated().any()).any()  # tie-free
x.to_csv("tests/golden/scoring/fixture_expr.tsv", sep="\t")
sets = {
    "two": genes[:2],
    "four": genes[10:14],
    "ten": genes[50:60],
    "forty": genes[100:140],
    "half_missing": genes[200:204] + ["ABSENT1", "ABSENT2", "ABSENT3", "ABSENT4"],
}
with open("tests/golden/scoring/fixture_sets.gmt", "w") as fh:
    for k, v in sets.items():
        fh.write("\t".join([k, "fixture"] + v) + "\n")

# RNA-seq-like integer counts for GSVA's Poisson kernel (ties among genes are possible; sets as above)
counts = pd.DataFrame(
    rng.poisson(rng.gamma(2.0, 40.0, size=(300, 1)), size=(300, 12)),
    index=pd.Index(genes, name="gene"),
    columns=[f"s{i:02d}" for i in range(12)],
)
counts.to_csv("tests/golden/scoring/fixture_counts.tsv", sep="\t")
