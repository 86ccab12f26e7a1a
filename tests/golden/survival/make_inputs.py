"""Write the inputs of the survival golden values (run from the repository root; needs ../shared).

fixture.tsv: 60 synthetic samples with tied event times (Efron matters) and two covariates (x1, x2); then,
drawn after them so that the first columns keep their values, a text covariate with three levels (grade:
high/low/mid, 'high' the reference as sorted by R factor()) and a numeric one (age), each missing in 3 samples.
gse1992_ss.tsv: GSE1992 (RFS) with the SS z-score (seedsig zscore over IL6, IL8->CXCL8, FSCN1, MMP1), then the
clinical er_positive (0/1; the file's 'missing' written as NA) and age of clinical.tsv for the adjusted models.
"""

import numpy as np
import pandas as pd

from seedsig.core.tables import read_clinical, read_matrix
from seedsig.ingest.ids import harmonize
from seedsig.scoring.methods import score
from seedsig.scoring.signatures import load_signatures

rng = np.random.default_rng(42)
n = 60
x1 = rng.normal(5, 2, n)
x2 = rng.lognormal(0, 1, n)
t = np.ceil(rng.exponential(20 * np.exp(-0.3 * (x1 - 5)))).clip(1, 40)  # integer months: many ties
e = (rng.random(n) < 0.7).astype(int)
# added columns: drawn after the first ones (the values above are unchanged by them)
grade = rng.choice(np.array(["low", "mid", "high"], dtype=object), n)
age = rng.normal(60, 10, n).round(1) + 0.4 * (x1 - 5)  # mildly related to x1: the adjusted HR differs
grade[rng.choice(n, 3, replace=False)] = None
age[rng.choice(n, 3, replace=False)] = np.nan
fixture = pd.DataFrame(
    {
        "sample": [f"F{i:02d}" for i in range(n)],
        "time": t,
        "event": e,
        "x1": x1.round(6),
        "x2": x2.round(6),
        "grade": grade,
        "age": age.round(6),
    }
)
fixture.to_csv("tests/golden/survival/fixture.tsv", sep="\t", index=False, na_rep="NA")

d = "../shared/datasets/gse1992_unc_hu2006_survjamda"
expr, _ = harmonize(read_matrix(f"{d}/expression.tsv.gz"), "symbol")
ss = score(expr, load_signatures("config/signatures/self_seeding.tsv"), "zscore").scores
clin = read_clinical(f"{d}/clinical.tsv")
er = pd.to_numeric(clin.loc[ss.index, "er_positive"], errors="coerce")  # 'missing' -> NA
out = pd.DataFrame(
    {
        "sample": ss.index,
        "ss": ss["SS"].round(10).to_numpy(),
        "ss_attraction": ss["SS_attraction"].round(10).to_numpy(),
        "time": clin.loc[ss.index, "time"].to_numpy(),
        "event": clin.loc[ss.index, "event"].to_numpy(),
        "er_positive": pd.array(er.to_numpy(), dtype="Int64"),
        "age": clin.loc[ss.index, "age"].to_numpy(),
    }
)
out.to_csv("tests/golden/survival/gse1992_ss.tsv", sep="\t", index=False, na_rep="NA")
