"""Write the inputs of the survival golden values (run from the repository root; needs ../shared).

fixture.tsv: 60 synthetic samples with tied event times (Efron matters) and two covariates.
gse1992_ss.tsv: GSE1992 (RFS) with the SS z-score (seedsig zscore over IL6, IL8->CXCL8, FSCN1, MMP1).
"""
import numpy as np
import pandas as pd

from seedsig.ids import harmonize
from seedsig.io import read_clinical, read_matrix
from seedsig.scoring import score
from seedsig.signatures import load_signatures

rng = np.random.default_rng(42)
n = 60
x1 = rng.normal(5, 2, n)
x2 = rng.lognormal(0, 1, n)
t = np.ceil(rng.exponential(20 * np.exp(-0.3 * (x1 - 5)))).clip(1, 40)  # integer months: many ties
e = (rng.random(n) < 0.7).astype(int)
pd.DataFrame({"sample": [f"F{i:02d}" for i in range(n)], "time": t, "event": e, "x1": x1.round(6), "x2": x2.round(6)}).to_csv("tests/golden/survival/fixture.tsv", sep="\t", index=False)

d = "../shared/datasets/gse1992_unc_hu2006_survjamda"
expr, _ = harmonize(read_matrix(f"{d}/expression.tsv.gz"), "symbol")
ss = score(expr, load_signatures("config/signatures/self_seeding.tsv"), "zscore").scores
clin = read_clinical(f"{d}/clinical.tsv")
out = pd.DataFrame({"sample": ss.index, "ss": ss["SS"].round(10).to_numpy(), "ss_attraction": ss["SS_attraction"].round(10).to_numpy(), "time": clin.loc[ss.index, "time"].to_numpy(), "event": clin.loc[ss.index, "event"].to_numpy()})
out.to_csv("tests/golden/survival/gse1992_ss.tsv", sep="\t", index=False)
