"""Write fixture.tsv, the synthetic input of the curve goldens (run from the repository root: no other input).

80 samples, deterministic (numpy default_rng(1992)):
- time: whole months 1..60 (many ties, events and censorings at the same time), plus one near-tie
  (12 + 1e-9, which R's survival merges with 12: `aeqSurv`, timefix=TRUE);
- site: first relapse site lung / bone / brain / liver, or '' (censored); event = 1 when a site is given;
  the longest time is an event, so the pooled curve drops to 0 (confidence limits NA);
- score: 2 decimals (ties, some at the quantiles), one NA (that sample has no group).
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(1992)
n = 80
score = np.round(rng.normal(0.0, 1.0, n), 2)
score[[5, 6]] = score[7]  # a tie of three
rate = 0.04 * np.exp(0.5 * score)
t_event = rng.exponential(1.0 / rate)
t_cens = rng.uniform(6, 70, n)
time = np.ceil(np.minimum(t_event, t_cens)).clip(1, 60)
event = (t_event <= t_cens).astype(int)
site = np.where(event == 1, rng.choice(["lung", "bone", "brain", "liver"], n, p=[0.3, 0.35, 0.15, 0.2]), "")
time[int(np.argmax(time))] = 61.0
event[int(np.argmax(time))] = 1
site[int(np.argmax(time))] = "bone"
time[10], time[11] = 12.0, 12.0 + 1e-9  # near-tie: one time for R
score[20] = np.nan
out = pd.DataFrame(
    {
        "sample": [f"C{i + 1:02d}" for i in range(n)],
        "time": [f"{t:.17g}" for t in time],
        "event": event,
        "site": site,
        "score": [("NA" if np.isnan(s) else f"{s:.2f}") for s in score],
    }
)
out.to_csv("tests/golden/curves/fixture.tsv", sep="\t", index=False)
